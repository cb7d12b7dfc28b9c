"""Marks a signing party adds to an already-signed document: its own field values, its
handwritten signature or seal images and the signing date.

They are added as print-visible stamp annotations in the incremental update that also holds
the party's signature (so the signature that makes them covers them), never by rewriting page
content: the signatures already in the file stay intact and validators classify the change
as an annotation (allowed after approval signatures)."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from .imagecache import encode_png

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
)
FONT_NAME = "LaborSignCJK"
MIN_FONT = 6.0
MAX_FONT = 12.0


@dataclass(frozen=True)
class Stamp:
    """A box in PDF points measured from the page's top-left corner (1-based page)."""

    page: int
    x: float
    y: float
    width: float
    height: float
    text: str | None = None
    image_png: bytes | None = None


@lru_cache(maxsize=1)
def register_cjk_font(path: str | None = None) -> str:
    """Registers WenQuanYi Micro Hei once per process; reportlab embeds a subset per file."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for candidate in (path, *FONT_CANDIDATES):
        if candidate and Path(candidate).exists():
            pdfmetrics.registerFont(TTFont(FONT_NAME, candidate, subfontIndex=0))
            return FONT_NAME
    raise RuntimeError("Chinese font not found: install the Debian package fonts-wqy-microhei")


def fit_text(text: str, width: float, height: float, font: str) -> tuple[float, list[str]]:
    """Largest size ≤ MAX_FONT at which the text fits on one line; below MIN_FONT, wrap."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    size = min(MAX_FONT, height * 0.8)
    while size > MIN_FONT and stringWidth(text, font, size) > width - 2:
        size -= 0.5
    if stringWidth(text, font, size) <= width - 2:
        return size, [text]
    size = MIN_FONT
    lines: list[str] = []
    line = ""
    for ch in text:
        if stringWidth(line + ch, font, size) > width - 2 and line:
            lines.append(line)
            line = ch
        else:
            line += ch
    lines.append(line)
    max_lines = max(1, int(height // (size * 1.15)))
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    return size, lines


def draw_overlay(stamps: list[Stamp]) -> bytes:
    """One page per stamp, sized to its box: imported as the stamp's appearance."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    font = register_cjk_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for s in stamps:
        c.setPageSize((s.width, s.height))
        if s.image_png is not None:
            image = ImageReader(io.BytesIO(s.image_png))
            iw, ih = image.getSize()
            scale = min(s.width / iw, s.height / ih)
            w, h = iw * scale, ih * scale
            c.drawImage(image, (s.width - w) / 2, (s.height - h) / 2, w, h, mask="auto")
        elif s.text:
            size, lines = fit_text(s.text, s.width, s.height, font)
            c.setFont(font, size)
            leading = size * 1.15
            top = (s.height + leading * len(lines)) / 2 - size * 0.95
            for i, line in enumerate(lines):
                c.drawString(1, top - i * leading, line)
        c.showPage()
    c.save()
    return buf.getvalue()


def _image_appearance(writer: IncrementalPdfFileWriter, s: Stamp) -> generic.IndirectObject:
    """The image as a form XObject fitted (aspect kept, centred) into the stamp's box. The PNG
    is decoded and deflated once per process (imagecache): the same seal goes into many
    contracts, and re-encoding it through reportlab cost several times the signature."""
    assert s.image_png is not None
    enc = encode_png(s.image_png)

    def image_stream(colour: str, data: bytes) -> generic.StreamObject:
        return generic.StreamObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/Image"),
                generic.pdf_name("/Width"): generic.NumberObject(enc.width),
                generic.pdf_name("/Height"): generic.NumberObject(enc.height),
                generic.pdf_name("/ColorSpace"): generic.pdf_name(colour),
                generic.pdf_name("/BitsPerComponent"): generic.NumberObject(8),
                generic.pdf_name("/Filter"): generic.pdf_name("/FlateDecode"),
            },
            encoded_data=data,
        )

    image = image_stream("/DeviceRGB", enc.rgb)
    if enc.alpha is not None:
        image[generic.pdf_name("/SMask")] = writer.add_object(image_stream("/DeviceGray", enc.alpha))
    scale = min(s.width / enc.width, s.height / enc.height)
    w, h = enc.width * scale, enc.height * scale
    x, y = (s.width - w) / 2, (s.height - h) / 2
    form = generic.StreamObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
            generic.pdf_name("/Subtype"): generic.pdf_name("/Form"),
            generic.pdf_name("/BBox"): generic.ArrayObject(
                [
                    generic.FloatObject(0),
                    generic.FloatObject(0),
                    generic.FloatObject(s.width),
                    generic.FloatObject(s.height),
                ]
            ),
            generic.pdf_name("/Resources"): generic.DictionaryObject(
                {
                    generic.pdf_name("/XObject"): generic.DictionaryObject(
                        {generic.pdf_name("/Im0"): writer.add_object(image)}
                    )
                }
            ),
        },
        stream_data=f"q {w:.3f} 0 0 {h:.3f} {x:.3f} {y:.3f} cm /Im0 Do Q".encode(),
    )
    return writer.add_object(form)


def add_stamps(data: bytes, stamps: list[Stamp]) -> bytes:
    """The marks in an incremental update of their own (a party's signature instead puts them
    into its own revision: `signing.sign_pdf(stamps=...)`)."""
    if not stamps:
        return data
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    stamp_into(writer, stamps)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _text_appearances(writer: IncrementalPdfFileWriter, texts: list[Stamp]) -> list[generic.IndirectObject]:
    """Form XObjects for the text marks, from one reportlab overlay (a page per mark). All its
    pages share one font dictionary (the CJK subset): it is imported once and every form
    refers to it, instead of importing each overlay page with its own copy."""
    overlay = PdfFileReader(io.BytesIO(draw_overlay(texts)))
    fonts: generic.PdfObject | None = None
    forms = []
    for index, s in enumerate(texts):
        page = overlay.find_page_for_modification(index)[0].get_object()
        if fonts is None:
            fonts = writer.import_object(page["/Resources"].raw_get("/Font"))
        form = generic.StreamObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/Form"),
                generic.pdf_name("/BBox"): generic.ArrayObject(
                    [generic.FloatObject(v) for v in (0, 0, s.width, s.height)]
                ),
                generic.pdf_name("/Resources"): generic.DictionaryObject({generic.pdf_name("/Font"): fonts}),
            },
            stream_data=page["/Contents"].data,
        )
        form.compress()
        forms.append(writer.add_object(form))
    return forms


def stamp_into(writer: IncrementalPdfFileWriter, stamps: list[Stamp]) -> None:
    """Registers the marks as annotations in the revision `writer` is preparing."""
    texts = [s for s in stamps if s.image_png is None]
    text_forms = iter(_text_appearances(writer, texts) if texts else [])
    pages: dict[int, tuple[generic.IndirectObject, list[float]]] = {}
    for s in stamps:
        if s.page not in pages:  # each lookup walks the page tree
            page_ref, _ = writer.find_page_for_modification(s.page - 1)
            pages[s.page] = (page_ref, [float(v) for v in page_ref.get_object()["/MediaBox"]])
        page_ref, box = pages[s.page]
        left, top = box[0] + s.x, box[3] - s.y
        appearance = _image_appearance(writer, s) if s.image_png is not None else next(text_forms)
        annot = generic.DictionaryObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/Stamp"),
                generic.pdf_name("/Rect"): generic.ArrayObject(
                    [generic.FloatObject(v) for v in (left, top - s.height, left + s.width, top)]
                ),
                # Print (4) + ReadOnly (64) + Locked (128): shown and printed, not editable.
                generic.pdf_name("/F"): generic.NumberObject(4 | 64 | 128),
                generic.pdf_name("/NM"): generic.TextStringObject(uuid.uuid4().hex),
                generic.pdf_name("/AP"): generic.DictionaryObject({generic.pdf_name("/N"): appearance}),
            }
        )
        writer.register_annotation(page_ref, writer.add_object(annot))


def flatten_stamps(data: bytes, stamps: list[Stamp]) -> bytes:
    """Draws the marks into the page content. Only for documents not yet signed (initiation):
    the text then belongs to the page and is extractable like the rest of the contract."""
    if not stamps:
        return data
    from pypdf import PdfReader, PdfWriter, Transformation

    overlay = PdfReader(io.BytesIO(draw_overlay(stamps)))
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    for index, s in enumerate(stamps):
        page = writer.pages[s.page - 1]
        box = page.mediabox
        left = float(box.left) + s.x
        bottom = float(box.top) - s.y - s.height
        page.merge_transformed_page(overlay.pages[index], Transformation().translate(left, bottom))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
