"""Reading multipart uploads with limits, so that an oversized or malformed upload is
refused with a clear message (413/415/422) instead of exhausting memory."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web

from ..core.errors import BadRequest, TooLarge, UnsupportedType


@dataclass
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)


async def read_multipart(
    request: web.Request,
    *,
    max_file_bytes: int,
    max_files: int = 10,
    max_field_bytes: int = 64 * 1024,
    too_large_message: str = "文件过大",
) -> Upload:
    if not request.content_type.startswith("multipart/"):
        raise UnsupportedType("请以 multipart/form-data 方式上传文件", "multipart_required")
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError, KeyError):
        raise BadRequest("上传内容格式不正确", "malformed_multipart") from None
    upload = Upload()
    count = 0
    while True:
        try:
            part = await reader.next()
        except (ValueError, AssertionError):
            raise BadRequest("上传内容格式不正确", "malformed_multipart") from None
        if part is None:
            break
        if not isinstance(part, BodyPartReader) or not part.name:
            continue
        is_file = part.filename is not None
        limit = max_file_bytes if is_file else max_field_bytes
        data = await _read_limited(part, limit, too_large_message if is_file else "表单字段过长")
        if is_file:
            count += 1
            if count > max_files:
                raise BadRequest(f"一次最多上传{max_files}个文件", "too_many_files")
            upload.files.setdefault(part.name, []).append((part.filename or "", data))
        else:
            upload.fields[part.name] = data.decode("utf-8", errors="replace")
    return upload


async def _read_limited(part: BodyPartReader, limit: int, message: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await part.read_chunk(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise TooLarge(message)
        chunks.append(chunk)
