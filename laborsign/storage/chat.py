"""Chat channel persistence: identities and bindings, conversations, inbound dedupe, review
cards, dead letters, the shared access tokens and leases; plus the outbox queue queries the
deliverer runs (claiming due rows safely with several processes)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from ..core.chat import ChatIdentity, Conversation, DeadLetter, InboundMessage, ReviewCard
from ..core.outbox import OutboxMessage, OutboxStatus
from .outbox import outbox
from .schema import Id, JSONList, UTCDateTime, mapper_registry, metadata, upsert, versioned

chat_identities = Table(
    "chat_identities",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("channel", String(20), nullable=False),
    Column("app_id", String(64), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("user_id", Id(), ForeignKey("users.id"), index=True),
    Column("phone", String(20)),
    Column("bound_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("unsubscribed_at", UTCDateTime()),
    UniqueConstraint("channel", "app_id", "external_id", name="uq_chat_identities_key"),
)

chat_conversations = Table(
    "chat_conversations",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("identity_id", Id(), ForeignKey("chat_identities.id"), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("app_id", String(64), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("flow", String(30), nullable=False),
    Column("state", String(60), nullable=False),
    Column("data", JSON, nullable=False),
    Column("history", JSONList(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
    UniqueConstraint("channel", "app_id", "external_id", "flow", name="uq_chat_conversations_key"),
    Index("ix_chat_conversations_status_expires", "status", "expires_at"),
)

chat_inbound = Table(
    "chat_inbound",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("channel", String(20), nullable=False),
    Column("app_id", String(64), nullable=False),
    Column("dedupe_key", String(200), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False, index=True),
    Column("reply", Text),
    Column("done_at", UTCDateTime()),
    UniqueConstraint("channel", "app_id", "dedupe_key", name="uq_chat_inbound_key"),
)

chat_review_cards = Table(
    "chat_review_cards",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("record_id", Id(), nullable=False, index=True),
    Column("enterprise_id", Id(), ForeignKey("enterprises.id"), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("recipient", String(128), nullable=False),
    Column("card_key", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("decision", String(20)),
    Column("decided_by", String(50)),
    Column("decided_at", UTCDateTime()),
    Column("response_code", String(200)),
    Column("version", Integer, nullable=False, server_default="1"),
    UniqueConstraint("channel", "card_key", name="uq_chat_review_cards_key"),
)

outbox_dead_letters = Table(
    "outbox_dead_letters",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("message_id", Id(), nullable=False, unique=True),
    Column("enterprise_id", Id(), index=True),
    Column("channel", String(20), nullable=False),
    Column("recipient_masked", String(128), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("text", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=False),
    Column("died_at", UTCDateTime(), nullable=False),
    Column("retried_at", UTCDateTime()),
)

# One row per shared secret-ish value with a lifetime: platform access tokens and leases (the
# DingTalk stream connection holder). `owner` + `lease_until` make one process the refresher.
chat_tokens = Table(
    "chat_tokens",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text),
    Column("expires_at", UTCDateTime()),
    Column("owner", String(64)),
    Column("lease_until", UTCDateTime()),
)


def map_chat() -> None:
    mapper_registry.map_imperatively(ChatIdentity, chat_identities)
    mapper_registry.map_imperatively(Conversation, chat_conversations, **versioned(chat_conversations))
    mapper_registry.map_imperatively(InboundMessage, chat_inbound)
    mapper_registry.map_imperatively(ReviewCard, chat_review_cards, **versioned(chat_review_cards))
    mapper_registry.map_imperatively(DeadLetter, outbox_dead_letters)


class ChatRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    # -- identities --------------------------------------------------------------------------

    async def identity(self, channel: str, app_id: str, external_id: str) -> ChatIdentity | None:
        stmt = select(ChatIdentity).where(
            chat_identities.c.channel == channel,
            chat_identities.c.app_id == app_id,
            chat_identities.c.external_id == external_id,
        )
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def person(
        self, channel: str, app_id: str, external_id: str
    ) -> tuple[ChatIdentity | None, list[Conversation]]:
        """The identity and its conversations (newest first) in one statement: read on every
        chat message."""
        stmt = (
            select(ChatIdentity, Conversation)
            .outerjoin(Conversation, chat_conversations.c.identity_id == chat_identities.c.id)
            .where(
                chat_identities.c.channel == channel,
                chat_identities.c.app_id == app_id,
                chat_identities.c.external_id == external_id,
            )
            .order_by(chat_conversations.c.updated_at.desc())
        )
        rows = (await self.s.execute(stmt)).all()
        if not rows:
            return None, []
        return rows[0][0], [conv for _, conv in rows if conv is not None]

    async def identities_of(self, user_ids: list[str], channels: list[str]) -> list[ChatIdentity]:
        if not user_ids:
            return []
        stmt = (
            select(ChatIdentity)
            .where(chat_identities.c.user_id.in_(user_ids), chat_identities.c.channel.in_(channels))
            .order_by(chat_identities.c.bound_at)
        )
        return list((await self.s.execute(stmt)).scalars())

    # -- conversations -----------------------------------------------------------------------

    async def conversations_of(self, identity_id: str) -> list[Conversation]:
        stmt = (
            select(Conversation)
            .where(chat_conversations.c.identity_id == identity_id)
            .order_by(chat_conversations.c.updated_at.desc())
        )
        return list((await self.s.execute(stmt)).scalars())

    async def expired_conversations(self, now: datetime, limit: int) -> list[Conversation]:
        stmt = (
            select(Conversation)
            .where(chat_conversations.c.status == "active", chat_conversations.c.expires_at <= now)
            .order_by(chat_conversations.c.expires_at)
            .limit(limit)
        )
        return list((await self.s.execute(stmt)).scalars())

    # -- inbound dedupe ----------------------------------------------------------------------

    async def inbound(self, channel: str, app_id: str, key: str) -> InboundMessage | None:
        stmt = select(InboundMessage).where(
            chat_inbound.c.channel == channel,
            chat_inbound.c.app_id == app_id,
            chat_inbound.c.dedupe_key == key,
        )
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def record_inbound(self, message: InboundMessage) -> bool:
        """Stores the message once, in this transaction: False when its key is already there
        (on PostgreSQL a concurrent first delivery is waited for, then seen)."""
        values = {c.name: getattr(message, c.name) for c in chat_inbound.columns}
        stmt = (
            upsert(self.s.get_bind().dialect.name, chat_inbound)
            .values(values)
            .on_conflict_do_nothing()
            .returning(chat_inbound.c.id)
        )
        return (await self.s.execute(stmt)).first() is not None

    async def forget_inbound_before(self, before: datetime) -> None:
        await self.s.execute(chat_inbound.delete().where(chat_inbound.c.received_at < before))

    # -- review cards ------------------------------------------------------------------------

    async def card(self, channel: str, card_key: str) -> ReviewCard | None:
        stmt = select(ReviewCard).where(
            chat_review_cards.c.channel == channel, chat_review_cards.c.card_key == card_key
        )
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def cards_of(self, record_id: str) -> list[ReviewCard]:
        stmt = select(ReviewCard).where(chat_review_cards.c.record_id == record_id)
        return list((await self.s.execute(stmt)).scalars())

    # -- dead letters ------------------------------------------------------------------------

    async def dead_letters(
        self, enterprise_id: str | None, offset: int, limit: int
    ) -> tuple[list[DeadLetter], int]:
        where: ColumnElement[bool] = outbox_dead_letters.c.retried_at.is_(None)
        if enterprise_id is not None:
            where = and_(where, outbox_dead_letters.c.enterprise_id == enterprise_id)
        total = (
            await self.s.execute(select(func.count()).select_from(outbox_dead_letters).where(where))
        ).scalar_one()
        stmt = select(DeadLetter).where(where).order_by(outbox_dead_letters.c.died_at.desc())
        rows = (await self.s.execute(stmt.offset(offset).limit(limit))).scalars()
        return list(rows), int(total)

    async def dead_letter_of(self, message_id: str) -> DeadLetter | None:
        stmt = select(DeadLetter).where(outbox_dead_letters.c.message_id == message_id)
        return (await self.s.execute(stmt)).scalar_one_or_none()


class OutboxQueue:
    """The deliverer's view of the outbox table. Claims use a lease on `next_attempt_at`: a
    claimed row is pushed into the future so no other process picks it while it is sent."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[OutboxMessage]:
        stmt = (
            select(outbox.c.id, outbox.c.next_attempt_at)
            .where(outbox.c.status == OutboxStatus.PENDING, outbox.c.next_attempt_at <= now)
            .order_by(outbox.c.next_attempt_at, outbox.c.created_at, outbox.c.id)
            .limit(limit)
        )
        if self.s.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = (await self.s.execute(stmt)).all()
        claimed: list[str] = []
        for row_id, seen in rows:
            # The compare on the value seen makes the claim safe without row locks (SQLite).
            result = await self.s.execute(
                update(outbox)
                .where(
                    outbox.c.id == row_id,
                    outbox.c.status == OutboxStatus.PENDING,
                    outbox.c.next_attempt_at == seen,
                )
                .values(next_attempt_at=now + lease)
            )
            if result.rowcount:  # type: ignore[attr-defined]
                claimed.append(row_id)
        if not claimed:
            return []
        loaded = await self.s.execute(
            select(OutboxMessage).where(outbox.c.id.in_(claimed)).execution_options(populate_existing=True)
        )
        messages = list(loaded.scalars())
        messages.sort(key=lambda m: (m.created_at, m.id))
        return messages

    async def release(self, message_id: str, lease_until: datetime, now: datetime) -> bool:
        """Ends a claim never acted on — only while the lease is still the one taken (compared
        in the UPDATE itself: once it ran out another process may have claimed the row)."""
        result = await self.s.execute(
            update(outbox)
            .where(
                outbox.c.id == message_id,
                outbox.c.status == OutboxStatus.PENDING,
                outbox.c.next_attempt_at == lease_until,
            )
            .values(next_attempt_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def sent_since(self, channel: str, recipient: str, since: datetime) -> list[datetime]:
        stmt = select(outbox.c.sent_at).where(
            outbox.c.channel == channel,
            outbox.c.recipient == recipient,
            outbox.c.status == OutboxStatus.SENT,
            outbox.c.sent_at >= since,
        )
        return [t for (t,) in (await self.s.execute(stmt)).all()]

    async def pending_count(self) -> int:
        stmt = select(func.count()).select_from(outbox).where(outbox.c.status == OutboxStatus.PENDING)
        return int((await self.s.execute(stmt)).scalar_one())


class TokenStore:
    """Values shared by every process (platform access tokens) and leases (one holder)."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def read(self, key: str) -> tuple[str | None, datetime | None]:
        row = (
            await self.s.execute(
                select(chat_tokens.c.value, chat_tokens.c.expires_at).where(chat_tokens.c.key == key)
            )
        ).first()
        return (row[0], row[1]) if row else (None, None)

    async def _ensure(self, key: str) -> None:
        exists = (await self.s.execute(select(chat_tokens.c.key).where(chat_tokens.c.key == key))).first()
        if exists:
            return
        try:
            async with self.s.begin_nested():
                await self.s.execute(insert(chat_tokens).values(key=key))
        except IntegrityError:
            pass  # another process created it first

    async def take_lease(self, key: str, owner: str, now: datetime, until: datetime) -> bool:
        """True when `owner` now holds the lease (it was free, expired, or already ours)."""
        await self._ensure(key)
        result = await self.s.execute(
            update(chat_tokens)
            .where(
                chat_tokens.c.key == key,
                or_(
                    chat_tokens.c.lease_until.is_(None),
                    chat_tokens.c.lease_until <= now,
                    chat_tokens.c.owner == owner,
                ),
            )
            .values(owner=owner, lease_until=until)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def release(self, key: str, owner: str) -> None:
        await self.s.execute(
            update(chat_tokens)
            .where(chat_tokens.c.key == key, chat_tokens.c.owner == owner)
            .values(owner=None, lease_until=None)
        )

    async def store(self, key: str, value: str, expires_at: datetime) -> None:
        await self.s.execute(
            update(chat_tokens).where(chat_tokens.c.key == key).values(value=value, expires_at=expires_at)
        )

    async def holder(self, key: str) -> tuple[str | None, datetime | None]:
        row = (
            await self.s.execute(
                select(chat_tokens.c.owner, chat_tokens.c.lease_until).where(chat_tokens.c.key == key)
            )
        ).first()
        return (row[0], row[1]) if row else (None, None)
