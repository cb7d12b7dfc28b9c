"""Marks a signing party adds to an already-signed document: its own field values, its
handwritten signature or seal images and the signing date.

Before anyone signs, every such mark gets an empty read-only form field (`add_slots`); a
party's act gives its fields their appearance in the incremental update that also holds its
signature (so the signature that makes them covers them), never by rewriting page content.
The signatures already in the file stay intact, and validators classify the change as form
filling, which approval signatures allow (pyHanko: FORM_FILLING). Documents prepared without
fields get print-visible stamp annotations instead."""

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
    slot: str | None = None  # the form field prepared for this mark before anyone signed


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


class _Pages:
    """Page references and boxes of the revision being written (each lookup walks the tree)."""

    def __init__(self, writer: IncrementalPdfFileWriter) -> None:
        self.writer = writer
        self.seen: dict[int, tuple[generic.IndirectObject, list[float]]] = {}

    def rect(self, s: Stamp) -> tuple[generic.IndirectObject, generic.ArrayObject]:
        if s.page not in self.seen:
            page_ref, _ = self.writer.find_page_for_modification(s.page - 1)
            self.seen[s.page] = (page_ref, [float(v) for v in page_ref.get_object()["/MediaBox"]])
        page_ref, box = self.seen[s.page]
        left, top = box[0] + s.x, box[3] - s.y
        corners = (left, top - s.height, left + s.width, top)
        return page_ref, generic.ArrayObject([generic.FloatObject(v) for v in corners])


def _empty_appearance(s: Stamp) -> generic.StreamObject:
    return generic.StreamObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
            generic.pdf_name("/Subtype"): generic.pdf_name("/Form"),
            generic.pdf_name("/BBox"): generic.ArrayObject(
                [generic.FloatObject(v) for v in (0, 0, s.width, s.height)]
            ),
        },
        stream_data=b"",
    )


def _acroform_fields(writer: IncrementalPdfFileWriter) -> generic.ArrayObject:
    """The document's top-level form fields, marked for update in this revision."""
    root = writer.root
    if "/AcroForm" not in root:
        form = generic.DictionaryObject({generic.pdf_name("/Fields"): generic.ArrayObject()})
        root[generic.pdf_name("/AcroForm")] = writer.add_object(form)
        writer.update_root()
        return form["/Fields"]
    raw = root.raw_get("/AcroForm")
    form = raw.get_object()
    if isinstance(raw, generic.IndirectObject):
        writer.mark_update(raw)
    else:
        writer.update_root()
    if "/Fields" not in form:
        form[generic.pdf_name("/Fields")] = generic.ArrayObject()
    fields_raw = form.raw_get("/Fields")
    if isinstance(fields_raw, generic.IndirectObject):
        writer.mark_update(fields_raw)
    return fields_raw.get_object()


def add_slots(data: bytes, slots: list[Stamp]) -> bytes:
    """Before anyone signs: a read-only pushbutton field, with an empty appearance, for every
    mark a party will add (its values, date, handwritten signature or seal). A party's act
    then only gives its own fields their appearance: a form-filling change, which validators
    allow after earlier approval signatures — new annotations would instead count as an
    unexplained change to the signed document."""
    if not slots:
        return data
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    fields = _acroform_fields(writer)
    pages = _Pages(writer)
    for s in slots:
        assert s.slot
        page_ref, rect = pages.rect(s)
        widget = generic.DictionaryObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/Widget"),
                generic.pdf_name("/FT"): generic.pdf_name("/Btn"),
                # Pushbutton (bit 17) + ReadOnly (bit 1): no value, nothing to click or type.
                generic.pdf_name("/Ff"): generic.NumberObject((1 << 16) | 1),
                generic.pdf_name("/T"): generic.TextStringObject(s.slot),
                generic.pdf_name("/Rect"): rect,
                generic.pdf_name("/F"): generic.NumberObject(4),  # printed
                generic.pdf_name("/P"): page_ref,
                generic.pdf_name("/AP"): generic.DictionaryObject(
                    {generic.pdf_name("/N"): writer.add_object(_empty_appearance(s))}
                ),
            }
        )
        ref = writer.add_object(widget)
        writer.register_annotation(page_ref, ref)
        fields.append(ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _slot_fields(writer: IncrementalPdfFileWriter) -> dict[str, generic.IndirectObject]:
    root = writer.root
    if "/AcroForm" not in root:
        return {}
    found = {}
    for ref in root["/AcroForm"].get("/Fields", []):
        name = ref.get_object().get("/T")
        if isinstance(name, str):
            found[name] = ref
    return found


def stamp_into(writer: IncrementalPdfFileWriter, stamps: list[Stamp]) -> None:
    """Puts the marks into the revision `writer` is preparing: as the appearance of the field
    prepared for each (add_slots), or — in documents made before fields were prepared — as a
    stamp annotation."""
    texts = [s for s in stamps if s.image_png is None]
    text_forms = iter(_text_appearances(writer, texts) if texts else [])
    slots = _slot_fields(writer) if any(s.slot for s in stamps) else {}
    pages = _Pages(writer)
    for s in stamps:
        appearance = _image_appearance(writer, s) if s.image_png is not None else next(text_forms)
        slot = slots.get(s.slot or "")
        if slot is not None:
            slot.get_object()[generic.pdf_name("/AP")] = generic.DictionaryObject(
                {generic.pdf_name("/N"): appearance}
            )
            writer.mark_update(slot)
            continue
        page_ref, rect = pages.rect(s)
        annot = generic.DictionaryObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/Stamp"),
                generic.pdf_name("/Rect"): rect,
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
