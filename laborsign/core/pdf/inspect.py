"""Checking an uploaded PDF before anything else touches it: a real, readable, unencrypted
PDF within the size and page limits, with its page sizes as displayed.

This is a trust boundary: whatever a hostile file makes the parsers do, only domain errors
(with a Chinese message) come out. Run it in a worker process (`PdfWorkers.inspect`) so a
pathological file costs a worker's time, not the event loop's."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from ..errors import Invalid, TooLarge, UnsupportedType
from .geometry import page_rect, page_rotation

MAX_PDF_BYTES = 20 * 1024 * 1024
MAX_PAGES = 100
MIN_SIDE, MAX_SIDE = 36.0, 14400.0  # points: half an inch to the PDF maximum (200 in)

NOT_PDF = "文件不是有效的PDF，请上传PDF格式的文件"
DAMAGED = "文件已损坏或不是有效的PDF"


@dataclass(frozen=True)
class PageSize:
    """Points, as displayed (after /Rotate)."""

    width: float
    height: float


@dataclass(frozen=True)
class PdfInfo:
    pages: list[PageSize]
    sha256: str
    size: int

    @property
    def page_count(self) -> int:
        return len(self.pages)


def inspect_pdf(data: bytes, *, max_bytes: int = MAX_PDF_BYTES, max_pages: int = MAX_PAGES) -> PdfInfo:
    if len(data) > max_bytes:
        raise TooLarge(f"PDF文件不能超过{max_bytes // (1024 * 1024)}MB", "pdf_too_large")
    if not data:
        raise UnsupportedType("文件是空的，请上传PDF文件", "empty_file")
    # The header may follow a little junk (the spec tolerates it, so do viewers).
    if b"%PDF-" not in data[:1024]:
        raise UnsupportedType(NOT_PDF, "not_pdf")
    if b"%%EOF" not in data[-4096:]:
        raise UnsupportedType("文件不完整（可能上传中断），请重新上传", "pdf_truncated")
    try:
        pages = _pages(data, max_pages)
    except (Invalid, UnsupportedType, TooLarge):
        raise
    except Exception:  # trust boundary: parser errors of every kind mean "damaged"
        raise UnsupportedType(DAMAGED, "pdf_damaged") from None
    _check_with_pdfium(data, len(pages), max_pages)
    return PdfInfo(pages, hashlib.sha256(data).hexdigest(), len(data))


def _pages(data: bytes, max_pages: int) -> list[PageSize]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        raise Invalid.field("file", "PDF已加密，请上传未加密的文件", code="pdf_encrypted")
    count = len(reader.pages)
    if count == 0:
        raise UnsupportedType("PDF文件没有页面", "pdf_no_pages")
    if count > max_pages:
        raise Invalid.field("file", f"PDF页数不能超过{max_pages}页（当前{count}页）", code="too_many_pages")
    out = []
    for page in reader.pages:
        llx, lly, urx, ury = page_rect(page)
        width, height = urx - llx, ury - lly
        if page_rotation(page) in (90, 270):
            width, height = height, width
        if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
            raise Invalid.field("file", "PDF页面尺寸异常", code="bad_page_size")
        out.append(PageSize(round(width, 2), round(height, 2)))
    return out


def _check_with_pdfium(data: bytes, expected_pages: int, max_pages: int) -> None:
    """pypdf is lenient; previews and viewers use pdfium, which must open the file too."""
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise Invalid.field("file", "PDF已加密，请上传未加密的文件", code="pdf_encrypted") from None
        raise UnsupportedType(DAMAGED, "pdf_damaged") from None
    try:
        count = len(doc)
        if count > max_pages:  # pdfium believes a page tree's /Count; pypdf counts the leaves
            raise Invalid.field("file", f"PDF页数不能超过{max_pages}页", code="too_many_pages")
        if count != expected_pages:
            raise UnsupportedType(DAMAGED, "pdf_damaged")
    finally:
        doc.close()
