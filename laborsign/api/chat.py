"""Chat channels in the JSON API: the outbox dead letters and the channels' join QR codes."""

from __future__ import annotations

import io
from typing import Annotated

from aiohttp import web
from typing_extensions import TypedDict

from ..bots.channels import SendError, registry
from ..bots.channels.base import JoinCode
from ..core.chat import DeadLetter, error_summary
from ..core.clock import iso
from ..core.errors import NotFound, WrongState
from ..core.outbox import Channel
from ..core.services import chat as svc
from ..core.services import roster as roster_service
from .http import CHAT, DEPS, ApiRoutes, json_response, page_json, paging, require_actor
from .schemas import Codes, Items, Page, Timestamp, Url

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


class JoinChannelOut(TypedDict):
    channel: Annotated[str, Codes(registry.CHANNELS, "消息渠道")]
    label: str  # the channel's name as the pages show it
    join_label: str  # how to scan the code, for the invite page
    qr_png: Url


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


async def _join_code(request: web.Request, channel: str) -> JoinCode:
    """The channel's join QR code for the caller's enterprise. Unknown, disabled or without a
    join QR code: 404; the platform refusing: 409."""
    actor = await require_actor(request)
    adapter = registry.adapter(channel)
    if adapter is None:
        raise NotFound("没有这个聊天渠道", "channel_not_found")
    if not adapter.join_label:
        raise NotFound(f"{adapter.label}不提供入职二维码", "no_join_qr")
    chat = request.app.get(CHAT)
    if chat is None or channel not in chat.senders:
        raise NotFound(f"未启用{adapter.label}", "channel_disabled")
    deps = request.app[DEPS]
    link = await roster_service.invite_link(deps, actor)
    settings = adapter.settings(chat.config)
    join_url = roster_service.join_url(deps, link.token)
    try:
        return await adapter.join_code(chat.senders[channel], settings, link.token, join_url)
    except SendError as exc:
        raise WrongState(f"{adapter.label}接口调用失败：{exc}", f"{channel}_failed") from None


def _png(content: str) -> bytes:
    import qrcode

    out = io.BytesIO()
    qrcode.make(content, box_size=10, border=2).save(out)
    return out.getvalue()


@routes.get(
    "/api/v1/invite-link/channels",
    "可扫码入职的聊天渠道（已启用且提供入职二维码的）",
    auth="enterprise",
    answer=Items[JoinChannelOut],
)
async def join_channels(request: web.Request) -> web.Response:
    await require_actor(request)
    chat = request.app.get(CHAT)
    enabled = chat.senders if chat is not None else {}
    items: list[JoinChannelOut] = [
        {"channel": a.name, "label": a.label, "join_label": a.join_label, "qr_png": _qr_path(a.name)}
        for a in registry.ADAPTERS
        if a.join_label and a.name in enabled
    ]
    return json_response({"items": items})


def _qr_path(channel: str) -> str:
    return f"/api/v1/invite-link/channels/{channel}/qr"


@routes.get(
    "/api/v1/invite-link/channels/{channel}/qr",
    "聊天渠道的入职二维码（PNG）：用该渠道的应用扫码即开始入职；未知、未启用或不提供入职二维码的渠道为 404，"
    "平台接口失败为 409",
    auth="enterprise",
    produces="image/png",
    errors=(404, 409),
)
async def channel_qr(request: web.Request) -> web.Response:
    channel = request.match_info["channel"]
    code = await _join_code(request, channel)
    disposition = "attachment" if request.query.get("download") == "1" else "inline"
    return web.Response(
        body=_png(code.content),
        content_type="image/png",
        headers={
            "Content-Disposition": f'{disposition}; filename="invite-qr-{channel}.png"',
            "Cache-Control": "no-store",  # the invite token changes when HR resets the link
        },
    )


@routes.get(
    "/api/v1/invite-link/wechat-qr",
    "公众号带参数二维码（扫码关注即开始入职）；未启用公众号为 404，微信接口失败为 409。"
    "图片见 /api/v1/invite-link/channels/wechat/qr",
    auth="enterprise",
    answer=WechatQrOut,
    errors=(404, 409),
)
async def wechat_qr(request: web.Request) -> web.Response:
    code = await _join_code(request, "wechat")
    ticket = code.details["ticket"]
    answer: WechatQrOut = {
        "scene": code.details["scene"],
        "ticket": ticket,
        "url": code.content,
        "image_url": f"https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket={ticket}",
    }
    return json_response(answer)
