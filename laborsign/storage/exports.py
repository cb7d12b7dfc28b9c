"""Background export jobs (the bulk zip of signed PDFs): SQLAlchemy Core, no ORM mapping.

A job is worked on by the process that holds its lease (`owner`, `lease_until`); every write
of that process names the owner, so a process that lost its lease (it stalled, another took
the job over) changes nothing any more."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, Table, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.exports import ExportJob, ExportStatus
from .schema import Id, UTCDateTime, metadata

# A job started this many times whose process died each time fails rather than loop.
MAX_ATTEMPTS = 3

export_jobs = Table(
    "export_jobs",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("enterprise_id", Id(), nullable=False),
    Column("created_by", Id(), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("filters", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("file", String(120)),
    Column("size", BigInteger),
    Column("error", String(200)),
    Column("owner", String(32)),
    Column("lease_until", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Column("expires_at", UTCDateTime()),
    Index("ix_export_jobs_status", "status"),
)

_FIELDS = [c for c in export_jobs.c if c.name != "owner"]


def _job(row: Any) -> ExportJob:
    return ExportJob(**{c.name: row._mapping[c.name] for c in _FIELDS})


class ExportJobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, job: ExportJob) -> None:
        values = {c.name: getattr(job, c.name) for c in _FIELDS}
        await self.s.execute(export_jobs.insert().values(**values))

    async def get(self, job_id: str, enterprise_id: str) -> ExportJob | None:
        stmt = select(*_FIELDS).where(export_jobs.c.id == job_id, export_jobs.c.enterprise_id == enterprise_id)
        row = (await self.s.execute(stmt)).first()
        return _job(row) if row is not None else None

    def _claimable(self, now: datetime) -> Any:
        return or_(
            export_jobs.c.status == ExportStatus.QUEUED,
            and_(export_jobs.c.status == ExportStatus.RUNNING, export_jobs.c.lease_until <= now),
        )

    async def claimable(self, now: datetime, limit: int) -> list[str]:
        stmt = (
            select(export_jobs.c.id)
            .where(self._claimable(now))
            .order_by(export_jobs.c.created_at)
            .limit(limit)
        )
        return list((await self.s.execute(stmt)).scalars())

    async def claim(self, job_id: str, owner: str, now: datetime, until: datetime) -> ExportJob | None:
        """Queued, or running under a lease that ran out: this process takes it and starts it
        from the beginning. One that has been started MAX_ATTEMPTS times fails instead."""
        where = and_(export_jobs.c.id == job_id, self._claimable(now))
        spent = await self.s.execute(
            update(export_jobs)
            .where(where, export_jobs.c.attempts >= MAX_ATTEMPTS)
            .values(
                status=ExportStatus.FAILED, error="打包多次中断，请重新发起", owner=None,
                lease_until=None, finished_at=now,
            )
        )
        if spent.rowcount:  # type: ignore[attr-defined]
            return None
        taken = await self.s.execute(
            update(export_jobs)
            .where(where)
            .values(
                status=ExportStatus.RUNNING, owner=owner, lease_until=until, done=0,
                attempts=export_jobs.c.attempts + 1,
            )
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = (await self.s.execute(select(*_FIELDS).where(export_jobs.c.id == job_id))).one()
        return _job(row)

    async def progress(self, job_id: str, owner: str, done: int, until: datetime) -> bool:
        """False when this process no longer holds the job."""
        result = await self.s.execute(
            update(export_jobs)
            .where(
                export_jobs.c.id == job_id, export_jobs.c.owner == owner,
                export_jobs.c.status == ExportStatus.RUNNING,
            )
            .values(done=done, lease_until=until)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def finish(
        self, job_id: str, owner: str, *, status: str, done: int, size: int | None, file: str | None,
        error: str | None, now: datetime, expires_at: datetime | None,
    ) -> bool:  # fmt: skip
        result = await self.s.execute(
            update(export_jobs)
            .where(
                export_jobs.c.id == job_id, export_jobs.c.owner == owner,
                export_jobs.c.status == ExportStatus.RUNNING,
            )
            .values(
                status=status, done=done, size=size, file=file, error=error, owner=None,
                lease_until=None, finished_at=now, expires_at=expires_at,
            )
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def lapsed(self, now: datetime, limit: int) -> list[ExportJob]:
        stmt = (
            select(*_FIELDS)
            .where(export_jobs.c.status == ExportStatus.DONE, export_jobs.c.expires_at <= now)
            .limit(limit)
        )
        return [_job(row) for row in (await self.s.execute(stmt)).all()]

    async def forget_file(self, job_id: str) -> None:
        await self.s.execute(
            update(export_jobs)
            .where(export_jobs.c.id == job_id, export_jobs.c.status == ExportStatus.DONE)
            .values(status=ExportStatus.EXPIRED, file=None)
        )
