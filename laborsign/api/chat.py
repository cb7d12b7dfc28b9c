"""Chat channels in the JSON API: the outbox dead letters and the WeChat parametric QR code."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from typing_extensions import TypedDict

from ..bots.channels import registry
from ..core.chat import DeadLetter, error_summary
from ..core.clock import iso
from ..core.errors import NotFound, WrongState
from ..core.outbox import Channel
from ..core.services import chat as svc
from ..core.services import roster as roster_service
from .http import CHAT, DEPS, ApiRoutes, json_response, page_json, paging, require_actor
from .schemas import Codes, Page, Timestamp, Url

routes = ApiRoutes("聊天渠道")


class DeadLetterOut(TypedDict):
    id: str
    channel: Annotated[str, Codes((*Channel, *registry.CHANNELS), "消息渠道")]
    recipient: str  # masked
    kind: str  # what the message was about (sms_code, invitation, review_result, …)
    text: str
    attempts: int
    last_error: str  # the platform's raw answer
    error_summary: str  # why, as HR reads it
    died_at: Timestamp


class RetriedOut(TypedDict):
    retried: int


class WechatQrOut(TypedDict):
    scene: str
    ticket: str
    url: str | None
    image_url: Url


def dead_letter_json(d: DeadLetter) -> DeadLetterOut:
    return {
        "id": d.id,
        "channel": d.channel,
        "recipient": d.recipient_masked,
        "kind": d.kind,
        "text": d.text,
        "attempts": d.attempts,
        "last_error": d.last_error,
        "error_summary": error_summary(d.last_error),
        "died_at": iso(d.died_at),
    }


@routes.get(
    "/api/v1/chat/dead-letters",
    "多次发送失败的消息（死信）",
    paged=True,
    auth="enterprise",
    answer=Page[DeadLetterOut],
)
async def dead_letters(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    page, per_page = paging(request)
    items, total = await svc.dead_letters(request.app[DEPS], actor, page, per_page)
    return json_response(page_json([dead_letter_json(d) for d in items], total, page, per_page))


@routes.post("/api/v1/chat/dead-letters/retry", "重新发送全部死信", auth="enterprise", answer=RetriedOut)
async def retry(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    count = await svc.retry_dead_letters(request.app[DEPS], actor)
    chat = request.app.get(CHAT)
    if chat is not None:
        chat.deliverer.wakeup.set()
    return json_response({"retried": count})


@routes.get(
    "/api/v1/invite-link/wechat-qr",
    "公众号带参数二维码（扫码关注即开始入职）；未启用公众号为 404，微信接口失败为 409",
    auth="enterprise",
    answer=WechatQrOut,
    errors=(404, 409),
)
async def wechat_qr(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    deps = request.app[DEPS]
    from ..bots.channels import SendError

    chat = request.app.get(CHAT)
    if chat is None or chat.wechat is None:
        raise NotFound("未启用微信公众号", "channel_disabled")
    link = await roster_service.invite_link(deps, actor)
    scene = f"join:{link.token}"
    try:
        created = await chat.wechat.create_scene_qr(scene)
    except SendError as exc:
        raise WrongState(f"微信接口调用失败：{exc}", "wechat_failed") from None
    ticket = str(created.get("ticket", ""))
    url = created.get("url")
    answer: WechatQrOut = {
        "scene": scene,
        "ticket": ticket,
        "url": None if url is None else str(url),
        "image_url": f"https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket={ticket}",
    }
    return json_response(answer)
