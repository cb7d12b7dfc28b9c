"""WeCom (企业微信) app callbacks: URL check, encrypted messages (HR binds and asks for help
here) and `template_card_event` presses on the onboarding-review card."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web

from ..bots import hr
from ..bots.engine import Incoming
from ..core.errors import BadRequest, Forbidden
from ..core.replay import callback_key
from ..http import ApiRoutes
from .callback_crypto import BadSignature, CallbackCrypto, Undecryptable, crypto_for
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


def _crypto(request: web.Request) -> CallbackCrypto:
    config = runtime(request, "wecom").config.wecom
    crypto: CallbackCrypto = decrypted(
        lambda: crypto_for(config.token, config.encoding_aes_key, config.corp_id)
    )
    return crypto


@routes.get(
    "/webhooks/wecom",
    "企业微信：回调地址校验",
    auth="public",
    query={"msg_signature": "签名", "timestamp": "时间戳", "nonce": "随机数", "echostr": "加密的回显字符串"},
    produces="text/plain",
    errors=(403, 404),
)
async def wecom_check(request: web.Request) -> web.Response:
    crypto = _crypto(request)
    signature, timestamp, nonce, echostr = query(request, "msg_signature", "timestamp", "nonce", "echostr")
    try:
        plain = crypto.decrypt(echostr, signature, timestamp, nonce)
    except BadSignature:
        raise Forbidden("签名校验失败", "bad_signature") from None
    except Undecryptable:
        raise BadRequest("回显字符串无法解密", "undecryptable") from None
    return text_response(plain)


@routes.post(
    "/webhooks/wecom",
    "企业微信：加密消息与模板卡片按钮事件",
    auth="public",
    query={"msg_signature": "签名", "timestamp": "时间戳", "nonce": "随机数"},
    produces="application/xml",
    errors=(403, 404, 413),
)
@retry_lost_connection
async def wecom_message(request: web.Request) -> web.Response:
    chat = runtime(request, "wecom")
    crypto = _crypto(request)
    from wechatpy.enterprise import parse_message
    from wechatpy.enterprise.messages import MESSAGE_TYPES
    from wechatpy.replies import TextReply

    signature, timestamp, nonce = query(request, "msg_signature", "timestamp", "nonce")
    check_fresh(timestamp, chat.deps.clock.now().timestamp())
    body = await read_body(request)
    refuse_hostile_xml(body)
    if b"<Encrypt>" not in body:
        raise refuse_plaintext()  # WeCom always encrypts: a plaintext body is not from it
    xml = decrypted(lambda: crypto.decrypt_message(body, signature, timestamp, nonce))
    refuse_hostile_xml(xml)
    # The signature covers the encrypted message: the guard rides in a step's transaction,
    # and is written first for whatever is not a step.
    key = f"{chat.config.wecom.corp_id}:{timestamp}:{nonce}:{signature}"
    message = parsed(lambda: parse_callback(xml, MESSAGE_TYPES, parse_message))
    corp_id = chat.config.wecom.corp_id
    data: dict[str, Any] = getattr(message, "_data", {}) or {}
    user = safe_str(data.get("FromUserName"), 128)
    if not user:
        await admit(chat, "wecom", key, body)
        return text_response("")
    if data.get("MsgType") == "event" and data.get("Event") == "template_card_event":
        await admit(chat, "wecom", key, body)
        await _card_event(chat, corp_id, user, data)
        return text_response("")
    event = data.get("Event") if data.get("MsgType") == "event" else None
    if event in ("subscribe", "unsubscribe"):
        # A member added to or removed from the app (or its visible range): cards and notices
        # go to followers only.
        created = safe_str(data.get("CreateTime", ""), 20)
        incoming = Incoming(
            channel="wecom", app_id=corp_id, external_id=user, event=event,
            dedupe_key=f"event:{user}:{created}:{event}",
        )  # fmt: skip
    elif data.get("MsgType") != "text":
        await admit(chat, "wecom", key, body)
        return text_response("")  # other events (enter_agent, location…): nothing to do
    else:
        incoming = Incoming(
            channel="wecom", app_id=corp_id, external_id=user, text=safe_str(data.get("Content")).strip(),
            dedupe_key=f"msg:{data.get('MsgId')}" if data.get("MsgId") else None,
        )  # fmt: skip
    incoming = replace(incoming, guard=callback_key("wecom", key, body, chat.deps.clock.now()))
    outcome = await answer_in_time(chat.engine, incoming, late_reply(chat, incoming))
    if outcome is None or not outcome.text:
        return text_response("")
    reply = TextReply(message=message, content=outcome.text).render()
    return xml_response(crypto.encrypt_message(reply, nonce, timestamp))


async def _card_event(chat: Any, corp_id: str, user: str, data: dict[str, Any]) -> None:
    task_id = safe_str(data.get("TaskId"), 128)
    key = safe_str(data.get("EventKey"), 200)
    action, _, _record = key.partition(":")
    dedupe = f"card:{user}:{data.get('CreateTime')}:{task_id}:{key}"
    if not await chat.engine.claim_once("wecom", corp_id, dedupe):
        return  # WeCom retried the same press
    await hr.decide(
        chat.deps,
        "wecom",
        corp_id,
        task_id,
        user,
        action,
        response_code=safe_str(data.get("ResponseCode"), 200),
    )
    chat.deliverer.wakeup.set()
