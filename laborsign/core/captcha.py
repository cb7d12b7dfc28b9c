"""Image captchas in front of SMS codes asked for by too many from one address.

A challenge needs no row until it is answered: its id carries its expiry and a MAC of the
answer under the service's secret, so issuing one writes nothing (a flood of GET /captcha
fills no table). Answering uses the id once, right or wrong (`core.replay.use_once`), so an
id cannot be guessed at: one try, then a new picture."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import Invalid

TTL = timedelta(minutes=5)
LENGTH = 4
# No look-alikes (0/O, 1/I/L, 2/Z, 5/S, 8/B): people read these on a phone screen.
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
WRONG = "图形验证码错误或已失效，请重新输入"


@dataclass(frozen=True)
class Challenge:
    id: str
    answer: str
    expires_at: datetime


def _mac(secret: bytes, expires: int, nonce: str, answer: str) -> str:
    message = f"captcha:{expires}:{nonce}:{answer.strip().upper()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def issue(secret: bytes, now: datetime) -> Challenge:
    answer = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    expires_at = now + TTL
    expires = int(expires_at.timestamp())
    nonce = secrets.token_hex(8)
    return Challenge(f"{expires}.{nonce}.{_mac(secret, expires, nonce, answer)}", answer, expires_at)


def parse(challenge_id: object) -> tuple[int, str, str]:
    parts = str(challenge_id or "").split(".")
    if len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) > 12 or len(parts[2]) != 32:
        raise Invalid.field("captcha_answer", WRONG, "captcha_wrong")
    return int(parts[0]), parts[1][:32], parts[2]


def matches(secret: bytes, challenge_id: object, answer: object, now: datetime) -> bool:
    expires, nonce, mac = parse(challenge_id)
    if expires < now.timestamp():
        return False
    return hmac.compare_digest(mac, _mac(secret, expires, nonce, str(answer or "")[:16]))


def png_data_url(answer: str) -> str:
    """The picture (a well-kept library draws it: warped glyphs, noise)."""
    from captcha.image import ImageCaptcha

    png = ImageCaptcha(width=160, height=60).generate(answer, format="png").getvalue()
    return "data:image/png;base64," + base64.b64encode(png).decode()
