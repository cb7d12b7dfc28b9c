"""Filling a contract's controls before anyone signs: Chinese text and images (seals,
handwritten signatures) drawn into the page content with reportlab and merged with pypdf.

Text uses WenQuanYi Micro Hei embedded as a subset (see fonts.py), so it is extractable
and renders as real glyphs everywhere. Filling rewrites the file, which would break any
signature already in it; a signed document is therefore refused here (later marks go in
with the signature's own incremental update, see signing.py)."""

from __future__ import annotations

import io
import uuid
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import Invalid, UnsupportedType
from .fonts import reportlab_font
from .geometry import Box, Placement, page_rect, page_rotation, place
from .imagecache import EncodedImage, encode_png

MAX_FONT_SIZE = 14.0
MIN_FONT_SIZE = 6.0
SIZE_STEP = 0.5
LEADING = 1.2  # line height as a multiple of the font size
PADDING = 1.5  # points between the box edge and the text


@dataclass(frozen=True)
class FillItem:
    """A box in PDF points from the page's top-left corner (1-based page), and what to put
    in it: text (Chinese allowed) or a PNG (seal, signature), kept in proportion and centred."""

    page: int
    x: float
    y: float
    width: float
    height: float
    text: str | None = None
    image_png: bytes | None = None
    label: str = ""  # the control's label, for error messages
    max_font_size: float = MAX_FONT_SIZE

    @property
    def box(self) -> Box:
        return Box(self.page, self.x, self.y, self.width, self.height)


@dataclass(frozen=True)
class TextLayout:
    size: float
    lines: list[str]


@lru_cache(maxsize=8192)
def _advance(ch: str) -> float:
    """Advance width of one character at 1 pt (reportlab's stringWidth is per call and slow)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return stringWidth(ch, reportlab_font(), 1.0)


def _width(text: str) -> float:
    return sum(_advance(ch) for ch in text)


def _wrap(text: str, size: float, width: float) -> list[str]:
    limit = width / size
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used = "", 0.0
        for ch in paragraph:
            advance = _advance(ch)
            if line and used + advance > limit:
                # Latin words break at the last space when there is one; CJK anywhere.
                cut = line.rfind(" ")
                if ch != " " and cut > 0 and line[cut + 1 :].isascii():
                    lines.append(line[:cut])
                    line = line[cut + 1 :] + ch
                else:
                    lines.append(line.rstrip())
                    line = ch.lstrip()
                used = _width(line)
            else:
                line += ch
                used += advance
        lines.append(line)
    return lines


def layout_text(text: str, width: float, height: float, max_size: float = MAX_FONT_SIZE) -> TextLayout:
    """The size and lines for text in a box. A one-line box (too low for two lines at the
    largest size) shrinks the text on one line down to MIN_FONT_SIZE, then wraps; a taller
    box takes the largest size at which the text fits, on one line or wrapped, so it gets
    readable wrapped text rather than one tiny line. Refuses text that does not fit even at
    the minimum: silently cutting a contract's content is worse than a clear error."""
    inner_w, inner_h = width - 2 * PADDING, height
    one_line = _width(text) if "\n" not in text else None
    start = min(max_size, inner_h / LEADING)
    multi_line_box = inner_h >= 2 * LEADING * max_size

    def sizes() -> list[float]:
        out, size = [], start
        while size >= MIN_FONT_SIZE - 1e-6:
            out.append(size)
            size -= SIZE_STEP
        return out

    def single(size: float) -> bool:
        return one_line is not None and one_line * size <= inner_w

    def wrapped(size: float) -> list[str] | None:
        lines = _wrap(text, size, inner_w)
        return lines if len(lines) * size * LEADING <= inner_h + 0.01 else None

    if not multi_line_box:
        for size in sizes():
            if single(size):
                return TextLayout(size, [text])
    for size in sizes():
        if multi_line_box and single(size):
            return TextLayout(size, [text])
        lines = wrapped(size)
        if lines is not None:
            return TextLayout(size, lines)
    raise OverflowError


def _draw_text(c: Any, item: FillItem, placement: Placement) -> None:
    text = (item.text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if not text.strip():
        return
    # Drawn in the box's own upright coordinates, mapped onto the (possibly rotated) page.
    left, bottom, right, top = 0.0, 0.0, item.width, item.height
    try:
        fitted = layout_text(text, right - left, top - bottom, item.max_font_size)
    except OverflowError:
        name = f"“{item.label}”" if item.label else ""
        raise Invalid.field(
            item.label or "text", f"{name}内容过长，超出了填写区域", code="text_too_long"
        ) from None
    leading = fitted.size * LEADING
    block = leading * len(fitted.lines)
    # Centre the block vertically; the baseline sits ~0.8 em below the line top (CJK fonts).
    first_baseline = top - (top - bottom - block) / 2 - (leading - fitted.size) / 2 - fitted.size * 0.86
    c.saveState()
    c.transform(*placement.matrix)
    c.setFont(reportlab_font(), fitted.size)
    for i, line in enumerate(fitted.lines):
        c.drawString(left + PADDING, first_baseline - i * leading, line)
    c.restoreState()


def _image_placement(item: FillItem, placement: Placement) -> tuple[EncodedImage, bytes]:
    """The image kept in proportion, centred and upright in its box, as a `cm` matrix."""
    image = encode_png(item.image_png or b"", "image_png")
    scale = min(item.width / image.width, item.height / image.height)
    w, h = image.width * scale, image.height * scale
    x0, y0 = (item.width - w) / 2, (item.height - h) / 2
    a, b, c, d, e, f = placement.matrix
    cm = (w * a, w * b, h * c, h * d, a * x0 + c * y0 + e, b * x0 + d * y0 + f)
    return image, b"%.4f %.4f %.4f %.4f %.4f %.4f cm" % cm


def _has_signatures(reader: Any) -> bool:
    try:
        form = reader.trailer["/Root"].get("/AcroForm")
        fields = form.get_object().get("/Fields", []) if form is not None else []
        for ref in fields:
            field = ref.get_object()
            if field.get("/FT") == "/Sig" and field.get("/V") is not None:
                return True
    except Exception:
        return False
    return False


def _image_xobject(writer: Any, image: EncodedImage) -> Any:
    from pypdf.generic import EncodedStreamObject, NameObject, NumberObject

    def stream(data: bytes, colour: str) -> Any:
        obj = EncodedStreamObject()
        obj._data = data  # already deflated (imagecache): pypdf writes it as is
        obj.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Image"),
                NameObject("/Width"): NumberObject(image.width),
                NameObject("/Height"): NumberObject(image.height),
                NameObject("/ColorSpace"): NameObject(colour),
                NameObject("/BitsPerComponent"): NumberObject(8),
                NameObject("/Filter"): NameObject("/FlateDecode"),
            }
        )
        return obj

    main = stream(image.rgb, "/DeviceRGB")
    if image.alpha is not None:
        main[NameObject("/SMask")] = writer._add_object(stream(image.alpha, "/DeviceGray"))
    return writer._add_object(main)


def _paint_over(
    writer: Any, target: Any, overlay_page: Any | None, images: list[tuple[EncodedImage, bytes]]
) -> None:
    """Paints the overlay page on top of the target as a form XObject, then the images.
    pypdf's merge_page parses and rewrites both content streams (~10 ms a page, most of a
    fill); wrapping the original content in q/Q and appending `Do`s leaves it untouched.
    Images skip reportlab, which would re-encode them for every document."""
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        FloatObject,
        NameObject,
    )

    tag = uuid.uuid4().hex[:10]
    painted: dict[NameObject, Any] = {}
    paint = b""
    if overlay_page is not None:
        form = DecodedStreamObject()
        form.set_data(overlay_page["/Contents"].get_object().get_data())
        form[NameObject("/Type")] = NameObject("/XObject")
        form[NameObject("/Subtype")] = NameObject("/Form")
        form[NameObject("/BBox")] = ArrayObject(FloatObject(float(v)) for v in overlay_page.mediabox)
        form[NameObject("/Resources")] = overlay_page["/Resources"].clone(writer)
        name = NameObject(f"/LSFill{tag}")
        painted[name] = writer._add_object(form.flate_encode())
        paint += b"q " + name.encode() + b" Do Q\n"
    for index, (image, matrix) in enumerate(images):
        name = NameObject(f"/LSImg{tag}n{index}")
        painted[name] = _image_xobject(writer, image)
        paint += b"q " + matrix + b" " + name.encode() + b" Do Q\n"

    # The page already belongs to the writer (clone_from): extend its resources in place
    # (names are unique, so a dictionary shared with other pages is harmless to extend);
    # cloning them again would copy every font and image the page uses.
    inherited = target.get_inherited("/Resources", None)
    resources = DictionaryObject() if inherited is None else inherited.get_object()
    if "/Resources" not in target:
        resources = DictionaryObject(resources)  # inherited from the page tree: this page only
        target[NameObject("/Resources")] = resources
    xobjects: Any = resources.get("/XObject")
    if xobjects is None:
        xobjects = DictionaryObject()
        resources[NameObject("/XObject")] = xobjects
    xobjects.get_object().update(painted)

    contents = target.get("/Contents")
    parts = []
    if contents is not None:
        resolved = contents.get_object()
        parts = list(resolved) if isinstance(resolved, ArrayObject) else [contents]
    before, after = DecodedStreamObject(), DecodedStreamObject()
    before.set_data(b"q\n")
    after.set_data(b"\nQ\n" + paint)
    target[NameObject("/Contents")] = ArrayObject(
        [writer._add_object(before), *parts, writer._add_object(after)]
    )


def fill_pdf(data: bytes, items: list[FillItem]) -> bytes:
    """Draws every item into its page's content; returns a new file (not an increment)."""
    if not items:
        return data
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen import canvas

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise Invalid("PDF已加密，无法填写", code="pdf_encrypted")
        page_count = len(reader.pages)
    except Invalid:
        raise
    except Exception as exc:
        raise UnsupportedType("文件已损坏或不是有效的PDF", "not_pdf") from exc
    if _has_signatures(reader):
        raise Invalid("文件已有签名，不能再改写内容", code="already_signed")

    by_page: dict[int, list[FillItem]] = defaultdict(list)
    for item in items:
        if not 1 <= item.page <= page_count:
            raise Invalid.field(item.label or "page", f"第{item.page}页不存在")
        if not item.text and not item.image_png:
            continue
        by_page[item.page].append(item)
    if not by_page:
        return data

    # One overlay page per page with text, drawn in that page's own user space; images are
    # placed afterwards as pre-encoded XObjects.
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pageCompression=1)
    order = sorted(by_page)
    overlay_index: dict[int, int] = {}
    images: dict[int, list[tuple[EncodedImage, bytes]]] = defaultdict(list)
    for number in order:
        page = reader.pages[number - 1]
        prect, rotation = page_rect(page), page_rotation(page)
        texts = []
        for item in by_page[number]:
            placement = place(prect, item.box, rotation)
            if item.image_png:
                images[number].append(_image_placement(item, placement))
            else:
                texts.append((item, placement))
        if texts:
            c.setPageSize((max(prect[2], 1.0), max(prect[3], 1.0)))
            for item, rect in texts:
                _draw_text(c, item, rect)
            c.showPage()
            overlay_index[number] = len(overlay_index)
    overlay = None
    if overlay_index:
        c.save()
        overlay = PdfReader(io.BytesIO(buf.getvalue()))
    writer = PdfWriter(clone_from=reader)
    for number in order:
        overlay_page = (
            overlay.pages[overlay_index[number]] if overlay is not None and number in overlay_index else None
        )
        _paint_over(writer, writer.pages[number - 1], overlay_page, images[number])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
