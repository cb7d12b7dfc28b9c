"""The designer's 预览 over HTTP: the template filled with sample values by the contracts' own
fill, and the boxes too small for what will go in them."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from laborsign.core.clock import FakeClock
from tests.conftest import Api
from tests.pdfs import make_pdf
from tests.test_templates import upload

A4_HEIGHT = 841.89

CONTROLS = [
    {"key": "worker_name", "label": "乙方姓名", "kind": "text", "file": 0, "page": 1, "x": 100, "y": 200,
     "width": 160, "height": 20, "required": True, "filled_by": "initiator"},
    {"key": "worker_id_number", "label": "身份证号码", "kind": "text", "file": 0, "page": 1, "x": 100,
     "y": 240, "width": 200, "height": 20, "required": True, "filled_by": "initiator"},
    {"key": "contract_start_date", "label": "合同开始日期", "kind": "date", "file": 0, "page": 1, "x": 100,
     "y": 280, "width": 120, "height": 20, "required": True, "filled_by": "initiator"},
    # Too narrow for 5000 at a readable size: the fill would shrink it to fit.
    {"key": "monthly_wage", "label": "月工资（元）", "kind": "number", "file": 0, "page": 1, "x": 100,
     "y": 320, "width": 22, "height": 20, "required": True, "filled_by": "initiator"},
    {"key": "worker_sign", "label": "乙方签名", "kind": "signature", "file": 1, "page": 1, "x": 300,
     "y": 650, "width": 150, "height": 60, "required": True, "filled_by": "worker"},
    {"key": "company_seal", "label": "甲方盖章", "kind": "seal", "file": 1, "page": 1, "x": 80, "y": 620,
     "width": 120, "height": 120, "required": True, "filled_by": "enterprise"},
]  # fmt: skip


def text_at(pdf: bytes) -> list[tuple[int, str, float, float]]:
    """Every piece of text in the file with its page and position (points from the top-left)."""
    found: list[tuple[int, str, float, float]] = []
    for number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages, start=1):

        def visit(text: str, cm: Any, tm: Any, font: Any, size: Any, number: int = number) -> None:
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                found.append((number, text.strip(), x, A4_HEIGHT - y))

        page.extract_text(visitor_text=visit)
    return found


def inside(found: list[tuple[int, str, float, float]], text: str, control: dict[str, Any], page: int) -> bool:
    return any(
        p == page and text in t and control["x"] <= x <= control["x"] + control["width"]
        and control["y"] <= y <= control["y"] + control["height"]
        for p, t, x, y in found
    )  # fmt: skip


async def test_preview_fills_samples_and_flags_small_boxes(api: Api, make_api: Any, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    template = await upload(api, files=[make_pdf(1), make_pdf(1)])
    tid = template["id"]
    await api.call("PUT", f"/api/v1/templates/{tid}/controls", {"controls": CONTROLS}, expect=200)

    plan = await api.get(f"/api/v1/templates/{tid}/preview")
    assert [(p["page"], p["file"]) for p in plan["pages"]] == [(1, 0), (2, 1)]
    values = plan["values"]
    assert values["worker_name"] == "张三"
    assert len(values["worker_id_number"]) == 18
    assert values["contract_start_date"].endswith("日") and "年" in values["contract_start_date"]
    assert values["monthly_wage"] == "5000"
    assert [o["key"] for o in plan["overflows"]] == ["monthly_wage"]
    assert "月工资（元）”的内容超出了放置框" in plan["overflows"][0]["message"]

    pdf = await api.get(f"/api/v1/templates/{tid}/preview.pdf")
    assert api.last_response.content_type == "application/pdf" and pdf.startswith(b"%PDF")
    found = text_at(pdf)
    by_key = {c["key"]: c for c in CONTROLS}
    for key in ("worker_name", "worker_id_number", "contract_start_date", "monthly_wage"):
        assert inside(found, values[key], by_key[key], 1), (key, values[key], found)
    assert any(t.startswith("Labor contract - page 1") for _, t, _, _ in found), (
        "the template's own text stays"
    )
    # The second file's seal carries the enterprise's name: it is page 2 of the preview.
    png = await api.get(f"/api/v1/templates/{tid}/preview/pages/2.png")
    assert png.startswith(b"\x89PNG")
    await api.get(f"/api/v1/templates/{tid}/preview/pages/3.png", expect=404)

    # Widening the box clears the warning.
    wider = [{**c, "width": 90} if c["key"] == "monthly_wage" else c for c in CONTROLS]
    await api.call("PUT", f"/api/v1/templates/{tid}/controls", {"controls": wider}, expect=200)
    assert (await api.get(f"/api/v1/templates/{tid}/preview"))["overflows"] == []

    other = await make_api()
    await other.register_enterprise(clock, phone="13700137000", name="广州别家科技有限公司",
                                    credit_code="91440101MA59ABCD0A")  # fmt: skip
    for path in ("preview", "preview.pdf", "preview/pages/1.png"):
        refused = await other.get(f"/api/v1/templates/{tid}/{path}", expect=404)
        assert refused["error"] == "template_not_found"
