"""Shared by the chat webhooks: bounded bodies, hostile-XML refusal, the replay window, the
answer deadline."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from xml.etree import ElementTree

from aiohttp import web

from ..bots.engine import Engine, Incoming, Outcome
from ..bots.runtime import ChatRuntime
from ..core import outbox as ob
from ..core.chat import InboundMessage
from ..core.errors import BadRequest, Forbidden, NotFound
from ..core.services.limits import admit_signed_callback
from ..http import CHAT as CHAT
from ..inputs import read_limited
from .callback_crypto import BadSignature

log = logging.getLogger("laborsign.webhooks")

MAX_BODY = 64 * 1024  # platform callbacks are a few hundred bytes
REPLAY_WINDOW = 300  # seconds either side of our clock
ANSWER_WITHIN = 4.0  # WeChat retries after 5 s without an answer

_HOSTILE = re.compile(rb"<!(DOCTYPE|ENTITY)|<\?xml-stylesheet", re.IGNORECASE)


def retry_lost_connection(
    handler: Callable[[web.Request], Awaitable[web.Response]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The pool does not ping a connection before each use (a round trip per transaction): a
    connection the database dropped fails where it is used, the pool then drops the rest of
    its generation, and the callback is handled once more — safe, as a platform's retry of
    it is (the replay guard lets the same body pass, the dedupe answers it again)."""
    from sqlalchemy.exc import DBAPIError

    @functools.wraps(handler)
    async def handle(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            log.warning("database connection lost during %s: handled once more", request.path)
            return await handler(request)

    return handle


def runtime(request: web.Request, channel: str) -> ChatRuntime:
    chat = request.app.get(CHAT)
    if chat is None or channel not in chat.apps:
        raise NotFound("该渠道未启用", "channel_disabled")
    return chat


_BODY: web.RequestKey[bytes] = web.RequestKey("callback_body", bytes)


async def read_body(request: web.Request) -> bytes:
    """Read once per request (kept for a second handling, see `retry_lost_connection`)."""
    if _BODY not in request:
        request[_BODY] = await read_limited(request, MAX_BODY, "回调内容过大")
    return request[_BODY]


def refuse_hostile_xml(data: bytes | str) -> None:
    """No DTDs at all: entity tricks (billion laughs, external entities) start with one."""
    raw = data.encode() if isinstance(data, str) else data
    if _HOSTILE.search(raw):
        raise BadRequest("不接受包含 DTD 或实体声明的 XML", "hostile_xml")


def check_fresh(timestamp: str, now: float) -> None:
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        raise Forbidden("时间戳无效", "bad_timestamp") from None
    if abs(now - sent) > REPLAY_WINDOW:
        raise Forbidden("时间戳已过期", "stale_timestamp")


async def admit(chat: ChatRuntime, scope: str, key: str, body: bytes) -> None:
    """The replay guard, after the signature checked out (core/services/limits.py)."""
    await admit_signed_callback(chat.deps, scope, key, body)


def decrypted(decrypt: Callable[[], Any]) -> Any:
    """Runs the decryption of an attacker-supplied body (callback_crypto.py): a bad signature
    is 403, anything else it fails on (bad base64 or padding, short plaintext, wrong key, a
    plaintext addressed to another app or corp id) is 400 — the signature checked out, the
    body is not a message for us."""
    try:
        return decrypt()
    except BadSignature:
        raise Forbidden("消息签名校验失败", "bad_signature") from None
    except Exception:
        raise BadRequest("消息无法解密", "undecryptable") from None


def parsed(parse: Callable[[], Any]) -> Any:
    """The SDK's XML parsing of a (decrypted) body: whatever it fails on is a 400."""
    try:
        message = parse()
    except Exception:
        raise BadRequest("XML 格式不正确", "malformed_xml") from None
    if message is None:
        raise BadRequest("XML 格式不正确", "malformed_xml")
    return message


def flat_fields(xml: str | bytes) -> dict[str, str | None] | None:
    """The fields of a flat callback message (`<xml><Tag>text</Tag>…</xml>`) as xmltodict
    gives them (stripped text, None when empty), through ElementTree (C expat, a tenth of
    xmltodict's time); None when it is not that flat (nested, repeated or attributed
    elements), for the SDK's own parser to take. DTDs were refused before."""
    root = ElementTree.fromstring(xml)
    if root.tag != "xml" or root.attrib:
        return None
    fields: dict[str, str | None] = {}
    for child in root:
        if len(child) or child.attrib or child.tag in fields:
            return None
        fields[child.tag] = (child.text or "").strip() or None
    return fields


def parse_callback(xml: str | bytes, message_types: dict[str, Any], sdk_parse: Callable[[Any], Any]) -> Any:
    """A text message, the one that comes by the thousand, is built from `flat_fields`;
    everything else (events and their special cases) is the SDK's `parse_message`."""
    fields = flat_fields(xml)
    if fields is not None and (fields.get("MsgType") or "").lower() == "text":
        return message_types["text"](fields)
    return sdk_parse(xml)


def refuse_plaintext() -> Forbidden:
    return Forbidden("已配置消息加密（EncodingAESKey），不接受明文回调", "plaintext_refused")


def query(request: web.Request, *names: str) -> list[str]:
    return [request.query.get(name, "")[:200] for name in names]


async def answer_in_time(
    engine: Engine, incoming: Incoming, late: Callable[[Outcome], Awaitable[None]]
) -> Outcome | None:
    """Runs the step; if it is not done in time the platform gets an empty acknowledgement and
    `late` delivers the answer afterwards (through the customer-service API).

    One task for the step and one future for the answer, settled by whichever comes first:
    the step's end or a timer (`wait_for` over `shield` made three more futures, a callback
    and a timer per message). The step is never cancelled by the deadline or by the handler
    going away."""
    loop = asyncio.get_running_loop()
    step = loop.create_task(engine.handle(incoming))
    answer: asyncio.Future[Outcome | None] = loop.create_future()

    def too_late() -> None:
        if not answer.done():
            keep(step)  # the loop holds tasks weakly; the handler is about to let go of it
            answer.set_result(None)

    timer = loop.call_later(ANSWER_WITHIN, too_late)

    def stepped(t: asyncio.Task[Outcome]) -> None:
        timer.cancel()
        failed = t.cancelled() or t.exception() is not None
        if not answer.done():
            if t.cancelled():
                answer.cancel()
            elif (exc := t.exception()) is not None:
                answer.set_exception(exc)
            else:
                answer.set_result(t.result())
        elif answer.cancelled():
            pass  # the handler went away: a retry of the message gets the stored answer
        elif failed:
            log.warning("a late chat step failed: %r", None if t.cancelled() else t.exception())
        else:
            keep(asyncio.ensure_future(late(t.result())))

    step.add_done_callback(stepped)
    return await answer


_background: set[asyncio.Future[Any]] = set()


def keep(task: asyncio.Future[Any]) -> None:
    """Holds a reference until done (the loop keeps only weak ones)."""
    _background.add(task)
    task.add_done_callback(_background.discard)


def late_reply(chat: ChatRuntime, incoming: Incoming) -> Callable[[Outcome], Awaitable[None]]:
    async def deliver(outcome: Outcome) -> None:
        if not outcome.text or outcome.duplicate:
            return
        deps = chat.deps
        async with deps.uow() as uow:
            uow.outbox.add(
                ob.chat(incoming.channel, incoming.external_id, "reply", outcome.text, deps.clock.now())
            )
            if incoming.dedupe_key:  # a later retry must not get it passively again
                seen = await uow.chat.inbound(incoming.channel, incoming.app_id, incoming.dedupe_key)
                if isinstance(seen, InboundMessage):
                    seen.reply = ""
            await uow.commit()
        chat.deliverer.wakeup.set()

    return deliver


def text_response(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/plain")


def xml_response(xml: str) -> web.Response:
    return web.Response(text=xml, content_type="application/xml")


def safe_str(value: Any, limit: int = 500) -> str:
    return str(value or "")[:limit]
