"""Integrator webhooks in the JSON API: endpoints, their deliveries, sending a dead one again."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel
from typing_extensions import TypedDict

from ..core.clock import iso
from ..core.events import EVENT_TYPES
from ..core.integrations import DeliveryAttempt, WebhookEndpoint
from ..core.outbox import OutboxMessage, OutboxStatus
from ..core.services import integrations as svc
from .http import CHAT, DEPS, ApiRoutes, body, json_response, page_json, paging, require_actor
from .schemas import Codes, Page, Timestamp, Url

routes = ApiRoutes("系统集成")


class EndpointIn(BaseModel):
    url: str
    events: list[str]


EventType = Annotated[str, Codes(EVENT_TYPES, "事件类型")]


class EndpointOut(TypedDict):
    id: str
    url: Url
    events: list[EventType]
    created_at: Timestamp


class EndpointList(TypedDict):
    items: list[EndpointOut]
    total: int


class NewEndpointOut(EndpointOut):
    secret: str  # shown this once


class AttemptOut(TypedDict):
    at: Timestamp
    status_code: int | None  # None: no answer (refused, unreachable, timed out)
    error: str


class DeliveryOut(TypedDict):
    id: str
    event_id: str | None
    type: EventType
    status: Annotated[str, Codes(OutboxStatus, "投递状态")]
    attempts: int
    created_at: Timestamp
    next_attempt_at: Timestamp | None
    sent_at: Timestamp | None
    last_error: str | None
    history: list[AttemptOut]


def endpoint_json(endpoint: WebhookEndpoint) -> EndpointOut:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": endpoint.events,
        "created_at": iso(endpoint.created_at),
    }


def delivery_json(message: OutboxMessage, attempts: list[DeliveryAttempt]) -> DeliveryOut:
    event = message.payload.get("event") or {}
    return {
        "id": message.id,
        "event_id": event.get("id"),
        "type": message.kind,
        "status": message.status,
        "attempts": message.attempts,
        "created_at": iso(message.created_at),
        "next_attempt_at": iso(message.next_attempt_at) if message.status == OutboxStatus.PENDING else None,
        "sent_at": iso(message.sent_at),
        "last_error": message.last_error,
        "history": [{"at": iso(a.at), "status_code": a.status_code, "error": a.error} for a in attempts],
    }


@routes.get("/api/v1/webhook-endpoints", "Webhook 接收地址列表", auth="enterprise", answer=EndpointList)
async def list_endpoints(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    endpoints = await svc.list_endpoints(request.app[DEPS], actor)
    return json_response({"items": [endpoint_json(e) for e in endpoints], "total": len(endpoints)})


@routes.post(
    "/api/v1/webhook-endpoints",
    "登记 Webhook 接收地址（签名密钥只显示一次）",
    body=EndpointIn,
    status=201,
    auth="enterprise",
    answer=NewEndpointOut,
)
async def create_endpoint(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, EndpointIn)
    endpoint, secret = await svc.register(request.app[DEPS], actor, data.url, data.events)
    return json_response({**endpoint_json(endpoint), "secret": secret}, 201)


@routes.get("/api/v1/webhook-endpoints/{id}", "Webhook 接收地址详情", auth="enterprise", answer=EndpointOut)
async def get_endpoint(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    endpoint = await svc.get_endpoint(request.app[DEPS], actor, request.match_info["id"])
    return json_response(endpoint_json(endpoint))


@routes.delete("/api/v1/webhook-endpoints/{id}", "删除 Webhook 接收地址（连同其投递记录）", auth="enterprise")
async def delete_endpoint(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    await svc.delete_endpoint(request.app[DEPS], actor, request.match_info["id"])
    return web.Response(status=204)


@routes.get(
    "/api/v1/webhook-endpoints/{id}/deliveries",
    "投递记录（每次投递及其每次尝试，新的在前）",
    paged=True,
    auth="enterprise",
    answer=Page[DeliveryOut],
)
async def deliveries(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    page, per_page = paging(request)
    items, total = await svc.deliveries(request.app[DEPS], actor, request.match_info["id"], page, per_page)
    return json_response(page_json([delivery_json(m, a) for m, a in items], total, page, per_page))


@routes.post(
    "/api/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver",
    "重新投递已停止重试的投递（事件 id 不变）",
    auth="enterprise",
    answer=DeliveryOut,
    errors=(409,),
)
async def redeliver(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    deps = request.app[DEPS]
    message, attempts = await svc.redeliver(
        deps, actor, request.match_info["id"], request.match_info["delivery_id"]
    )
    chat = request.app.get(CHAT)
    if chat is not None:
        chat.deliverer.wakeup.set()
    return json_response(delivery_json(message, attempts))
