"""A fake Feishu (飞书) open platform.

Server side, the endpoints the app calls: `POST /open-apis/auth/v3/tenant_access_token/internal`
(hands out tenant_access_tokens for the right app_id / app_secret) and
`POST /open-apis/im/v1/messages?receive_id_type=open_id` (checks the bearer token and records
the message). Client side, what Feishu sends to the app's event-subscription URL: the URL
verification, `im.message.receive_v1` events and `card.action.trigger` callbacks, each encrypted
(AES-256-CBC, key SHA-256(Encrypt Key), random IV ahead of the ciphertext, PKCS#7, base64) and
signed (`X-Lark-Signature` = hex SHA-256 of timestamp + nonce + Encrypt Key + body), written
here from Feishu's documentation, independently of the SDK the app decrypts with."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def encrypt(encrypt_key: str, plaintext: str) -> str:
    key = hashlib.sha256(encrypt_key.encode()).digest()
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(data) + encryptor.finalize()).decode()


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


@dataclass
class FakeFeishu:
    app_id: str = "cli_a5fake0123456789"
    app_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    verification_token: str = field(default_factory=lambda: secrets.token_hex(12))
    encrypt_key: str = field(default_factory=lambda: secrets.token_hex(16))
    tenant_key: str = "736588c9260f175d"
    server: TestServer | None = None
    tokens: set[str] = field(default_factory=set)
    token_fetches: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)

    @property
    def base(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/open-apis/auth/v3/tenant_access_token/internal", self._token)
        app.router.add_post("/open-apis/im/v1/messages", self._send)
        return app

    async def start(self) -> FakeFeishu:
        self.server = TestServer(self.app())
        await self.server.start_server()
        return self

    async def _token(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("app_id") != self.app_id or body.get("app_secret") != self.app_secret:
            return web.json_response({"code": 10014, "msg": "app secret invalid"})
        self.token_fetches += 1
        token = f"t-{secrets.token_hex(16)}"
        self.tokens.add(token)
        return web.json_response({"code": 0, "msg": "ok", "tenant_access_token": token, "expire": 7200})

    async def _send(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return web.json_response(
                {"code": 99991663, "msg": "Invalid access token for authorization."}, status=400
            )
        if request.query.get("receive_id_type") != "open_id":
            return web.json_response({"code": 230001, "msg": "invalid receive_id_type"}, status=400)
        body = await request.json()
        message_id = f"om_{uuid.uuid4().hex}"
        self.sent.append({
            "to": body["receive_id"], "msg_type": body["msg_type"],
            "content": json.loads(body["content"]), "message_id": message_id,
        })  # fmt: skip
        return web.json_response({"code": 0, "msg": "success", "data": {"message_id": message_id}})

    def texts_to(self, open_id: str) -> list[str]:
        return [m["content"]["text"] for m in self.sent if m["to"] == open_id and m["msg_type"] == "text"]

    def cards_to(self, open_id: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["to"] == open_id and m["msg_type"] == "interactive"]

    # -- what Feishu sends to the app ------------------------------------------------------------

    def signed(
        self, plain: dict[str, Any], now: float, encrypt_key: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The encrypted body and the headers Feishu sends it with."""
        key = self.encrypt_key if encrypt_key is None else encrypt_key
        body = json.dumps({"encrypt": encrypt(key, json.dumps(plain, ensure_ascii=False))}).encode()
        timestamp, nonce = str(int(now)), secrets.token_hex(8)
        headers = {
            "Content-Type": "application/json",
            "X-Lark-Request-Timestamp": timestamp,
            "X-Lark-Request-Nonce": nonce,
            "X-Lark-Signature": signature(timestamp, nonce, key, body),
        }
        return body, headers

    def url_verification(self, challenge: str) -> dict[str, Any]:
        return {"challenge": challenge, "token": self.verification_token, "type": "url_verification"}

    def _header(self, event_type: str, now: float) -> dict[str, Any]:
        return {
            "event_id": uuid.uuid4().hex, "event_type": event_type, "create_time": str(int(now * 1000)),
            "token": self.verification_token, "app_id": self.app_id, "tenant_key": self.tenant_key,
        }  # fmt: skip

    def message_event(
        self, open_id: str, text: str, now: float, message_id: str | None = None
    ) -> dict[str, Any]:
        return {
            "schema": "2.0",
            "header": self._header("im.message.receive_v1", now),
            "event": {
                "sender": {
                    "sender_id": {"open_id": open_id, "union_id": f"on_{open_id[3:]}", "user_id": None},
                    "sender_type": "user", "tenant_key": self.tenant_key,
                },
                "message": {
                    "message_id": message_id or f"om_{uuid.uuid4().hex}", "create_time": str(int(now * 1000)),
                    "chat_id": f"oc_{open_id[3:]}", "chat_type": "p2p", "message_type": "text",
                    "content": json.dumps({"text": text}, ensure_ascii=False),
                },
            },
        }  # fmt: skip

    def card_action(self, open_id: str, value: dict[str, Any], message_id: str, now: float) -> dict[str, Any]:
        return {
            "schema": "2.0",
            "header": self._header("card.action.trigger", now),
            "event": {
                "operator": {"tenant_key": self.tenant_key, "open_id": open_id, "union_id": f"on_{open_id[3:]}"},
                "token": f"c-{uuid.uuid4().hex}",
                "action": {"tag": "button", "value": value},
                "host": "im_message",
                "context": {"open_message_id": message_id, "open_chat_id": f"oc_{open_id[3:]}"},
            },
        }  # fmt: skip
