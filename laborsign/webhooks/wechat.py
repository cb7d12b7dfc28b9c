"""WeChat Official Account callbacks: URL check, signature, safe-mode AES, MsgId dedupe, and
an answer within WeChat's 5 s (a passive encrypted reply, or an acknowledgement followed by a
customer-service message when the step takes longer)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web

from ..bots.engine import Incoming
from ..core.errors import Forbidden
from ..core.replay import callback_key
from ..http import ApiRoutes
from .callback_crypto import BadSignature, check_url_signature, crypto_for
from .common import (
    admit,
    answer_in_time,
    check_fresh,
    decrypted,
    late_reply,
    parse_callback,
    parsed,
    query,
    read_body,
    refuse_hostile_xml,
    refuse_plaintext,
    retry_lost_connection,
    runtime,
    safe_str,
    text_response,
    xml_response,
)

routes = ApiRoutes("聊天渠道回调")

EVENTS = {
    "subscribe": "subscribe",
    "subscribe_scan": "subscribe",
    "scan": "scan",
    "unsubscribe": "unsubscribe",
}


@routes.get(
    "/webhooks/wechat",
    "微信公众号：服务器地址校验（echostr）",
    auth="public",
    query={"signature": "签名", "timestamp": "时间戳", "nonce": "随机数", "echostr": "回显字符串"},
    produces="text/plain",
    errors=(403, 404),
)
async def wechat_check(request: web.Request) -> web.Response:
    chat = runtime(request, "wechat")
    signature, timestamp, nonce, echostr = query(request, "signature", "timestamp", "nonce", "echostr")
    _check_url(chat.config.wechat.token, signature, timestamp, nonce)
    return text_response(echostr)


def _check_url(token: str, signature: str, timestamp: str, nonce: str) -> None:
    try:
        check_url_signature(token, signature, timestamp, nonce)
    except BadSignature:
        raise Forbidden("签名校验失败", "bad_signature") from None


@routes.post(
    "/webhooks/wechat",
    "微信公众号：消息与事件（明文或安全模式 AES 加密）",
    auth="public",
    query={
        "signature": "签名",
        "timestamp": "时间戳",
        "nonce": "随机数",
        "encrypt_type": "aes",
        "msg_signature": "消息签名",
    },
    produces="application/xml",
    errors=(403, 404, 413),
)
@retry_lost_connection
async def wechat_message(request: web.Request) -> web.Response:
    chat = runtime(request, "wechat")
    config = chat.config.wechat
    from wechatpy import parse_message
    from wechatpy.messages import MESSAGE_TYPES
    from wechatpy.replies import TextReply

    signature, timestamp, nonce, encrypt_type, msg_signature = query(
        request, "signature", "timestamp", "nonce", "encrypt_type", "msg_signature"
    )
    _check_url(config.token, signature, timestamp, nonce)
    check_fresh(timestamp, chat.deps.clock.now().timestamp())
    body = await read_body(request)
    refuse_hostile_xml(body)
    if config.encoding_aes_key and encrypt_type != "aes":
        # The URL signature does not cover a plaintext body: with a key, only safe mode.
        raise refuse_plaintext()
    crypto = (
        decrypted(lambda: crypto_for(config.token, config.encoding_aes_key, config.app_id))
        if encrypt_type == "aes"
        else None
    )
    xml: Any = body
    if crypto is not None:
        xml = decrypted(lambda: crypto.decrypt_message(body, msg_signature, timestamp, nonce))
        refuse_hostile_xml(xml)
    key = f"{config.app_id}:{timestamp}:{nonce}:{signature}:{msg_signature}"
    if crypto is None:  # the signature does not cover the body: refuse a replay before anything
        await admit(chat, "wechat", key, body)
    message = parsed(lambda: parse_callback(xml, MESSAGE_TYPES, parse_message))
    incoming = _incoming(message, config.app_id)
    if incoming is None:
        if crypto is not None:
            await admit(chat, "wechat", key, body)
        return text_response("success")  # unknown types: acknowledged, ignored
    if crypto is not None:
        # msg_signature covers the encrypted message, so what is stepped is what was signed:
        # the guard rides in the step's transaction (a replay under another body stores nothing).
        incoming = replace(incoming, guard=callback_key("wechat", key, body, chat.deps.clock.now()))
    outcome = await answer_in_time(chat.engine, incoming, late_reply(chat, incoming))
    if outcome is None or not outcome.text:
        return text_response("success")
    reply = TextReply(message=message, content=outcome.text).render()
    if crypto is not None:
        reply = crypto.encrypt_message(reply, nonce, timestamp)
    return xml_response(reply)


def _incoming(message: Any, app_id: str) -> Incoming | None:
    openid = safe_str(getattr(message, "source", ""), 128)
    if not openid:
        return None
    created = safe_str(getattr(message, "_data", {}).get("CreateTime", ""), 20)
    if message.type == "text":
        return Incoming(
            channel="wechat", app_id=app_id, external_id=openid, text=safe_str(message.content).strip(),
            dedupe_key=f"msg:{message.id}" if message.id else f"text:{openid}:{created}",
        )  # fmt: skip
    if message.type == "event":
        event = EVENTS.get(message.event)
        if event is None:
            return None
        scene = safe_str(getattr(message, "scene_id", "") or "", 200)
        return Incoming(
            channel="wechat", app_id=app_id, external_id=openid, event=event, scene=scene or None,
            dedupe_key=f"event:{openid}:{created}:{message.event}",
        )  # fmt: skip
    if message.type in ("image", "voice", "video", "shortvideo", "location", "link"):
        return Incoming(
            channel="wechat", app_id=app_id, external_id=openid, text="",
            dedupe_key=f"msg:{message.id}" if getattr(message, "id", None) else None,
        )  # fmt: skip
    return None
