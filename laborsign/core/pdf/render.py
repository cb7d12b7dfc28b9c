"""Page previews with pdfium. Forms are initialised and drawn, so signature appearances
(widget annotations) show in the preview as they do in a viewer."""

from __future__ import annotations

import io

from ..errors import Invalid, UnsupportedType

MAX_SCALE = 4.0
MAX_PIXELS = 24_000_000  # a preview bitmap beyond this is a mistake or an attack


def render_page_png(data: bytes, page_number: int, scale: float = 1.0, *, compress_level: int = 1) -> bytes:
    """PNG of one page (1-based); scale 1 = 72 dpi. Compress level 1: PNG encoding otherwise
    dominates (MEASURED: ~16 ms a page at scale 1)."""
    import pypdfium2 as pdfium

    if not 0.05 <= scale <= MAX_SCALE:
        raise Invalid.field("scale", f"缩放比例应在0.05到{MAX_SCALE:g}之间")
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        raise UnsupportedType("文件已损坏或不是有效的PDF", "not_pdf") from None
    try:
        if not 1 <= page_number <= len(doc):
            raise Invalid.field("page", f"第{page_number}页不存在")
        doc.init_forms()
        page = doc[page_number - 1]
        width, height = page.get_size()
        if width * height * scale * scale > MAX_PIXELS:
            scale = (MAX_PIXELS / (width * height)) ** 0.5
        bitmap = page.render(scale=scale, may_draw_forms=True)
        out = io.BytesIO()
        bitmap.to_pil().save(out, format="PNG", compress_level=compress_level)
        return out.getvalue()
    except pdfium.PdfiumError:
        raise UnsupportedType("文件已损坏，无法生成预览", "not_pdf") from None
    finally:
        doc.close()
