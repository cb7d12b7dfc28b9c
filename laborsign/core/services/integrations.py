"""Integrator webhooks: register, list, read and delete endpoints; list their deliveries and
send a dead one again. Enterprise admins, members with the integrations permission, and API
keys (which act with the enterprise's full rights)."""

from __future__ import annotations

from ..accounts import Permission
from ..errors import Invalid, NotFound, WrongState
from ..integrations import (
    MAX_ENDPOINTS,
    SECRET_CONTEXT,
    DeliveryAttempt,
    WebhookEndpoint,
    check_target,
    new_secret,
    validate_events,
    validate_url,
)
from ..outbox import Channel, OutboxMessage, OutboxStatus
from ..ports import Deps, UnitOfWork
from .accounts import Actor

NOT_FOUND = "Webhook 接收地址不存在"
DELIVERY_NOT_FOUND = "投递记录不存在"


def secret_context(endpoint_id: str) -> str:
    """Binds the ciphertext to its endpoint: a secret copied onto another row does not open."""
    return f"{SECRET_CONTEXT}:{endpoint_id}"


async def register(deps: Deps, actor: Actor, url: object, events: object) -> tuple[WebhookEndpoint, str]:
    """Returns the endpoint and its secret, which is shown this once."""
    enterprise = actor.require(Permission.INTEGRATIONS)
    policy = deps.target_policy
    target = validate_url(url, policy)
    wanted = validate_events(events)
    await check_target(target, policy)
    secret = new_secret()
    creator = actor.user.id if actor.user else (actor.api_key.id if actor.api_key else "")
    endpoint = WebhookEndpoint(
        enterprise_id=enterprise.id, url=target.url, events=wanted, secret_enc="",
        created_at=deps.clock.now(), created_by=creator,
    )  # fmt: skip
    endpoint.secret_enc = deps.cipher.encrypt(secret, secret_context(endpoint.id))
    async with deps.uow() as uow:
        if len(await uow.integrations.endpoints_of(enterprise.id)) >= MAX_ENDPOINTS:
            raise Invalid.field("url", f"每个企业最多登记{MAX_ENDPOINTS}个接收地址")
        uow.add(endpoint)
        await uow.commit()
    return endpoint, secret


async def list_endpoints(deps: Deps, actor: Actor) -> list[WebhookEndpoint]:
    enterprise = actor.require(Permission.INTEGRATIONS)
    async with deps.uow() as uow:
        return await uow.integrations.endpoints_of(enterprise.id)


async def _own(uow: UnitOfWork, actor: Actor, endpoint_id: str) -> WebhookEndpoint:
    enterprise = actor.require(Permission.INTEGRATIONS)
    endpoint = await uow.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.enterprise_id != enterprise.id:
        raise NotFound(NOT_FOUND, "webhook_endpoint_not_found")
    return endpoint


async def get_endpoint(deps: Deps, actor: Actor, endpoint_id: str) -> WebhookEndpoint:
    async with deps.uow() as uow:
        return await _own(uow, actor, endpoint_id)


async def delete_endpoint(deps: Deps, actor: Actor, endpoint_id: str) -> None:
    async with deps.uow() as uow:
        endpoint = await _own(uow, actor, endpoint_id)
        await uow.integrations.forget_endpoint(endpoint)
        await uow.commit()


async def deliveries(
    deps: Deps, actor: Actor, endpoint_id: str, page: int, per_page: int
) -> tuple[list[tuple[OutboxMessage, list[DeliveryAttempt]]], int]:
    async with deps.uow() as uow:
        endpoint = await _own(uow, actor, endpoint_id)
        items, total = await uow.integrations.deliveries_page(endpoint.id, (page - 1) * per_page, per_page)
        attempts = await uow.integrations.attempts_of([m.id for m in items])
    return [(m, attempts.get(m.id, [])) for m in items], total


async def redeliver(
    deps: Deps, actor: Actor, endpoint_id: str, delivery_id: str
) -> tuple[OutboxMessage, list[DeliveryAttempt]]:
    """A dead delivery gets a fresh round of the outbox's tries, with the same event id."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        endpoint = await _own(uow, actor, endpoint_id)
        message = await uow.get(OutboxMessage, delivery_id)
        if message is None or message.channel != Channel.WEBHOOK or message.recipient != endpoint.id:
            raise NotFound(DELIVERY_NOT_FOUND, "delivery_not_found")
        if message.status != OutboxStatus.DEAD:
            raise WrongState("只有已停止重试的投递可以重新投递", "delivery_not_dead")
        letter = await uow.chat.dead_letter_of(message.id)
        if letter is not None and letter.retried_at is None:
            letter.mark_retried(now)
        message.revive(now)
        attempts = await uow.integrations.attempts_of([message.id])
        await uow.commit()
    return message, attempts.get(message.id, [])
