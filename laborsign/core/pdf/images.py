"""Seal and signature images: generated round red seals, uploaded seal PNGs and
handwritten signatures from the phone, each checked and normalised before use."""

from __future__ import annotations

import base64
import binascii
import io
import math
from functools import lru_cache

from PIL import Image, ImageChops, ImageDraw, ImageFont, UnidentifiedImageError

from ..errors import Invalid, TooLarge, UnsupportedType
from .stamps import FONT_CANDIDATES

RED = (214, 0, 0, 255)
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_SIDE = 2000
Image.MAX_IMAGE_PIXELS = 20_000_000  # refuse decompression bombs early


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont:
    for path in FONT_CANDIDATES:
        try:
            return ImageFont.truetype(path, size, index=0)
        except OSError:
            continue
    raise RuntimeError("Chinese font not found: install the Debian package fonts-wqy-microhei")


def draw_round_seal(enterprise_name: str, label: str, size: int = 480) -> bytes:
    """A round red seal: the name along the upper arc, a five-pointed star in the centre and
    the seal's purpose (合同专用章 …) below it, on a transparent background."""
    scale = 2  # draw large, then downsample for smooth edges
    s = size * scale
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    ring = int(s * 0.035)
    draw.ellipse((ring, ring, s - ring, s - ring), outline=RED, width=ring)
    _star(draw, s / 2, s / 2, s * 0.14)
    name = enterprise_name[:24]
    font_size = int(s * (0.115 if len(name) <= 12 else 0.09))
    font = _font(font_size)
    radius = s / 2 - ring * 2.4 - font_size / 2
    span = min(250.0, 18.0 * len(name) + 40)  # degrees of arc the name covers
    start = -90 - span / 2
    step = span / max(1, len(name) - 1) if len(name) > 1 else 0
    for i, ch in enumerate(name):
        angle = math.radians(start + step * i)
        cx, cy = s / 2 + radius * math.cos(angle), s / 2 + radius * math.sin(angle)
        glyph = Image.new("RGBA", (font_size * 2, font_size * 2), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((font_size, font_size), ch, font=font, fill=RED, anchor="mm")
        rotated = glyph.rotate(-(start + step * i) - 90, resample=Image.Resampling.BICUBIC)
        img.alpha_composite(rotated, (int(cx - font_size), int(cy - font_size)))
    if label:
        draw.text((s / 2, s * 0.74), label, font=_font(int(s * 0.075)), fill=RED, anchor="mm")
    out = io.BytesIO()
    img.resize((size, size), Image.Resampling.LANCZOS).save(out, format="PNG")
    return out.getvalue()


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float) -> None:
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.382
        angle = math.radians(-90 + i * 36)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=RED)


def _open_png(data: bytes, max_bytes: int) -> Image.Image:
    if len(data) > max_bytes:
        raise TooLarge(f"图片不能超过{max_bytes // (1024 * 1024)}MB")
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise UnsupportedType("请上传PNG格式的图片", "not_png")
    try:
        image = Image.open(io.BytesIO(data))
        if image.width > MAX_SIDE or image.height > MAX_SIDE or image.width < 10 or image.height < 10:
            raise Invalid.field("file", f"图片尺寸应在10到{MAX_SIDE}像素之间")
        image.load()
    except Invalid:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise UnsupportedType("图片已损坏或不是有效的PNG", "not_png") from None
    return image.convert("RGBA")


def normalise_uploaded_seal(data: bytes) -> bytes:
    """Keeps transparency; a white background becomes transparent so the seal sits on the text."""
    image = _open_png(data, MAX_UPLOAD_BYTES)
    r, g, b, a = image.split()
    near_white = [channel.point(lambda v: 255 if v > 235 else 0) for channel in (r, g, b)]
    white = ImageChops.multiply(ImageChops.multiply(near_white[0], near_white[1]), near_white[2])
    image.putalpha(ImageChops.subtract(a, white))
    if image.getbbox() is None:
        raise Invalid.field("file", "印章图片是空白的")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def decode_data_url(raw: object) -> bytes:
    text = str(raw or "")
    prefix = "data:image/png;base64,"
    if not text.startswith(prefix):
        raise Invalid.field("signature_png", "请手写签名后再提交")
    if len(text) > 3 * 1024 * 1024:
        raise TooLarge("签名图片过大")
    try:
        return base64.b64decode(text[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise Invalid.field("signature_png", "签名图片格式不正确") from None


MIN_INK_PIXELS = 400
MIN_INK_SPAN = 40


def normalise_signature_png(data: bytes) -> bytes:
    """Refuses an empty or trivially short drawing; crops to the ink."""
    image = _open_png(data, MAX_UPLOAD_BYTES)
    alpha = image.getchannel("A")
    box = alpha.getbbox()
    ink = alpha.point(lambda v: 255 if v > 40 else 0).histogram()[255]
    if box is None or ink < MIN_INK_PIXELS or max(box[2] - box[0], box[3] - box[1]) < MIN_INK_SPAN:
        raise Invalid.field("signature_png", "签名过于简单，请重新手写签名", code="signature_too_short")
    cropped = image.crop(box)
    out = io.BytesIO()
    cropped.save(out, format="PNG")
    return out.getvalue()
