from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from PIL import Image
from pypdf import PdfReader

from laborsign.core.errors import Invalid
from laborsign.core.pdf.fill import FillItem, fill_pdf, layout_text
from laborsign.core.pdf.seals import draw_round_seal

from .factory import make_pdf


def _page_image(data: bytes, page: int = 1) -> Image.Image:
    doc = pdfium.PdfDocument(data)
    try:
        return doc[page - 1].render(scale=1).to_pil().convert("RGB")
    finally:
        doc.close()


def test_chinese_text_is_extractable_and_drawn() -> None:
    filled = fill_pdf(make_pdf(2), [FillItem(2, 100, 200, 200, 24, text="劳动者：张三，月工资伍仟元整")])
    reader = PdfReader(io.BytesIO(filled))
    assert "劳动者：张三，月工资伍仟元整" in reader.pages[1].extract_text()
    assert b"/FontFile2" in filled, "the TrueType subset is embedded"
    box = _page_image(filled, 2).crop((100, 200, 300, 224)).convert("L")
    assert box.getextrema()[0] < 100, "glyphs are drawn (an unembedded CJK font renders nothing)"
    outside = _page_image(filled, 2).crop((100, 260, 300, 300)).convert("L")
    assert outside.getextrema()[0] > 200


def test_ten_controls_on_one_page() -> None:
    items = [FillItem(1, 72, 120 + i * 30, 220, 22, text=f"字段{i}：广州市天河区") for i in range(10)]
    text = PdfReader(io.BytesIO(fill_pdf(make_pdf(), items))).pages[0].extract_text()
    assert all(f"字段{i}：广州市天河区" in text for i in range(10))


def test_long_text_shrinks_then_wraps() -> None:
    short = layout_text("张三", 200, 24)
    assert short.lines == ["张三"] and short.size == pytest.approx(14)
    longer = layout_text("广州市天河区珠江新城华夏路十号", 120, 24)
    assert len(longer.lines) == 1 and 6 <= longer.size < 14
    wrapped = layout_text(
        "本合同一式两份，甲乙双方各执一份，自双方签署之日起生效，具有同等法律效力。", 120, 60
    )
    assert len(wrapped.lines) > 1 and wrapped.size >= 6
    assert (
        "".join(wrapped.lines) == "本合同一式两份，甲乙双方各执一份，自双方签署之日起生效，具有同等法律效力。"
    )


def test_text_too_long_for_its_box_is_refused_not_cut() -> None:
    with pytest.raises(Invalid) as caught:
        fill_pdf(make_pdf(), [FillItem(1, 72, 72, 40, 10, text="很长" * 50, label="工作地点")])
    assert "工作地点" in caught.value.message


def test_image_keeps_its_proportions_and_centre() -> None:
    seal = draw_round_seal("广州测试科技有限公司", "合同专用章")
    filled = fill_pdf(make_pdf(), [FillItem(1, 100, 300, 300, 100, image_png=seal)])
    image = _page_image(filled)
    red = [(x, y) for y in range(300, 400) for x in range(100, 400) if _is_red(image.getpixel((x, y)))]
    xs = [x for x, _ in red]
    assert min(xs) >= 195 and max(xs) <= 305, "a round seal in a wide box stays round and centred"


def _is_red(pixel: tuple[int, int, int]) -> bool:
    r, g, b = pixel
    return r > 180 and g < 100 and b < 100


def test_boxes_are_checked() -> None:
    with pytest.raises(Invalid):
        fill_pdf(make_pdf(), [FillItem(3, 10, 10, 10, 10, text="x")])
    with pytest.raises(Invalid):
        fill_pdf(make_pdf(), [FillItem(1, 500, 10, 200, 10, text="x")])


def test_signed_documents_are_not_rewritten(platform_ca) -> None:  # type: ignore[no-untyped-def]
    from laborsign.core.pdf.signing import sign_pdf

    signed = sign_pdf(make_pdf(), credentials=platform_ca.issue_signer("张三", "1", "person"),
                      field_name="w", timestamper=platform_ca.tsa())  # fmt: skip
    with pytest.raises(Invalid):
        fill_pdf(signed, [FillItem(1, 10, 10, 100, 20, text="改动")])
