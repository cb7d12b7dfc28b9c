"""`POST /webhooks/feishu`: Feishu's event-subscription callbacks.

The SDK's `EventDispatcherHandler` decrypts the body (AES-256-CBC under SHA-256 of the Encrypt
Key), checks the Verification Token and `X-Lark-Signature` (SHA-256 of timestamp, nonce, Encrypt
Key and body) and parses the event; its handlers only hand the parsed event back here, since our
steps are async and its dispatch is not. Then: the freshness window, the replay guard, the
dedupe, and the step. Feishu wants an answer within 3 s, so replies go through the outbox."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Annotated, Any

from aiohttp import web
from typing_extensions import TypedDict

from ....api.schemas import Codes
from ....core.errors import BadRequest, Forbidden
from ....http import ApiRoutes, json_response
from ....inputs import parse_json
from ....webhooks.common import (
    ANSWER_WITHIN,
    admit,
    check_fresh,
    keep,
    read_body,
    retry_lost_connection,
    runtime,
    safe_str,
)
from ... import hr
from ...engine import Incoming
from ...runtime import ChatRuntime
from . import ADAPTER, FeishuConfig
from .sender import decided_card

routes = ApiRoutes("聊天渠道回调")

TIMESTAMP, NONCE, SIGNATURE = "X-Lark-Request-Timestamp", "X-Lark-Request-Nonce", "X-Lark-Signature"
# How the SDK's dispatcher words its refusals (it answers 500 with {"msg": …} for all failures).
_FORGED = ("signature verification failed", "invalid verification_token")
_UNHANDLED = "processor not found"


@dataclass
class Heard:
    """What the dispatcher made of the callback: an event, or the challenge to echo."""

    event: Any = None
    challenge: str | None = None


def _dispatch(settings: FeishuConfig, headers: dict[str, str], body: bytes) -> Heard | None:
    """None: a valid callback of a kind we do not act on (acknowledged, ignored)."""
    import lark_oapi as lark
    from lark_oapi.core.model import RawRequest
    from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse

    heard = Heard()

    def on_message(event: Any) -> None:
        heard.event = event

    def on_card(event: Any) -> P2CardActionTriggerResponse:
        heard.event = event
        return P2CardActionTriggerResponse()  # the real answer is built after the async step

    dispatcher = (
        lark.EventDispatcherHandler.builder(
            settings.encrypt_key, settings.verification_token, lark.LogLevel.CRITICAL
        )
        .register_p2_im_message_receive_v1(on_message)
        .register_p2_card_action_trigger(on_card)
        .build()
    )
    raw = RawRequest()
    raw.uri = "/webhooks/feishu"
    raw.body = body
    raw.headers = headers
    answer = dispatcher.do(raw)
    try:
        content = json.loads(answer.content or b"{}")
    except ValueError:
        content = {}
    if answer.status_code == 200:
        if heard.event is None and isinstance(content, dict) and "challenge" in content:
            heard.challenge = str(content["challenge"])
        return heard
    reason = str(content.get("msg", "")) if isinstance(content, dict) else ""
    if any(word in reason for word in _FORGED):
        raise Forbidden("消息签名或 Verification Token 校验失败", "bad_signature")
    if _UNHANDLED in reason:
        return None
    raise BadRequest("消息无法解密或格式不正确", "undecryptable")


class FeishuToast(TypedDict):
    type: Annotated[str, Codes(("success", "info"), "提示类型")]
    content: str


class FeishuAnswer(TypedDict, total=False):
    """What Feishu reads back: the URL check's challenge, or a card press's toast and new card."""

    challenge: str
    toast: FeishuToast
    card: dict[str, Any]


@routes.post(
    "/webhooks/feishu",
    "飞书：事件订阅（URL 校验、加密事件 im.message.receive_v1、X-Lark-Signature 签名）与卡片按钮回调",
    auth="public",
    answer=FeishuAnswer,
    errors=(403, 404, 413),
)
@retry_lost_connection
async def feishu_callback(request: web.Request) -> web.Response:
    chat = runtime(request, ADAPTER.name)
    settings = ADAPTER.settings(chat.config)
    if not settings.encrypt_key:
        raise Forbidden("未配置飞书 Encrypt Key，不接受回调", "encrypt_key_missing")
    body = await read_body(request)
    data: Any = parse_json(body)
    if not isinstance(data, dict):
        raise BadRequest("请求内容应为 JSON 对象", "malformed_json")
    if "encrypt" not in data:
        raise Forbidden("已配置 Encrypt Key，不接受明文回调", "plaintext_refused")
    headers = {name: request.headers.get(name, "")[:200] for name in (TIMESTAMP, NONCE, SIGNATURE)}
    heard = _dispatch(settings, headers, body)
    if heard is not None and heard.challenge is not None:
        return json_response({"challenge": heard.challenge})
    check_fresh(headers[TIMESTAMP], chat.deps.clock.now().timestamp())
    key = f"{settings.app_id}:{headers[TIMESTAMP]}:{headers[NONCE]}:{headers[SIGNATURE]}"
    await admit(chat, ADAPTER.name, key, body)
    if heard is None or heard.event is None:
        return json_response({})
    header = heard.event.header
    if header is not None and header.event_type == "card.action.trigger":
        return json_response(await _card_action(chat, settings, heard.event))
    await _message(chat, settings, heard.event)
    return json_response({})


async def _message(chat: ChatRuntime, settings: FeishuConfig, event: Any) -> None:
    body = event.event
    sender = body.sender.sender_id if body and body.sender else None
    message = body.message if body else None
    open_id = safe_str(sender.open_id if sender else "", 128)
    if not open_id or message is None or message.chat_type != "p2p":
        return  # group chats are not where a worker fills in their data
    text = ""
    if message.message_type == "text":
        try:
            text = str(json.loads(message.content or "{}").get("text", ""))
        except (ValueError, AttributeError):
            text = ""
    incoming = Incoming(
        channel=ADAPTER.name, app_id=settings.app_id, external_id=open_id, text=safe_str(text).strip(),
        dedupe_key=f"msg:{message.message_id}" if message.message_id else None, reply_by_outbox=True,
    )  # fmt: skip
    step = asyncio.ensure_future(chat.engine.handle(incoming))
    step.add_done_callback(lambda _: chat.deliverer.wakeup.set())
    keep(step)
    # A step slower than Feishu's deadline carries on after the acknowledgement: its replies
    # are queued with it, and a retry of the event is answered by the dedupe.
    await asyncio.wait({step}, timeout=ANSWER_WITHIN)


async def _card_action(chat: ChatRuntime, settings: FeishuConfig, event: Any) -> FeishuAnswer:
    body = event.event
    open_id = safe_str(body.operator.open_id if body and body.operator else "", 128)
    value = (body.action.value if body and body.action else None) or {}
    card_key = safe_str(value.get("card_key"), 128)
    action = safe_str(value.get("action"), 20)
    event_id = safe_str(event.header.event_id, 128)
    if not open_id or not card_key:
        return {}
    if not await chat.engine.claim_once(ADAPTER.name, settings.app_id, f"card:{event_id}"):
        return {}  # Feishu retried the same press
    result = await hr.decide(chat.deps, ADAPTER.name, settings.app_id, card_key, open_id, action)
    chat.deliverer.wakeup.set()
    answer: FeishuAnswer = {
        "toast": {"type": "success" if result.acted else "info", "content": result.text}
    }
    async with chat.deps.uow() as uow:
        card = await uow.chat.card(ADAPTER.name, card_key)
    if card is not None and card.decision is not None:
        link = hr.record_link(chat.deps, card.record_id)
        answer["card"] = {"type": "raw", "data": decided_card(result.text, link)}
    return answer
