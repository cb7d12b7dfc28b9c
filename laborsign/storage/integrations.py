"""Integrator webhook endpoints and the attempts of their deliveries (the deliveries
themselves are outbox rows: channel "webhook", recipient the endpoint's id)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.integrations import DeliveryAttempt, WebhookEndpoint
from ..core.outbox import Channel, OutboxMessage
from .chat import outbox_dead_letters
from .outbox import outbox
from .schema import Id, JSONList, UTCDateTime, mapper_registry, metadata

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("enterprise_id", Id(), ForeignKey("enterprises.id"), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("events", JSONList(), nullable=False),
    Column("secret_enc", Text, nullable=False),  # AES-GCM under the platform secret
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=False),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("delivery_id", Id(), nullable=False),  # the outbox row
    Column("endpoint_id", Id(), nullable=False, index=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("status_code", Integer),
    Column("error", Text, nullable=False),
    Index("ix_webhook_attempts_delivery_at", "delivery_id", "at"),
)


def map_integrations() -> None:
    mapper_registry.map_imperatively(WebhookEndpoint, webhook_endpoints)
    mapper_registry.map_imperatively(DeliveryAttempt, webhook_attempts)


class IntegrationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def endpoints_of(self, enterprise_id: str) -> list[WebhookEndpoint]:
        stmt = (
            select(WebhookEndpoint)
            .where(webhook_endpoints.c.enterprise_id == enterprise_id)
            .order_by(webhook_endpoints.c.created_at, webhook_endpoints.c.id)
        )
        return list((await self.s.execute(stmt)).scalars())

    async def subscribed(self, enterprise_id: str, event_type: str) -> list[WebhookEndpoint]:
        # At most MAX_ENDPOINTS per enterprise: filtering the JSON list here is cheaper than a
        # dialect-specific JSON query.
        return [e for e in await self.endpoints_of(enterprise_id) if e.wants(event_type)]

    async def deliveries_page(
        self, endpoint_id: str, offset: int, limit: int
    ) -> tuple[list[OutboxMessage], int]:
        where = (outbox.c.channel == str(Channel.WEBHOOK)) & (outbox.c.recipient == endpoint_id)
        total = (await self.s.execute(select(func.count()).select_from(outbox).where(where))).scalar_one()
        stmt = (
            select(OutboxMessage)
            .where(where)
            .order_by(outbox.c.created_at.desc(), outbox.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list((await self.s.execute(stmt)).scalars()), int(total)

    async def attempts_of(self, delivery_ids: list[str]) -> dict[str, list[DeliveryAttempt]]:
        out: dict[str, list[DeliveryAttempt]] = defaultdict(list)
        if not delivery_ids:
            return out
        stmt = (
            select(DeliveryAttempt)
            .where(webhook_attempts.c.delivery_id.in_(delivery_ids))
            .order_by(webhook_attempts.c.at, webhook_attempts.c.id)
        )
        for attempt in (await self.s.execute(stmt)).scalars():
            out[attempt.delivery_id].append(attempt)
        return out

    async def forget_endpoint(self, endpoint: WebhookEndpoint) -> None:
        """The endpoint, its deliveries (sent or not: nobody is there to receive them) and
        their attempts."""
        await self.s.execute(delete(webhook_attempts).where(webhook_attempts.c.endpoint_id == endpoint.id))
        mine = (outbox.c.channel == str(Channel.WEBHOOK)) & (outbox.c.recipient == endpoint.id)
        await self.s.execute(
            delete(outbox_dead_letters).where(
                outbox_dead_letters.c.message_id.in_(select(outbox.c.id).where(mine))
            )
        )
        await self.s.execute(delete(outbox).where(mine))
        await self.s.delete(endpoint)
