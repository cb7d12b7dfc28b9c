"""Reading multipart uploads with limits, so that an oversized or malformed upload is
refused with a clear message (400/413/415) instead of exhausting memory.

Three limits hold before a byte is kept: the declared length against the upload's total
limit, the number of parts, and the bytes read so far (chunked uploads declare no length).
A part is read only up to what is left of the total, so a request never holds more than
its limit in memory however it is built."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from ..core.errors import BadRequest, TooLarge, UnsupportedType
from ..inputs import has_unsafe_text, strip_unsafe, unreadable

FIELDS_ALLOWANCE = 256 * 1024  # the text fields beside the files (names, JSON meta)
MAX_FIELDS = 16


@dataclass
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)


@dataclass
class _Budget:
    left: int
    message: str


async def read_multipart(
    request: web.Request,
    *,
    max_file_bytes: int,
    max_files: int = 1,
    max_total_bytes: int | None = None,
    max_field_bytes: int = 64 * 1024,
    too_large_message: str = "文件过大",
) -> Upload:
    if not request.content_type.startswith("multipart/"):
        raise UnsupportedType("请以 multipart/form-data 方式上传文件", "multipart_required")
    total = max_total_bytes or max_file_bytes * max_files + FIELDS_ALLOWANCE
    if request.content_length is not None and request.content_length > total:
        raise TooLarge(too_large_message)
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError, KeyError):
        raise BadRequest("上传内容格式不正确", "malformed_multipart") from None
    upload = Upload()
    budget = _Budget(total, too_large_message)
    parts = files = 0
    while True:
        try:
            part = await reader.next()
        except (ValueError, AssertionError, HttpProcessingError, RequestPayloadError):
            raise BadRequest("上传内容格式不正确", "malformed_multipart") from None
        if part is None:
            return upload
        parts += 1
        if parts > max_files + MAX_FIELDS:
            raise TooLarge("上传内容包含的项目过多", "too_many_parts")
        if not isinstance(part, BodyPartReader):
            raise BadRequest("上传内容格式不正确（不支持嵌套的 multipart）", "malformed_multipart")
        is_file = part.filename is not None
        if is_file:
            files += 1
            if files > max_files:
                raise BadRequest(f"一次最多上传{max_files}个文件", "too_many_files")
        limit = max_file_bytes if is_file else max_field_bytes
        data = await _read_part(part, limit, too_large_message if is_file else "表单字段过长", budget)
        if not part.name:
            continue  # read (and counted) but not ours
        if is_file:
            filename = strip_unsafe(part.filename or "")[:200]
            upload.files.setdefault(part.name, []).append((filename, data))
        else:
            text = data.decode("utf-8", errors="replace")
            if has_unsafe_text(text):
                raise BadRequest(f"表单字段 {part.name[:40]} 包含不允许的控制字符", "control_characters")
            upload.fields[part.name] = text


async def _read_part(part: BodyPartReader, limit: int, message: str, budget: _Budget) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = await part.read_chunk(64 * 1024)
        except (ValueError, AssertionError, HttpProcessingError, RequestPayloadError):
            raise unreadable() from None
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        budget.left -= len(chunk)
        if size > limit:
            raise TooLarge(message)
        if budget.left < 0:
            raise TooLarge(budget.message)
        chunks.append(chunk)
