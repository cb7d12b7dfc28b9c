"""Content-addressed file store on the local disk (uploads, generated and signed PDFs).

A blob's key is its SHA-256, so the same bytes are stored once and a stored file can be
checked against its key at any time."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from pathlib import Path

from ..core.errors import NotFound

_KEY = re.compile(r"^[0-9a-f]{64}$")


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise NotFound("文件不存在", "blob_not_found")
        return self.root / key[:2] / key

    async def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        await asyncio.to_thread(self._write, key, data)
        return key

    def _write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            return
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        # Contracts and ID letters: readable by the service's user only, whatever the umask.
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)  # atomic: a reader never sees half a file

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise NotFound("文件不存在", "blob_not_found") from None

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).exists)
