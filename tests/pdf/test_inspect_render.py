"""Hostile and malformed files at the upload boundary, and page previews."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from laborsign.core.errors import Invalid, TooLarge, UnsupportedType
from laborsign.core.pdf.inspect import inspect_pdf
from laborsign.core.pdf.render import render_page_png
from laborsign.core.pdf.validate import verify_pdf

from .factory import encrypted_pdf, make_pdf


def test_good_pdf() -> None:
    data = make_pdf(3, size=(842, 595))
    info = inspect_pdf(data)
    assert info.page_count == 3 and info.pages[0].width == 842 and info.pages[0].height == 595
    assert len(info.sha256) == 64


def _huge_page_count_pdf() -> bytes:
    """A tiny file whose page tree claims a million pages."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1000000 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", UnsupportedType),
        (b"hello, this is not a pdf", UnsupportedType),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, UnsupportedType),
        (make_pdf(2)[:900], UnsupportedType),  # truncated
        (b"%PDF-1.7\n" + b"garbage " * 500 + b"\n%%EOF\n", UnsupportedType),
        (encrypted_pdf(""), Invalid),
        (encrypted_pdf("user-pass"), Invalid),
        (make_pdf(101), Invalid),
        (_huge_page_count_pdf(), Invalid),
    ],
    ids=[
        "empty",
        "text",
        "png",
        "truncated",
        "garbage",
        "encrypted",
        "encrypted-password",
        "101-pages",
        "claims-1M-pages",
    ],
)
def test_refusals(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        inspect_pdf(data)
    assert caught.value.message  # type: ignore[attr-defined]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)  # type: ignore[attr-defined]


def test_encrypted_message() -> None:
    with pytest.raises(Invalid) as caught:
        inspect_pdf(encrypted_pdf())
    assert caught.value.message == "PDF已加密，请上传未加密的文件"


def test_size_limit() -> None:
    with pytest.raises(TooLarge):
        inspect_pdf(make_pdf(), max_bytes=100)


@pytest.mark.parametrize("data", [b"", b"not a pdf", make_pdf()[:500], b"%PDF-1.4\n" + b"\x00" * 4000])
def test_verify_never_raises_anything_but_domain_errors(data: bytes) -> None:
    try:
        assert verify_pdf(data, []) == []
    except (UnsupportedType, Invalid):
        pass


def test_verify_unsigned_pdf_has_no_signatures() -> None:
    assert verify_pdf(make_pdf(), []) == []


def test_render_preview() -> None:
    png = render_page_png(make_pdf(2), 2, scale=0.5)
    image = Image.open(io.BytesIO(png))
    assert image.size == (298, 421)
    with pytest.raises(Invalid):
        render_page_png(make_pdf(1), 2)
    with pytest.raises(UnsupportedType):
        render_page_png(b"nope", 1)
