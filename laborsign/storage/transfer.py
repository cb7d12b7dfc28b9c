"""`laborsign storage-migrate`: copies a local file store into an S3-compatible bucket.

Every file is checked on both sides: its bytes must hash to its name before it is sent
(a damaged local file is reported, never copied), and what the bucket gives back must hash
to it too. Files already in the bucket with the right bytes are left alone, so a run cut
short is simply run again. Finally every file the database points at must be in the bucket."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from .blobs import Backend
from .platform import referenced_keys

CONCURRENCY = 8


@dataclass
class TransferReport:
    copied: int = 0
    already_there: int = 0
    damaged_source: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # written but read back wrong, or refused
    missing: list[str] = field(default_factory=list)  # named in the database, not in the bucket

    @property
    def ok(self) -> bool:
        return not (self.damaged_source or self.failed or self.missing)


def _intact(key: str, data: bytes) -> bool:
    return hashlib.sha256(data).hexdigest() == key


async def _copy_one(source: Backend, target: Backend, key: str, report: TransferReport) -> None:
    data = await source.read(key)
    if not _intact(key, data):
        report.damaged_source.append(key)
        return
    try:
        if await target.exists(key) and _intact(key, await target.read(key)):
            report.already_there += 1
            return
        await target.write(key, data)
        if _intact(key, await target.read(key)):
            report.copied += 1
        else:
            report.failed.append(key)
    except Exception:
        report.failed.append(key)


async def copy_store(
    source: Backend, target: Backend, engine: AsyncEngine, progress: int = 500
) -> TransferReport:
    await target.check()
    report = TransferReport()
    gate = asyncio.Semaphore(CONCURRENCY)
    pending: set[asyncio.Task[None]] = set()
    seen = 0

    async def guarded(key: str) -> None:
        async with gate:
            await _copy_one(source, target, key, report)

    async for key in source.keys():
        seen += 1
        task = asyncio.create_task(guarded(key))
        pending.add(task)
        task.add_done_callback(pending.discard)
        if len(pending) >= CONCURRENCY * 4:
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        if progress and seen % progress == 0:
            print(f"… {seen} 个文件", flush=True)
    if pending:
        await asyncio.wait(pending)
    for key in sorted(await referenced_keys(engine)):
        try:
            present = await target.exists(key)
        except Exception:
            present = False
        if not present:
            report.missing.append(key)
    return report
