"""DingTalk: bot messages and card callbacks, from the stream connection or the signed HTTP
callback mode.

The `dingtalk-stream` SDK parses frames, routes them by topic and builds acks; we drive the
connection ourselves because its own loop opens the connection with blocking `requests` (no
timeout), swallows cancellation and reconnects after a fixed 10 s. Here: non-blocking open,
reconnect with exponential backoff, clean cancellation, and a database lease so that only one
process among several holds the stream (DingTalk would otherwise split messages between them)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal, NotRequired
from urllib.parse import quote_plus

import aiohttp
from typing_extensions import TypedDict

from ..core.ports import Deps
from . import hr
from .channels.dingtalk import DingtalkConfig
from .engine import Engine, Incoming
from .tokens import PROCESS_ID

log = logging.getLogger("laborsign.bots.dingtalk")

BOT_TOPIC = "/v1.0/im/bot/messages/get"
CARD_TOPIC = "/v1.0/card/instances/callback"
LEASE = timedelta(seconds=60)
RENEW_EVERY = 20.0
SIGN_WINDOW_MS = 60 * 60 * 1000  # DingTalk's documented one-hour window


def incoming_from_bot(data: dict[str, Any], app_id: str, reply_by_outbox: bool) -> Incoming | None:
    from dingtalk_stream import ChatbotMessage

    message = ChatbotMessage.from_dict(data)
    sender = message.sender_staff_id or message.sender_id
    if not sender:
        return None
    text = message.text.content if message.message_type == "text" and message.text else ""
    return Incoming(
        channel="dingtalk",
        app_id=app_id,
        external_id=str(sender),
        text=str(text or "").strip()[:500],
        dedupe_key=f"msg:{message.message_id}" if message.message_id else None,
        reply_by_outbox=reply_by_outbox,
    )


class DingTalkCardParams(TypedDict):
    status: str
    decided: Literal["true", "false"]


class DingTalkCardData(TypedDict):
    cardParamMap: DingTalkCardParams


class DingTalkCardAnswer(TypedDict):
    """What the card shows after the press; {} when the callback was not one of ours."""

    cardData: NotRequired[DingTalkCardData]


async def card_callback(deps: Deps, engine: Engine, app_id: str, data: dict[str, Any]) -> DingTalkCardAnswer:
    """A press on the HR review card; answers the card data to show (DingTalk applies it)."""
    from dingtalk_stream.card_callback import CardCallbackMessage

    try:
        message = CardCallbackMessage.from_dict(data)
    except (ValueError, TypeError):
        return {}
    params = (message.content or {}).get("cardPrivateData", {}).get("params", {}) or {}
    action = str(params.get("action", ""))
    result = await hr.decide(deps, "dingtalk", app_id, message.card_instance_id, message.user_id, action)
    return {
        "cardData": {"cardParamMap": {"status": result.text, "decided": "true" if result.card else "false"}}
    }


def check_http_signature(secret: str, timestamp: str, sign: str, now_ms: int) -> bool:
    """HTTP callback mode: sign = base64(hmac_sha256(secret, f"{timestamp}\\n{secret}"))."""
    if not timestamp.isdigit() or not sign or not secret:
        return False
    if abs(now_ms - int(timestamp)) > SIGN_WINDOW_MS:
        return False
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), sign)


class StreamRunner:
    """Holds the DingTalk stream connection while this process holds the lease."""

    def __init__(
        self, deps: Deps, engine: Engine, config: DingtalkConfig, http: Callable[[], aiohttp.ClientSession]
    ) -> None:
        self.deps = deps
        self.engine = engine
        self.config = config
        self.http = http
        self.lease_key = f"lease:dingtalk-stream:{config.client_id}"
        self.connected = asyncio.Event()
        self.connections = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.client = self._build_client()

    def _build_client(self) -> Any:
        import dingtalk_stream
        from dingtalk_stream import AckMessage, CallbackHandler, ChatbotHandler, Credential

        runner = self

        class Bot(ChatbotHandler):
            async def process(self, callback: Any) -> tuple[int, str]:
                incoming = incoming_from_bot(callback.data, runner.config.client_id, reply_by_outbox=True)
                if incoming is not None:
                    await runner.engine.handle(incoming)
                return AckMessage.STATUS_OK, "OK"

        class Cards(CallbackHandler):
            async def process(self, callback: Any) -> tuple[int, Any]:
                key = f"card:{callback.headers.message_id}"
                if not await runner.engine.claim_once("dingtalk", runner.config.client_id, key):
                    return AckMessage.STATUS_OK, {}  # DingTalk redelivered it: already acted
                answer = await card_callback(
                    runner.deps, runner.engine, runner.config.client_id, callback.data
                )
                return AckMessage.STATUS_OK, answer

        client = dingtalk_stream.DingTalkStreamClient(
            Credential(self.config.client_id, self.config.client_secret), logger=log
        )
        client.register_callback_handler(BOT_TOPIC, Bot())
        client.register_callback_handler(CARD_TOPIC, Cards())
        client.pre_start()
        return client

    async def _take_lease(self) -> bool:
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            mine = await uow.tokens.take_lease(self.lease_key, PROCESS_ID, now, now + LEASE)
            await uow.commit()
        return mine

    async def _release(self) -> None:
        async with self.deps.uow() as uow:
            await uow.tokens.release(self.lease_key, PROCESS_ID)
            await uow.commit()

    async def _open(self) -> dict[str, Any]:
        body = {
            "clientId": self.config.client_id,
            "clientSecret": self.config.client_secret,
            "subscriptions": [
                {"type": "CALLBACK", "topic": BOT_TOPIC},
                {"type": "CALLBACK", "topic": CARD_TOPIC},
            ],
            "ua": "laborsign",
            "localIp": "",
        }
        url = f"{self.config.api_base_url.rstrip('/')}/v1.0/gateway/connections/open"
        async with self.http().post(url, json=body, timeout=aiohttp.ClientTimeout(total=10)) as resp:
            resp.raise_for_status()
            data = await resp.json(content_type=None)
        if not data.get("endpoint") or not data.get("ticket"):
            raise ConnectionError(f"gateway answered without endpoint/ticket: {str(data)[:200]}")
        return dict(data)

    async def run(self) -> None:
        import websockets

        backoff = 1.0
        try:
            while True:
                if not await self._take_lease():
                    await asyncio.sleep(RENEW_EVERY)  # another process holds the stream
                    continue
                try:
                    connection = await self._open()
                    uri = f"{connection['endpoint']}?ticket={quote_plus(connection['ticket'])}"
                    async with websockets.connect(uri, open_timeout=10) as websocket:
                        self.client.websocket = websocket
                        self.connections += 1
                        self.connected.set()
                        backoff = 1.0
                        keeper = asyncio.create_task(self._keep_lease(websocket))
                        try:
                            async for raw in websocket:
                                task = asyncio.create_task(self._route(raw))
                                self._tasks.add(task)
                                task.add_done_callback(self._tasks.discard)
                        finally:
                            keeper.cancel()
                    log.info("dingtalk stream closed; reconnecting")
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("dingtalk stream failed: %s", exc)
                finally:
                    self.connected.clear()
                await asyncio.sleep(backoff * (1 + random.random() / 2))
                backoff = min(backoff * 2, 60.0)
        finally:
            await asyncio.shield(self._release())

    async def _route(self, raw: str | bytes) -> None:
        try:
            await self.client.route_message(json.loads(raw))
        except Exception:
            log.exception("dingtalk frame failed")

    async def _keep_lease(self, websocket: Any) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY)
            if not await self._take_lease():
                log.warning("dingtalk stream lease lost; closing the connection")
                await websocket.close()
                return
