"""Seal and handwritten-signature images: round red enterprise seals drawn from the name and
the seal's purpose, uploaded seal PNGs and signatures drawn on a phone, each checked and
normalised to a transparent PNG before it is stamped into a contract."""

from __future__ import annotations

import io
import math
import warnings
from functools import lru_cache

from PIL import Image, ImageChops, ImageDraw

from ..errors import Invalid, TooLarge, UnsupportedType
from .fonts import pil_font

SEAL_RED = (220, 20, 30, 255)
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_SIDE = 2000
MIN_SIDE = 16
MAX_OUTPUT_SIDE = 800  # enough for a 42 mm seal at ~480 dpi; keeps PDFs small
MIN_INK_PIXELS = 300
MIN_INK_SPAN = 60  # px: the longer side of the ink's bounding box
MIN_INK_THICKNESS = 12  # px: the shorter side (a straight stroke is not a signature)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

SEAL_LABELS = ("公章", "合同专用章", "人事专用章", "财务专用章")


# -- generated seals ------------------------------------------------------------------------


@lru_cache(maxsize=256)
def draw_round_seal(enterprise_name: str, label: str = "合同专用章", size: int = 480) -> bytes:
    """A round red seal in the usual style: a thick ring, the enterprise name along the upper
    arc reading clockwise, a five-pointed star in the centre, the purpose below the star."""
    name = "".join(enterprise_name.split())[:30]
    if not name:
        raise Invalid.field("enterprise_name", "印章上的单位名称不能为空")
    if len(label) > 10:
        raise Invalid.field("label", "印章类型名称过长")
    scale = 2  # supersample, then downsample for smooth edges
    s = size * scale
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    c = s / 2
    ring = s * 0.035
    draw.ellipse((ring / 2, ring / 2, s - ring / 2, s - ring / 2), outline=SEAL_RED, width=round(ring))
    _star(draw, c, c, s * 0.15)
    _arc_text(img, name, c, s)
    if label:
        font = pil_font(round(s * 0.085))
        draw.text((c, s * 0.735), label, font=font, fill=SEAL_RED, anchor="mm")
    out = io.BytesIO()
    img.resize((size, size), Image.Resampling.LANCZOS).save(out, format="PNG", optimize=False)
    return out.getvalue()


def _arc_text(img: Image.Image, text: str, c: float, s: float) -> None:
    n = len(text)
    # Fewer characters are spread less; long names use up to 240° and smaller glyphs.
    span = min(240.0, 50.0 + 17.0 * n)
    glyph = s * (0.13 if n <= 10 else 0.13 * 10 / n + 0.02)
    glyph = max(glyph, s * 0.07)
    radius = s / 2 - s * 0.035 * 2.4 - glyph / 2
    font = pil_font(round(glyph))
    step = span / (n - 1) if n > 1 else 0.0
    start = -90.0 - span / 2  # degrees, 0 = 3 o'clock, clockwise in image coordinates
    box = round(glyph * 1.6)
    for i, ch in enumerate(text):
        angle = start + step * i
        tile = Image.new("RGBA", (box, box), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((box / 2, box / 2), ch, font=font, fill=SEAL_RED, anchor="mm")
        # Upright at the top, each glyph's foot pointing to the centre.
        tile = tile.rotate(-(angle + 90.0), resample=Image.Resampling.BICUBIC)
        x = c + radius * math.cos(math.radians(angle))
        y = c + radius * math.sin(math.radians(angle))
        img.alpha_composite(tile, (round(x - box / 2), round(y - box / 2)))


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float) -> None:
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.382
        angle = math.radians(-90 + i * 36)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=SEAL_RED)


# -- uploads --------------------------------------------------------------------------------


def _open_png(data: bytes, field: str) -> Image.Image:
    """Header checks before any pixel is decoded, so a decompression bomb is refused cheaply."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise TooLarge(f"图片不能超过{MAX_UPLOAD_BYTES // (1024 * 1024)}MB")
    if not data.startswith(PNG_MAGIC):
        raise UnsupportedType("请上传PNG格式的图片", "not_png")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format != "PNG":
                raise UnsupportedType("请上传PNG格式的图片", "not_png")
            w, h = image.size
            if w > MAX_SIDE or h > MAX_SIDE:
                raise Invalid.field(field, f"图片尺寸不能超过{MAX_SIDE}×{MAX_SIDE}像素", code="image_too_big")
            if w < MIN_SIDE or h < MIN_SIDE:
                raise Invalid.field(field, "图片尺寸过小", code="image_too_small")
            image.load()
            return image.convert("RGBA")
    except (Invalid, UnsupportedType):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Invalid.field(
            field, f"图片尺寸不能超过{MAX_SIDE}×{MAX_SIDE}像素", code="image_too_big"
        ) from None
    except Exception:
        raise UnsupportedType("图片已损坏或不是有效的PNG", "not_png") from None


def _white_to_transparent(image: Image.Image) -> Image.Image:
    """Paper-white becomes transparent with a soft ramp, so a scanned or photographed seal
    sits on the contract text instead of covering it; existing transparency is kept."""
    r, g, b, a = image.split()
    lightest = ImageChops.darker(ImageChops.darker(r, g), b)  # min channel: white ⇒ high
    ramp = lightest.point(lambda v: 0 if v >= 235 else 255 if v <= 190 else int((235 - v) * 255 / 45))
    out = image.copy()
    out.putalpha(ImageChops.multiply(a, ramp))
    return out


def _shrink(image: Image.Image, max_side: int = MAX_OUTPUT_SIDE) -> Image.Image:
    if max(image.size) <= max_side:
        return image
    factor = max_side / max(image.size)
    return image.resize(
        (max(1, round(image.width * factor)), max(1, round(image.height * factor))), Image.Resampling.LANCZOS
    )


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def normalise_uploaded_seal(png_bytes: bytes) -> bytes:
    """A seal image uploaded by an enterprise: a real PNG within limits, white made
    transparent, cropped to the seal, at most MAX_OUTPUT_SIDE pixels."""
    image = _white_to_transparent(_open_png(png_bytes, "seal"))
    box = image.getchannel("A").point(lambda v: 255 if v > 24 else 0).getbbox()
    if box is None:
        raise Invalid.field("seal", "印章图片是空白的", code="seal_blank")
    return _png(_shrink(image.crop(box)))


def normalise_signature_png(png_bytes: bytes) -> bytes:
    """A handwritten signature from the signature pad: refuses empty or trivially short
    drawings, crops to the ink with a small margin."""
    image = _white_to_transparent(_open_png(png_bytes, "signature_png"))
    ink = image.getchannel("A").point(lambda v: 255 if v > 64 else 0)
    box = ink.getbbox()
    count = ink.histogram()[255]
    if (
        box is None
        or count < MIN_INK_PIXELS
        or max(box[2] - box[0], box[3] - box[1]) < MIN_INK_SPAN
        or min(box[2] - box[0], box[3] - box[1]) < MIN_INK_THICKNESS
    ):
        raise Invalid.field("signature_png", "签名过于简单，请重新手写签名", code="signature_too_simple")
    margin = 6
    left, top, right, bottom = box
    cropped = image.crop(
        (
            max(0, left - margin),
            max(0, top - margin),
            min(image.width, right + margin),
            min(image.height, bottom + margin),
        )
    )
    return _png(_shrink(cropped))


def decode_data_url(raw: object, field: str = "signature_png") -> bytes:
    """A handwritten signature as the H5 page sends it: `data:image/png;base64,…`."""
    import base64
    import binascii

    from ..errors import TooLarge

    text = str(raw or "")
    prefix = "data:image/png;base64,"
    if not text.startswith(prefix):
        raise Invalid.field(field, "请手写签名后再提交")
    if len(text) > 3 * 1024 * 1024:
        raise TooLarge("签名图片过大")
    try:
        return base64.b64decode(text[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise Invalid.field(field, "签名图片格式不正确") from None
