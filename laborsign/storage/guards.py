"""The abuse budgets' buckets and the one-time keys (replayed callbacks, used captchas):
small rows every process reads and writes with compare-and-set, so that they agree."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, String, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .schema import UTCDateTime, metadata, upsert

budgets = Table(
    "budgets",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("full_at", UTCDateTime(), nullable=False),  # when the bucket is full again
    Index("ix_budgets_full_at", "full_at"),
)

seen_once = Table(
    "seen_once",
    metadata,
    Column("scope", String(40), primary_key=True),
    Column("key", String(64), primary_key=True),  # SHA-256 of the key
    Column("digest", String(64), nullable=False),  # SHA-256 of what came with it
    Column("seen_at", UTCDateTime(), nullable=False),
    Column("until", UTCDateTime(), nullable=False),
    Index("ix_seen_once_until", "until"),
)


class BudgetStore:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def full_at(self, key: str) -> datetime | None:
        value: datetime | None = await self.s.scalar(select(budgets.c.full_at).where(budgets.c.key == key))
        return value

    async def swap(self, key: str, old: datetime | None, new: datetime) -> bool:
        """Sets the bucket's time if it is still `old` (None: no row yet)."""
        if old is None:
            try:
                async with self.s.begin_nested():
                    await self.s.execute(insert(budgets).values(key=key, full_at=new))
            except IntegrityError:
                return False  # another request created it first
            return True
        result = await self.s.execute(
            update(budgets).where(budgets.c.key == key, budgets.c.full_at == old).values(full_at=new)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    async def forget_full_before(self, when: datetime) -> int:
        """A bucket full again is the same as no row."""
        result = await self.s.execute(delete(budgets).where(budgets.c.full_at < when))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class SeenStore:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def remember(self, scope: str, key: str, digest: str, now: datetime, until: datetime) -> str | None:
        # One statement: no savepoint around an insert that may collide.
        stmt = (
            upsert(self.s.get_bind().dialect.name, seen_once)
            .values(scope=scope, key=key, digest=digest, seen_at=now, until=until)
            .on_conflict_do_nothing()
            .returning(seen_once.c.key)
        )
        if (await self.s.execute(stmt)).first() is not None:
            return None
        stored: str | None = await self.s.scalar(
            select(seen_once.c.digest).where(seen_once.c.scope == scope, seen_once.c.key == key)
        )
        return stored if stored is not None else digest

    async def forget_before(self, when: datetime) -> int:
        result = await self.s.execute(delete(seen_once).where(seen_once.c.until < when))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
