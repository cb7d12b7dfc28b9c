from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from laborsign.core.errors import Invalid, TooLarge, UnsupportedType
from laborsign.core.pdf.seals import draw_round_seal, normalise_signature_png, normalise_uploaded_seal

from .factory import handwriting_png, png


def _rgba(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.convert("RGBA")


@pytest.mark.parametrize("label", ["合同专用章", "人事专用章", "公章"])
def test_round_seal_is_red_on_transparent(label: str) -> None:
    image = _rgba(draw_round_seal("广州市天河区测试科技有限公司", label))
    assert image.getpixel((2, 2))[3] == 0, "corners are transparent"
    pixels = image.get_flattened_data()
    red = sum(1 for r, g, b, a in pixels if a > 200 and r > 180 and g < 80 and b < 80)
    assert red > 0.05 * len(pixels)
    cx, cy = image.width // 2, image.height // 2
    assert image.getpixel((cx, cy))[3] > 200, "a star in the centre"


def test_uploaded_seal_white_becomes_transparent() -> None:
    image = Image.new("RGB", (300, 300), "white")
    from PIL import ImageDraw

    ImageDraw.Draw(image).ellipse((20, 20, 280, 280), outline=(210, 20, 20), width=12)
    raw = io.BytesIO()
    image.save(raw, format="PNG")
    out = _rgba(normalise_uploaded_seal(raw.getvalue()))
    assert out.getpixel((out.width // 2, out.height // 2))[3] == 0
    assert max(a for *_, a in out.get_flattened_data()) == 255


def test_uploads_are_validated() -> None:
    with pytest.raises(UnsupportedType):
        normalise_uploaded_seal(b"GIF89a....")
    with pytest.raises(UnsupportedType):
        normalise_uploaded_seal(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(TooLarge):
        normalise_uploaded_seal(b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024 + 1))
    with pytest.raises(Invalid):
        normalise_uploaded_seal(png(300, 300))  # all white: blank
    with pytest.raises(Invalid):
        normalise_uploaded_seal(png(2400, 20, (200, 0, 0, 255)))


def test_decompression_bomb_is_refused_before_decoding() -> None:
    # A 30000x30000 greyscale PNG whose pixels compress to almost nothing.
    row = b"\x00" + b"\x00" * 30000
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(200)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0))
    bomb += chunk(b"IDAT", body) + chunk(b"IEND", b"")
    with pytest.raises(Invalid):
        normalise_uploaded_seal(bomb)


def test_signature_is_cropped_to_ink() -> None:
    out = _rgba(normalise_signature_png(handwriting_png(800, 400)))
    assert out.width < 800 and out.height < 400


@pytest.mark.parametrize("background", ["transparent", "white"])
def test_empty_or_trivial_signatures_are_refused(background: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalise_signature_png(handwriting_png(strokes=0, background=background))
    assert caught.value.message == "签名过于简单，请重新手写签名"
    dot = Image.new("RGBA", (300, 150), (0, 0, 0, 0))
    from PIL import ImageDraw

    ImageDraw.Draw(dot).ellipse((100, 60, 112, 72), fill="black")
    raw = io.BytesIO()
    dot.save(raw, format="PNG")
    with pytest.raises(Invalid):
        normalise_signature_png(raw.getvalue())


def test_white_background_signature_is_accepted() -> None:
    out = _rgba(normalise_signature_png(handwriting_png(background="white")))
    assert out.getpixel((0, 0))[3] == 0
