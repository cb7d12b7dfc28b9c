"""PDFs made on the fly for tests (no binary fixtures in the repository)."""

from __future__ import annotations

import io

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


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf())))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def hostile_pdf(kids: int = 3000) -> bytes:
    """Parses, but every one of its thousands of page and field references points nowhere and
    its cross-reference table is off: PDF libraries complain once per object."""
    refs = " ".join(f"{1000 + i} 0 R" for i in range(kids))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [" + refs.encode() + b"] >> >>",
        f"<< /Type /Pages /Kids [{refs}] /Count {kids} >>".encode(),
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out) + 7)  # wrong on purpose
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref + 3}\n%%EOF\n".encode()
    return bytes(out)
