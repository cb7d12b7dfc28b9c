"""The outbox table: every outbound message (SMS, chat, card) as a row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, String, Table, Text, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.outbox import OutboxMessage
from .schema import Id, UTCDateTime, mapper_registry, metadata

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("channel", String(20), nullable=False),
    Column("recipient", String(128), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("text", Text, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
    Column("last_error", Text),
    Column("dedupe_key", String(200), unique=True),
    Column("redacted_at", UTCDateTime()),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
    Index("ix_outbox_channel_recipient", "channel", "recipient", "created_at"),
)


def map_outbox() -> None:
    mapper_registry.map_imperatively(OutboxMessage, outbox)


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    def add(self, message: OutboxMessage) -> None:
        self.s.add(message)

    async def add_many(self, rows: list[dict[str, Any]]) -> None:
        """Bulk insert (bulk invitations): one statement instead of one round trip each."""
        if rows:
            await self.s.execute(outbox.insert(), rows)

    async def codes_readable_before(self, before: datetime, limit: int) -> list[OutboxMessage]:
        """SMS codes still readable that were written before `before`."""
        stmt = (
            select(OutboxMessage)
            .where(outbox.c.kind == "sms_code", outbox.c.redacted_at.is_(None), outbox.c.created_at < before)
            .order_by(outbox.c.created_at)
            .limit(limit)
        )
        return list((await self.s.execute(stmt)).scalars())

    async def for_recipient(self, channel: str, recipient: str, limit: int = 50) -> list[OutboxMessage]:
        stmt = (
            select(OutboxMessage)
            .where(outbox.c.channel == channel, outbox.c.recipient == recipient)
            .order_by(outbox.c.created_at.desc(), outbox.c.id.desc())
            .limit(limit)
        )
        return list((await self.s.execute(stmt)).scalars())
