"""Boxes on pages. The product (designer, controls, API) measures a box in PDF points from
the top-left corner of the page as it is displayed (the crop box, which is what pdfium
renders in previews); PDF itself measures from the bottom-left of user space."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import Invalid

Rect = tuple[float, float, float, float]  # llx, lly, urx, ury in PDF user space

TOLERANCE = 1.0  # points: designer rounding must not make an edge box fail


@dataclass(frozen=True)
class Box:
    """1-based page; x, y, width, height in points from the page's top-left corner."""

    page: int
    x: float
    y: float
    width: float
    height: float


def _inherited(page: Any, key: str) -> Any:
    node, depth = page, 0
    while node is not None and depth < 64:
        if key in node:
            return node[key]
        node = node.get("/Parent")
        node = node.get_object() if node is not None and hasattr(node, "get_object") else node
        depth += 1
    return None


def page_rect(page: Any) -> Rect:
    """The visible area of a page object (pyHanko or pypdf dictionary): crop box, else media box."""
    raw = _inherited(page, "/CropBox") or _inherited(page, "/MediaBox")
    if raw is None:
        return (0.0, 0.0, 595.0, 842.0)  # A4, as viewers assume
    values = [float(v.get_object() if hasattr(v, "get_object") else v) for v in raw]
    if len(values) != 4:
        raise Invalid("PDF页面尺寸异常", code="bad_page_size")
    x1, y1, x2, y2 = values
    return (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))


def page_rotation(page: Any) -> int:
    """/Rotate (inheritable), normalised to 0, 90, 180 or 270."""
    raw = _inherited(page, "/Rotate")
    try:
        value = int(raw.get_object() if hasattr(raw, "get_object") else raw or 0)
    except (TypeError, ValueError):
        return 0
    return value % 360 if value % 90 == 0 else 0


Matrix = tuple[float, float, float, float, float, float]


@dataclass(frozen=True)
class Placement:
    """Where a displayed box lands in user space, and the matrix that maps the box's own
    upright coordinates (0..width, 0..height, y up as displayed) onto the page."""

    rect: Rect
    matrix: Matrix


def place(page: Rect, box: Box, rotation: int = 0) -> Placement:
    llx, lly, urx, ury = page
    shown_w, shown_h = (ury - lly, urx - llx) if rotation in (90, 270) else (urx - llx, ury - lly)
    if box.width <= 0 or box.height <= 0:
        raise Invalid.field("box", "区域的宽和高必须大于0")
    if (
        box.x < -TOLERANCE
        or box.y < -TOLERANCE
        or box.x + box.width > shown_w + TOLERANCE
        or box.y + box.height > shown_h + TOLERANCE
    ):
        raise Invalid.field("box", "区域超出了页面范围")
    x, y, w, h = box.x, box.y, box.width, box.height
    # The viewer turns user space clockwise by `rotation`; these follow the displayed
    # top-left corner and axes back into user space for each case.
    if rotation == 90:
        return Placement((llx + y, lly + x, llx + y + h, lly + x + w), (0, 1, -1, 0, llx + y + h, lly + x))
    if rotation == 180:
        return Placement((urx - x - w, lly + y, urx - x, lly + y + h), (-1, 0, 0, -1, urx - x, lly + y + h))
    if rotation == 270:
        return Placement((urx - y - h, ury - x - w, urx - y, ury - x), (0, -1, 1, 0, urx - y - h, ury - x))
    return Placement((llx + x, ury - y - h, llx + x + w, ury - y), (1, 0, 0, 1, llx + x, ury - y - h))


def to_pdf_rect(page: Rect, box: Box, rotation: int = 0) -> Rect:
    return place(page, box, rotation).rect
