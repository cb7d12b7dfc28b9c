"""Fake WeChat Official Account, WeCom and DingTalk servers.

Each serves the platform's real endpoints (token, sending, cards, QR codes; the DingTalk stream
gateway's connection-open call and its websocket) and records what it received. `fail_next`
makes the next sends fail the way the platform fails (an errcode, HTTP 500, or a connection
closed without an answer) so retries and their absence can be checked."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

# The platforms' own wording of the errors the fakes can be told to answer with.
ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid",
    40037: "invalid template_id",
    42001: "access_token expired",
    43004: "require subscribe",
    43101: "user refuse to accept the msg",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    47001: "data format error",
}


# A current template's field is typed by its key's name (thing1, time2, …); WeChat refuses a
# value breaking the type's rules. Old-style keys (first, keywordN, remark) take any text.
_DAY = r"\d{4}年\d{1,2}月\d{1,2}日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
_CLOCK = r"\d{1,2}:\d{2}(:\d{2})?"
TYPED_RULES: dict[str, re.Pattern[str]] = {
    "thing": re.compile(r"[^\n\r]{0,20}"),
    "character_string": re.compile(r"[\x21-\x7e]{0,32}"),
    "number": re.compile(r"\d{1,32}(\.\d+)?"),
    "phrase": re.compile(r"[\u4e00-\u9fff]{0,5}"),
    "time": re.compile(rf"(({_DAY}) )?{_CLOCK}"),
    "date": re.compile(rf"({_DAY})( {_CLOCK})?"),
}


def typed_value_ok(key: str, value: str) -> bool:
    kind = re.sub(r"\d+$", "", key)
    rule = TYPED_RULES.get(kind)
    return rule is None or rule.fullmatch(value) is not None


def aes_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()[:-1]


@dataclass
class Fake:
    name: str
    server: TestServer | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    tokens_issued: int = 0
    fail_next: int = 0  # the next N sends fail
    fail_with_http: bool = False
    fail_errcode: int = -1  # what a failing send answers when not HTTP 500
    fail_by_disconnect: bool = False  # the connection is closed with no answer at all
    valid_tokens: set[str] = field(default_factory=set)
    hold: asyncio.Event | None = None  # when an unset event: sends are recorded, answered once it is set
    held: int = 0
    _held_more: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def new_token(self) -> str:
        self.tokens_issued += 1
        token = f"{self.name}-token-{self.tokens_issued}-{secrets.token_hex(4)}"
        # A new token invalidates the previous one, as on the real platforms.
        self.valid_tokens = {token}
        return token

    def failing(self, request: web.Request) -> web.Response | None:
        if self.fail_next <= 0:
            return None
        self.fail_next -= 1
        if self.fail_by_disconnect:
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=500)  # never reaches the caller
        if self.fail_with_http:
            return web.Response(status=500, text="internal error")
        errmsg = ERRMSG.get(self.fail_errcode, "error")
        return web.json_response({"errcode": self.fail_errcode, "errmsg": errmsg})

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r["kind"] == kind]

    async def holding(self) -> None:
        """Keeps a received send in flight (not yet answered) while `hold` is unset."""
        if self.hold is None:
            return
        self.held += 1
        self._held_more.set()
        await self.hold.wait()

    async def wait_held(self, count: int) -> None:
        while self.held < count:
            self._held_more.clear()
            await self._held_more.wait()


class FakeWechat(Fake):
    """api.weixin.qq.com/cgi-bin/"""

    def __init__(self) -> None:
        super().__init__("wechat")
        self.app_id = "wx" + secrets.token_hex(8)
        self.secret = secrets.token_hex(16)
        self.token = "tok" + secrets.token_hex(6)
        self.aes_key = aes_key()
        self.notice_template_id = "tpl" + secrets.token_hex(10)
        self.template_ids = {self.notice_template_id}  # added to the account in its console
        self.unsubscribed: set[str] = set()  # openids that no longer follow the account

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self.token_endpoint)
        app.router.add_post("/cgi-bin/message/custom/send", self.custom_send)
        app.router.add_post("/cgi-bin/message/template/send", self.template_send)
        app.router.add_post("/cgi-bin/qrcode/create", self.qrcode_create)
        return app

    async def token_endpoint(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("appid") != self.app_id or q.get("secret") != self.secret:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        return web.json_response({"access_token": self.new_token(), "expires_in": 7200})

    def _token_ok(self, request: web.Request) -> web.Response | None:
        if request.query.get("access_token") not in self.valid_tokens:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        return None

    async def custom_send(self, request: web.Request) -> web.Response:
        if (bad := self._token_ok(request)) is not None:
            return bad
        if (fail := self.failing(request)) is not None:
            return fail
        body = await request.json()
        if body.get("touser") in self.unsubscribed:
            return web.json_response({"errcode": 43004, "errmsg": "require subscribe"})
        self.received.append({"kind": "text", "to": body["touser"], "text": body["text"]["content"]})
        await self.holding()
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def template_send(self, request: web.Request) -> web.Response:
        """message/template/send: the template must be one the account added, every data
        field an object with a string `value`, and the person must follow the account."""
        if (bad := self._token_ok(request)) is not None:
            return bad
        if (fail := self.failing(request)) is not None:
            return fail
        body = await request.json()
        if body.get("template_id") not in self.template_ids:
            return web.json_response({"errcode": 40037, "errmsg": "invalid template_id"})
        data = body.get("data")
        if not isinstance(data, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("value"), str) and typed_value_ok(k, v["value"])
            for k, v in data.items()
        ):
            return web.json_response({"errcode": 47001, "errmsg": "data format error"})
        if body.get("touser") in self.unsubscribed:
            return web.json_response({"errcode": 43004, "errmsg": "require subscribe"})
        self.received.append(
            {
                "kind": "template",
                "to": body["touser"],
                "template_id": body["template_id"],
                "data": data,
                "url": body.get("url"),
            }
        )
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": int(time.time())})

    async def qrcode_create(self, request: web.Request) -> web.Response:
        if (bad := self._token_ok(request)) is not None:
            return bad
        if (fail := self.failing(request)) is not None:
            return fail
        body = await request.json()
        scene = body["action_info"]["scene"]["scene_str"]
        ticket = base64.urlsafe_b64encode(scene.encode()).decode()
        url = f"http://weixin.qq.com/q/{ticket}"
        self.received.append({"kind": "qrcode", "scene": scene, "ticket": ticket, "url": url})
        return web.json_response({"ticket": ticket, "url": url})


class FakeWecom(Fake):
    """qyapi.weixin.qq.com/cgi-bin/"""

    def __init__(self) -> None:
        super().__init__("wecom")
        self.corp_id = "ww" + secrets.token_hex(8)
        self.secret = secrets.token_hex(16)
        self.agent_id = "1000002"
        self.token = "tok" + secrets.token_hex(6)
        self.aes_key = aes_key()
        self.response_codes: dict[str, str] = {}  # response_code → task_id, usable once

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", self.token_endpoint)
        app.router.add_post("/cgi-bin/message/send", self.send)
        app.router.add_post("/cgi-bin/message/update_template_card", self.update_card)
        return app

    async def token_endpoint(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("corpid") != self.corp_id or q.get("corpsecret") != self.secret:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        return web.json_response({"errcode": 0, "access_token": self.new_token(), "expires_in": 7200})

    async def send(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") not in self.valid_tokens:
            return web.json_response({"errcode": 40014, "errmsg": "invalid access_token"})
        if (fail := self.failing(request)) is not None:
            return fail
        body = await request.json()
        entry: dict[str, Any] = {"kind": body["msgtype"], "to": body["touser"], "agentid": body["agentid"]}
        if body["msgtype"] == "text":
            entry["text"] = body["text"]["content"]
        elif body["msgtype"] == "template_card":
            entry["card"] = body["template_card"]
        self.received.append(entry)
        return web.json_response({"errcode": 0, "errmsg": "ok", "invaliduser": ""})

    def press_code(self, task_id: str) -> str:
        code = secrets.token_hex(8)
        self.response_codes[code] = task_id
        return code

    async def update_card(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") not in self.valid_tokens:
            return web.json_response({"errcode": 40014, "errmsg": "invalid access_token"})
        if (fail := self.failing(request)) is not None:
            return fail
        body = await request.json()
        task_id = self.response_codes.pop(body.get("response_code", ""), None)
        if task_id is None:
            return web.json_response({"errcode": 40097, "errmsg": "invalid response_code"})
        self.received.append(
            {
                "kind": "card_update",
                "to": body["userids"],
                "task_id": task_id,
                "text": body["button"]["replace_name"],
            }
        )
        return web.json_response({"errcode": 0, "errmsg": "ok"})


class FakeDingtalk(Fake):
    """api.dingtalk.com: OpenAPI plus the stream gateway."""

    def __init__(self) -> None:
        super().__init__("dingtalk")
        self.client_id = "ding" + secrets.token_hex(6)
        self.client_secret = secrets.token_hex(16)
        self.robot_code = self.client_id
        self.sockets: list[web.WebSocketResponse] = []
        self.connected = asyncio.Event()
        self.acks: dict[str, dict[str, Any]] = {}
        self.ack_events: dict[str, asyncio.Event] = {}
        self.opens = 0
        self.tickets: set[str] = set()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1.0/oauth2/accessToken", self.token_endpoint)
        app.router.add_post("/v1.0/robot/oToMessages/batchSend", self.batch_send)
        app.router.add_post("/v1.0/card/instances/createAndDeliver", self.create_card)
        app.router.add_put("/v1.0/card/instances", self.update_card)
        app.router.add_post("/v1.0/gateway/connections/open", self.open_connection)
        app.router.add_get("/gateway", self.gateway)
        return app

    async def token_endpoint(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("appKey") != self.client_id or body.get("appSecret") != self.client_secret:
            return web.json_response({"code": "invalidClientId", "message": "bad"}, status=400)
        return web.json_response({"accessToken": self.new_token(), "expireIn": 7200})

    def _check(self, request: web.Request) -> web.Response | None:
        if request.headers.get("x-acs-dingtalk-access-token") not in self.valid_tokens:
            return web.json_response({"code": "InvalidAuthentication", "message": "token"}, status=401)
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.json_response({"code": "ServiceUnavailable", "message": "busy"}, status=503)
        return None

    async def batch_send(self, request: web.Request) -> web.Response:
        if (bad := self._check(request)) is not None:
            return bad
        body = await request.json()
        content = json.loads(body["msgParam"])["content"]
        for user in body["userIds"]:
            self.received.append({"kind": "text", "to": user, "text": content, "robot": body["robotCode"]})
        return web.json_response({"processQueryKey": uuid.uuid4().hex, "invalidStaffIdList": []})

    async def create_card(self, request: web.Request) -> web.Response:
        if (bad := self._check(request)) is not None:
            return bad
        body = await request.json()
        user = body["openSpaceId"].rsplit(".", 1)[-1]
        self.received.append(
            {
                "kind": "card",
                "to": user,
                "out_track_id": body["outTrackId"],
                "params": body["cardData"]["cardParamMap"],
            }
        )
        return web.json_response({"success": True, "result": {"outTrackId": body["outTrackId"]}})

    async def update_card(self, request: web.Request) -> web.Response:
        if (bad := self._check(request)) is not None:
            return bad
        body = await request.json()
        self.received.append(
            {
                "kind": "card_update",
                "out_track_id": body["outTrackId"],
                "params": body["cardData"]["cardParamMap"],
            }
        )
        return web.json_response({"success": True})

    async def open_connection(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("clientId") != self.client_id or body.get("clientSecret") != self.client_secret:
            return web.json_response({"code": "Forbidden"}, status=403)
        self.opens += 1
        ticket = secrets.token_hex(8)
        self.tickets.add(ticket)
        endpoint = self.base.replace("http://", "ws://") + "/gateway"
        return web.json_response({"endpoint": endpoint, "ticket": ticket})

    async def gateway(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("ticket") not in self.tickets:
            return web.Response(status=403)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        self.connected.set()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                ack = json.loads(msg.data)
                message_id = ack.get("headers", {}).get("messageId", "")
                self.acks[message_id] = ack
                self.ack_events.setdefault(message_id, asyncio.Event()).set()
        self.sockets.remove(ws)
        if not self.sockets:
            self.connected.clear()
        return ws

    async def push(self, topic: str, data: dict[str, Any], message_id: str | None = None) -> str:
        """Sends a CALLBACK frame the way the gateway does; returns its message id."""
        message_id = message_id or uuid.uuid4().hex
        frame = {
            "specVersion": "1.0",
            "type": "CALLBACK",
            "headers": {
                "appId": self.client_id,
                "connectionId": "conn",
                "contentType": "application/json",
                "messageId": message_id,
                "time": str(int(time.time() * 1000)),
                "topic": topic,
            },
            "data": json.dumps(data, ensure_ascii=False),
        }
        self.ack_events.setdefault(message_id, asyncio.Event())
        await self.sockets[-1].send_str(json.dumps(frame, ensure_ascii=False))
        return message_id

    async def acked(self, message_id: str) -> dict[str, Any]:
        await asyncio.wait_for(self.ack_events.setdefault(message_id, asyncio.Event()).wait(), 30)
        return self.acks[message_id]

    async def drop_connections(self) -> None:
        for ws in list(self.sockets):
            await ws.close()


async def start(fake: Fake, app: web.Application) -> Fake:
    fake.server = TestServer(app)
    await fake.server.start_server()
    return fake


def wechat_signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
