"""What every host shares through the database besides the domain tables: values generated
once for the whole platform (the CA's keys), and the record of file uploads that lets a
sweeper remove the files of transactions that never committed.

Why a pending-upload record: a file is written before the transaction that points at it
commits (the transaction must not commit a reference to a file that is not there). If that
transaction fails, the file is an orphan — but from the outside an orphan looks exactly like
the file of a transaction still in flight. So `put` first commits a row (key, touched_at);
the sweeper only considers rows older than ORPHAN_AFTER, far longer than any transaction
here stays open, and deletes a file only while it holds that row's lock (PostgreSQL: the
deleted row; SQLite: the write lock). A new upload of the same bytes upserts the same row,
so it waits for the sweeper and then writes the file again, never after it was removed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Column, Index, String, Table, Text, cast, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .contracts import contracts, events, saved_signatures, seals, signing_sessions
from .schema import UTCDateTime, metadata, upsert
from .templates import templates
from .verification import enterprise_verifications

log = logging.getLogger("laborsign.storage")

ORPHAN_AFTER = timedelta(hours=1)

blob_uploads = Table(
    "blob_uploads",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("touched_at", UTCDateTime(), nullable=False),
    Index("ix_blob_uploads_touched_at", "touched_at"),
)

platform_values = Table(
    "platform_values",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# Every column that holds a blob key. Contract documents are found through their SHA-256
# columns, which are the blob keys by construction (content addressing) and indexed; the
# events keep every committed version of a document, not only the current one.
_INDEXED_REFERENCES = (
    contracts.c.document_sha256,
    contracts.c.original_sha256,
    events.c.document_sha256,
    seals.c.blob,
    signing_sessions.c.signature_blob,
    saved_signatures.c.blob,
    enterprise_verifications.c.letter_blob,
)


async def record_upload(engine: AsyncEngine, key: str, now: datetime) -> None:
    """Committed before the file is written (see the module's docstring)."""
    stmt = upsert(engine.dialect.name, blob_uploads).values(key=key, touched_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"touched_at": now})
    async with engine.begin() as conn:
        await conn.execute(stmt)


async def _referenced(conn: AsyncConnection, keys: list[str], *, templates_too: bool) -> set[str]:
    found: set[str] = set()
    for column in _INDEXED_REFERENCES:
        rows = await conn.execute(select(column).where(column.in_(keys)).distinct())
        found.update(str(r[0]) for r in rows)
    rest = [k for k in keys if k not in found]
    if templates_too and rest:
        # Template files are a JSON list; a SHA-256 in hex cannot occur there by accident.
        text = cast(templates.c.files, Text)
        rows = await conn.execute(select(templates.c.files).where(or_(*(text.like(f"%{k}%") for k in rest))))
        listed = {str(f.get("blob")) for (files,) in rows for f in (files or [])}
        found.update(k for k in rest if k in listed)
    return found


class Deleter(Protocol):
    async def delete(self, key: str) -> None: ...


async def sweep_orphans(engine: AsyncEngine, blobs: Deleter, now: datetime, limit: int = 500) -> int:
    """Removes the files whose upload is older than ORPHAN_AFTER and that nothing in the
    database points at; forgets the uploads that were committed. Returns files removed."""
    cutoff = now - ORPHAN_AFTER
    old = blob_uploads.c.touched_at < cutoff
    async with engine.connect() as conn:
        keys = [str(r[0]) for r in await conn.execute(select(blob_uploads.c.key).where(old).limit(limit))]
        if not keys:
            return 0
        done = await _referenced(conn, keys, templates_too=False)
    if done:
        async with engine.begin() as conn:
            await conn.execute(delete(blob_uploads).where(blob_uploads.c.key.in_(done), old))
    removed = 0
    for key in (k for k in keys if k not in done):
        async with engine.begin() as conn:
            claimed = await conn.execute(delete(blob_uploads).where(blob_uploads.c.key == key, old))
            if claimed.rowcount != 1:  # touched again, or another host's sweeper took it
                continue
            if await _referenced(conn, [key], templates_too=True):
                continue
            await blobs.delete(key)  # still holding the row: an upload of these bytes waits
            removed += 1
    if removed:
        log.info("orphan files removed", extra={"count": removed})
    return removed


async def shared_value(
    engine: AsyncEngine, name: str, make: Callable[[], Awaitable[str]], now: datetime
) -> str:
    """The platform-wide value `name`, made by `make` the first time. Two hosts starting at
    the same moment may both make one; the first insert wins and both use the winner's."""
    query = select(platform_values.c.value).where(platform_values.c.name == name)
    async with engine.connect() as conn:
        value = (await conn.execute(query)).scalar_one_or_none()
    if value is not None:
        return str(value)
    made = await make()
    async with engine.begin() as conn:
        stmt = upsert(engine.dialect.name, platform_values).values(name=name, value=made, created_at=now)
        await conn.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
    async with engine.connect() as conn:
        return str((await conn.execute(query)).scalar_one())


async def referenced_keys(engine: AsyncEngine) -> set[str]:
    """Every blob key the database points at (for `laborsign storage-migrate`)."""
    found: set[str] = set()
    async with engine.connect() as conn:
        for column in _INDEXED_REFERENCES:
            rows = await conn.stream(select(column).where(column.is_not(None)).distinct())
            found.update([str(r[0]) async for r in rows])
        rows = await conn.stream(select(templates.c.files))
        found.update([str(f["blob"]) async for (files,) in rows for f in (files or []) if f.get("blob")])
    return found
