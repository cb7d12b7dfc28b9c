"""A template filled with sample values (the designer's 预览): every control gets a value a
real launch could carry (张三, an 18-digit ID number, this year's dates …), turned into text
the way a contract's are (`parse_control_value`, `display_value`), and each is measured with
the fill's own layout to tell HR which boxes are too small for what will go in them."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from .contracts import display_value, parse_control_value
from .controls import Control, ControlKind
from .errors import Invalid
from .labor_law import add_months
from .pdf.fill import MAX_FONT_SIZE, layout_text
from .pdf.fonts import pil_font
from .pdf.seals import draw_round_seal
from .pdf.stamps import Stamp

# Below 小五 (9 pt) filled text no longer reads like the contract's own body text (10.5 pt):
# the fill would have shrunk it to fit, which is the box being too small for its content.
READABLE_SIZE = 9.0

SAMPLE_WORKER = "张三"
SAMPLE_ENTERPRISE = "广州示例科技有限公司"
SAMPLE_CREDIT_CODE = "91440106MA59C8XB2K"

# By field code: the roster's worker facts and the term's facts (core.labor_law keys).
_BY_KEY: dict[str, str] = {
    "worker_name": SAMPLE_WORKER,
    "worker_id_number": "11010519491231002X",
    "worker_phone": "13800138000",
    "worker_address": "广东省广州市天河区珠江新城华夏路10号",
    "worker_gender": "男",
    "worker_department": "生产部",
    "enterprise_address": "广州市天河区天河路385号",
    "enterprise_legal_rep": "李四",
    "monthly_wage": "5000.00",
    "wage": "5000.00",
    "salary": "5000.00",
    "probation_wage": "4000.00",
    "probation_months": "6",
    "pay_day": "15",
    "position": "普工",
    "work_place": "广州市天河区",
}
_BY_KIND = {ControlKind.TEXT: "示例内容", ControlKind.NUMBER: "100"}


@dataclass(frozen=True)
class Overflow:
    key: str
    label: str
    page: int  # in the previewed document (the template's files one after another)
    text: str
    message: str


@dataclass(frozen=True)
class Preview:
    stamps: list[Stamp]
    values: dict[str, str]  # field code → the text drawn
    overflows: list[Overflow]


def _dates(today: date) -> dict[str, str]:
    end = add_months(today, 36) - timedelta(days=1)
    return {
        "contract_start_date": today.isoformat(),
        "start_date": today.isoformat(),
        "contract_end_date": end.isoformat(),
        "end_date": end.isoformat(),
        "probation_end_date": (add_months(today, 6) - timedelta(days=1)).isoformat(),
        "worker_birth_date": "1990-03-07",
    }


def sample_raw(control: Control, today: date, enterprise: tuple[str, str]) -> str:
    """What HR or the roster would put in this control, as the launch receives it."""
    kind, key = control.kind, control.key
    if kind == ControlKind.CHOICE:
        return (control.options or ("选项",))[0]
    if kind in (ControlKind.DATE, ControlKind.SIGN_DATE):
        return _dates(today).get(key, today.isoformat())
    by_key = {**_BY_KEY, "enterprise_name": enterprise[0], "enterprise_credit_code": enterprise[1]}
    if key in by_key:
        return by_key[key]
    if key.startswith("worker_") and "name" in key:
        return SAMPLE_WORKER
    return _BY_KIND.get(kind, "示例内容")


def measure(text: str, width: float, height: float) -> tuple[float | None, str]:
    """The size the fill would draw `text` at in this box (None: it would refuse it), and
    HR's message when that is below READABLE_SIZE; "" when it fits."""
    try:
        size = layout_text(text, width, height, MAX_FONT_SIZE).size
    except OverflowError:
        return None, "放不下，发起时会被拒绝，请把放置框拉宽或拉高"
    if size < READABLE_SIZE:
        return size, f"要缩小到{size:g}磅才放得下，请把放置框拉宽"
    return size, ""


@lru_cache(maxsize=1)
def sample_signature_png() -> bytes:
    """张三 written in black on a transparent ground, standing in for a handwritten name."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    ImageDraw.Draw(img).text((150, 60), SAMPLE_WORKER, font=pil_font(84), fill=(20, 20, 20, 255), anchor="mm")
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def build_preview(controls: list[Control], today: date, enterprise: tuple[str, str] | None) -> Preview:
    """Stamps for every control (controls' pages already in the previewed document's
    numbering). A value the fill could not place at all is left out of the stamps (the fill
    would refuse the whole document) and reported, like one it would shrink too far."""
    who = enterprise or (SAMPLE_ENTERPRISE, SAMPLE_CREDIT_CODE)
    stamps: list[Stamp] = []
    values: dict[str, str] = {}
    overflows: list[Overflow] = []
    for c in controls:
        if c.kind == ControlKind.SIGNATURE:
            stamps.append(Stamp(*c.box, image_png=sample_signature_png()))
            continue
        if c.kind == ControlKind.SEAL:
            stamps.append(Stamp(*c.box, image_png=draw_round_seal(who[0])))
            continue
        try:
            parsed = parse_control_value(c, sample_raw(c, today, who), required=True)
        except Invalid:
            parsed = None  # e.g. a choice whose options were never filled in
        if parsed is None:
            continue
        text = display_value(c, parsed)
        values[c.key] = text
        size, problem = measure(text, c.width, c.height)
        if problem:
            overflows.append(Overflow(c.key, c.label, c.page, text,
                                      f"“{c.label}”的内容超出了放置框：示例“{text}”{problem}"))  # fmt: skip
        if size is not None:
            stamps.append(Stamp(*c.box, text=text))
    return Preview(stamps, values, overflows)
