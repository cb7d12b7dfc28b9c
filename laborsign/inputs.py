"""What a request may carry, checked before any of it reaches a service: bodies are read
against a total limit while they arrive (chunked and compressed ones too), JSON is refused
when nested too deep or when its text holds control characters or lone surrogates (neither
can be stored in PostgreSQL), header text that is not UTF-8 is dropped, and query and path
values with control characters are refused."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from .core.errors import BadRequest, TooLarge

MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32

# C0 controls except tab, LF and CR, and lone surrogates: what a person never types, what
# PostgreSQL refuses (NUL) and what cannot be encoded as UTF-8 (surrogates, which is how
# aiohttp hands over header bytes that are not UTF-8).
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_UNSAFE_IN_URL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")

READ_FAILED = "请求内容无法读取（格式或压缩编码不正确）"


def unreadable() -> BadRequest:
    return BadRequest(READ_FAILED, "malformed_body")


async def read_limited(request: web.Request, limit: int, message: str = "请求内容过大") -> bytes:
    """The whole body, refused with 413 as soon as it passes `limit`: a declared length is
    checked before reading, and a chunked body is counted as it arrives."""
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(message)
    data = bytearray()
    try:
        async for chunk in request.content.iter_any():
            data += chunk
            if len(data) > limit:
                raise TooLarge(message)
    except (HttpProcessingError, RequestPayloadError):
        raise unreadable() from None
    return bytes(data)


def has_unsafe_text(text: str) -> bool:
    return _UNSAFE.search(text) is not None


def parse_json(raw: bytes | str) -> Any:
    """JSON a service can rely on: valid UTF-8, at most MAX_JSON_DEPTH levels, no control
    characters in any key or text."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise BadRequest("请求内容嵌套层级过深", "json_too_deep") from None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("请求内容不是有效的 JSON", "malformed_json") from None
    check_json(data)
    return data


def check_json(data: Any) -> None:
    """Walks the parsed value without recursion (a deep value must not crash the check)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if has_unsafe_text(value):
                raise BadRequest("请求内容包含不允许的控制字符", "control_characters")
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise BadRequest("请求内容嵌套层级过深", "json_too_deep")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and has_unsafe_text(key):
                raise BadRequest("请求内容包含不允许的控制字符", "control_characters")
            stack.append((item, depth + 1))


def strip_unsafe(text: str) -> str:
    return _UNSAFE_IN_URL.sub("", text)


def header_text(request: web.Request, name: str, limit: int = 300) -> str:
    """A header as text to store (User-Agent in the audit trail): bytes that were not UTF-8
    and control characters are dropped."""
    return strip_unsafe(request.headers.get(name, ""))[:limit]


def unsafe_url(request: web.Request) -> bool:
    """A decoded path or query value with control characters or undecodable bytes."""
    if _UNSAFE_IN_URL.search(request.path):
        return True
    return any(_UNSAFE_IN_URL.search(k) or _UNSAFE_IN_URL.search(v) for k, v in request.query.items())
