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


def to_pdf_rect(page: Rect, box: Box) -> Rect:
    llx, lly, urx, ury = page
    if box.width <= 0 or box.height <= 0:
        raise Invalid.field("box", "区域的宽和高必须大于0")
    if (
        box.x < -TOLERANCE
        or box.y < -TOLERANCE
        or box.x + box.width > urx - llx + TOLERANCE
        or box.y + box.height > ury - lly + TOLERANCE
    ):
        raise Invalid.field("box", "区域超出了页面范围")
    left = llx + box.x
    top = ury - box.y
    return (left, top - box.height, left + box.width, top)
