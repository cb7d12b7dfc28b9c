"""HR notices, the read marks and the notice settings of members."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.notices import Notice, NoticePrefs
from .schema import Id, UTCDateTime, mapper_registry, metadata

notices = Table(
    "notices",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("enterprise_id", Id(), nullable=False),  # as an outbox row's: written from an event
    Column("kind", String(40), nullable=False),
    Column("text", Text, nullable=False),
    Column("contract_id", Id()),
    Column("employee_id", Id()),
    Column("event_id", Id(), unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_notices_enterprise_created", "enterprise_id", "created_at"),
)

notice_reads = Table(
    "notice_reads",
    metadata,
    Column("member_id", Id(), ForeignKey("members.id"), nullable=False),
    Column("notice_id", Id(), ForeignKey("notices.id"), nullable=False),
    Column("read_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("member_id", "notice_id", name="pk_notice_reads"),
)

notice_prefs = Table(
    "notice_prefs",
    metadata,
    Column("member_id", Id(), ForeignKey("members.id"), primary_key=True),
    Column("notify_by_sms", Boolean, nullable=False, default=False),
    Column("read_until", UTCDateTime()),
)


def map_notices() -> None:
    mapper_registry.map_imperatively(Notice, notices)
    mapper_registry.map_imperatively(NoticePrefs, notice_prefs)


class NoticeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def prefs(self, member_id: str) -> NoticePrefs:
        """The member's settings; the defaults (not yet stored) for one who never changed them."""
        return await self.s.get(NoticePrefs, member_id) or NoticePrefs(member_id=member_id)

    async def sms_wanted(self, member_ids: Sequence[str]) -> set[str]:
        if not member_ids:
            return set()
        stmt = select(notice_prefs.c.member_id).where(
            notice_prefs.c.member_id.in_(list(member_ids)), notice_prefs.c.notify_by_sms.is_(True)
        )
        return set((await self.s.execute(stmt)).scalars())

    async def page(
        self, enterprise_id: str, member_id: str, read_until: datetime | None, offset: int, limit: int
    ) -> tuple[list[tuple[Notice, bool]], int]:
        mine = notices.c.enterprise_id == enterprise_id
        total = (await self.s.execute(select(func.count()).select_from(notices).where(mine))).scalar_one()
        stmt = (
            select(Notice)
            .where(mine)
            .order_by(notices.c.created_at.desc(), notices.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        shown = list((await self.s.execute(stmt)).scalars())
        marked: set[str] = set()
        if shown:
            ids = [n.id for n in shown]
            got = select(notice_reads.c.notice_id).where(
                notice_reads.c.member_id == member_id, notice_reads.c.notice_id.in_(ids)
            )
            marked = set((await self.s.execute(got)).scalars())
        rows = [(n, n.id in marked or (read_until is not None and n.created_at <= read_until)) for n in shown]
        return rows, int(total)

    async def unread_count(self, enterprise_id: str, member_id: str, read_until: datetime | None) -> int:
        """The notices past the watermark less the member's marks among them: two index range
        counts, with no look-up per notice (a member's marks are the few read one by one since
        the last 全部已读)."""
        past: ColumnElement[bool] = notices.c.enterprise_id == enterprise_id
        if read_until is not None:
            past = and_(past, notices.c.created_at > read_until)
        newer = (await self.s.execute(select(func.count()).select_from(notices).where(past))).scalar_one()
        read = (
            select(func.count())
            .select_from(notice_reads.join(notices, notices.c.id == notice_reads.c.notice_id))
            .where(notice_reads.c.member_id == member_id, past)
        )
        return int(newer) - int((await self.s.execute(read)).scalar_one())

    async def mark_read(self, enterprise_id: str, member_id: str, ids: Sequence[str], now: datetime) -> None:
        """Marks the enterprise's notices among `ids` read (others' ids are ignored); marking
        one twice, or two requests at once, leaves one mark."""
        own = select(notices.c.id).where(
            notices.c.enterprise_id == enterprise_id, notices.c.id.in_(list(ids))
        )
        found = list((await self.s.execute(own)).scalars())
        if not found:
            return
        insert = postgresql.insert if self.s.get_bind().dialect.name == "postgresql" else sqlite.insert
        stmt = insert(notice_reads).values(
            [{"member_id": member_id, "notice_id": nid, "read_at": now} for nid in found]
        )
        await self.s.execute(stmt.on_conflict_do_nothing(index_elements=["member_id", "notice_id"]))

    async def mark_all_read(self, prefs: NoticePrefs, now: datetime) -> None:
        """Moves the watermark; the single marks it now covers are no longer needed."""
        prefs.read_until = now
        await self.s.execute(delete(notice_reads).where(notice_reads.c.member_id == prefs.member_id))
