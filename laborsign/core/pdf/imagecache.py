"""PNG images decoded and deflated once per process, ready to become PDF image XObjects.

The same seal or signature is stamped into many contracts; letting reportlab or pyHanko
re-encode it each time cost more than everything else in a fill with a seal."""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from functools import lru_cache

from ..errors import Invalid

MAX_SIDE = 4000


@dataclass(frozen=True)
class EncodedImage:
    width: int
    height: int
    rgb: bytes  # deflated 8-bit RGB
    alpha: bytes | None  # deflated 8-bit grey soft mask, None when opaque


@lru_cache(maxsize=64)
def encode_png(png: bytes, field: str = "image_png") -> EncodedImage:
    from PIL import Image

    try:
        opened = Image.open(io.BytesIO(png))
        if opened.width > MAX_SIDE or opened.height > MAX_SIDE:
            raise Invalid.field(field, "图片尺寸过大")
        image = opened.convert("RGBA")
    except Invalid:
        raise
    except Exception as exc:
        raise Invalid.field(field, "图片不是有效的PNG") from exc
    alpha = image.getchannel("A")
    opaque = alpha.getextrema() == (255, 255)
    return EncodedImage(
        image.width,
        image.height,
        zlib.compress(image.convert("RGB").tobytes(), 6),
        None if opaque else zlib.compress(alpha.tobytes(), 6),
    )
