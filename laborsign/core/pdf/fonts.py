"""The CJK font: WenQuanYi Micro Hei (Debian `fonts-wqy-microhei`, Apache-2.0 / GPL with the
font exception, fine to ship). It is TrueType, which reportlab can subset and embed (Noto CJK
is CFF, which reportlab refuses), so filled text is extractable and renders without any
font on the reader's machine."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

FONT_ENV = "LABORSIGN_PDF__CJK_FONT"
CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy-microhei/wqy-microhei.ttc",
    "/usr/local/share/fonts/wqy-microhei.ttc",
)
REPORTLAB_NAME = "LaborSignCJK"

_configured: str | None = None


class FontMissing(RuntimeError):
    pass


def configure_font(path: str | None) -> None:
    """Lets the composition root point at a font from the configuration; call before use."""
    global _configured
    _configured = path or None
    find_font.cache_clear()


@lru_cache(maxsize=1)
def find_font() -> str:
    for candidate in (_configured, os.environ.get(FONT_ENV), *CANDIDATES):
        if candidate and Path(candidate).is_file():
            return candidate
    # Last resort: any WenQuanYi Micro Hei fontconfig knows about.
    for root in ("/usr/share/fonts", "/usr/local/share/fonts"):
        for found in Path(root).glob("**/wqy-microhei.tt[cf]") if Path(root).is_dir() else ():
            return str(found)
    raise FontMissing("Chinese font not found: install the Debian package fonts-wqy-microhei")


@lru_cache(maxsize=1)
def reportlab_font() -> str:
    """Registered once per process; reportlab embeds only the glyphs each file uses."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = find_font()
    kwargs: dict[str, Any] = {"subfontIndex": 0} if path.endswith(".ttc") else {}
    pdfmetrics.registerFont(TTFont(REPORTLAB_NAME, path, **kwargs))
    return REPORTLAB_NAME


@lru_cache(maxsize=32)
def pil_font(size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(find_font(), size, index=0)
