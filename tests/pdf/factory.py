"""PDFs and images made on the fly for the engine's tests (no binary fixtures)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def make_pdf(pages: int = 1, size: tuple[float, float] = A4, text: str = "Labor contract") -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size)
    for n in range(pages):
        c.setFont("Helvetica", 14)
        c.drawString(72, size[1] - 72, f"{text} - page {n + 1}")
        c.rect(72, 100, size[0] - 144, 80)
        c.showPage()
    c.save()
    return buf.getvalue()


def encrypted_pdf(user_password: str = "") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf())))
    writer.encrypt(user_password, "owner-secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def handwriting_png(
    width: int = 400, height: int = 160, strokes: int = 3, background: str = "transparent"
) -> bytes:
    fill = (0, 0, 0, 0) if background == "transparent" else (255, 255, 255, 255)
    image = Image.new("RGBA", (width, height), fill)
    draw = ImageDraw.Draw(image)
    for i in range(strokes):
        x = 40 + i * 110
        draw.line([(x, 120), (x + 40, 30), (x + 80, 120), (x + 20, 80)], fill=(10, 10, 10, 255), width=8)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def png(width: int, height: int, colour: tuple[int, int, int, int] = (255, 255, 255, 255)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def flip_byte_in(data: bytes, marker: bytes) -> bytes:
    """One byte changed inside the first occurrence of `marker` (page content, not syntax)."""
    at = data.index(marker) + len(marker) // 2
    changed = bytearray(data)
    changed[at] ^= 0x01
    return bytes(changed)
