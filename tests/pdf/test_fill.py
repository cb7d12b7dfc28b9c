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


def test_tall_box_wraps_at_a_readable_size() -> None:
    sentence = "本合同一式两份，甲乙双方各执一份，自双方签署之日起生效，具有同等法律效力。"
    fitted = layout_text(sentence, 260, 60)
    assert len(fitted.lines) > 1 and fitted.size > 8


def _rotated(rotation: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf())))
    writer.pages[0].rotate(rotation)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _ink_box(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    region = image.crop(box).convert("L").point(lambda v: 255 if v < 128 else 0)
    return region.getbbox()


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_rotated_pages_get_upright_content_where_the_box_is_displayed(rotation: int) -> None:
    from .factory import handwriting_png

    items = [
        FillItem(1, 60, 60, 300, 30, text="甲方：广州测试科技有限公司"),
        FillItem(1, 60, 200, 200, 80, image_png=handwriting_png()),
    ]
    image = _page_image(fill_pdf(_rotated(rotation), items))
    text_ink = _ink_box(image, (60, 60, 360, 90))
    assert text_ink is not None, "the text is inside its displayed box"
    assert text_ink[2] - text_ink[0] > 3 * (text_ink[3] - text_ink[1]), "and reads horizontally"
    sig_ink = _ink_box(image, (60, 200, 260, 280))
    assert sig_ink is not None and sig_ink[2] - sig_ink[0] > sig_ink[3] - sig_ink[1]
