"""Platform-side helpers: messages and events encrypted with the platforms' own algorithms
(wechatpy's WeChat / WeCom crypto) and posted to our webhooks the way the platforms do."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import xmltodict
from aiohttp.test_utils import TestClient

from laborsign.core.clock import FakeClock
from tests.fakes.chat_platforms import FakeDingtalk, FakeWechat, FakeWecom, start, wechat_signature


@dataclass
class Platforms:
    wechat: FakeWechat
    wecom: FakeWecom
    dingtalk: FakeDingtalk


@asynccontextmanager
async def fake_platforms() -> AsyncIterator[Platforms]:
    """The three fake platforms, each on its own local port (the tests' `platforms` fixture)."""
    wechat, wecom, dingtalk = FakeWechat(), FakeWecom(), FakeDingtalk()
    for fake in (wechat, wecom, dingtalk):
        await start(fake, fake.app())
    yield Platforms(wechat, wecom, dingtalk)
    for fake in (wechat, wecom, dingtalk):
        assert fake.server is not None
        await fake.server.close()


def channel_env(p: Platforms, dingtalk_mode: str = "http") -> dict[str, str]:
    return {
        "LABORSIGN_WECHAT__ENABLED": "true",
        "LABORSIGN_WECHAT__APP_ID": p.wechat.app_id,
        "LABORSIGN_WECHAT__APP_SECRET": p.wechat.secret,
        "LABORSIGN_WECHAT__TOKEN": p.wechat.token,
        "LABORSIGN_WECHAT__ENCODING_AES_KEY": p.wechat.aes_key,
        "LABORSIGN_WECHAT__API_BASE_URL": p.wechat.base + "/cgi-bin/",
        "LABORSIGN_WECOM__ENABLED": "true",
        "LABORSIGN_WECOM__CORP_ID": p.wecom.corp_id,
        "LABORSIGN_WECOM__AGENT_ID": p.wecom.agent_id,
        "LABORSIGN_WECOM__SECRET": p.wecom.secret,
        "LABORSIGN_WECOM__TOKEN": p.wecom.token,
        "LABORSIGN_WECOM__ENCODING_AES_KEY": p.wecom.aes_key,
        "LABORSIGN_WECOM__API_BASE_URL": p.wecom.base + "/cgi-bin/",
        "LABORSIGN_DINGTALK__ENABLED": "true",
        "LABORSIGN_DINGTALK__CLIENT_ID": p.dingtalk.client_id,
        "LABORSIGN_DINGTALK__CLIENT_SECRET": p.dingtalk.client_secret,
        "LABORSIGN_DINGTALK__ROBOT_CODE": p.dingtalk.robot_code,
        "LABORSIGN_DINGTALK__MODE": dingtalk_mode,
        "LABORSIGN_DINGTALK__API_BASE_URL": p.dingtalk.base,
        "LABORSIGN_DINGTALK__CARD_TEMPLATE_ID": "review.schema",
    }


def assert_qr_of(png: bytes, content: str) -> None:
    """The PNG is a QR code of exactly `content`: no decoder is installed here, so it is
    compared pixel for pixel with the code qrcode draws for that text (any other text, even one
    character apart, draws other modules)."""
    import io

    import qrcode
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    expected = qrcode.make(content, box_size=10, border=2).get_image()
    assert image.size == expected.size, (image.size, expected.size)
    assert image.convert("L").tobytes() == expected.convert("L").tobytes(), f"not a QR code of {content!r}"


def _xml(fields: dict[str, Any]) -> str:
    return xmltodict.unparse({"xml": fields}, full_document=False)


class WechatUser:
    """One follower of the Official Account, talking to /webhooks/wechat in safe mode."""

    def __init__(
        self, client: TestClient, fake: FakeWechat, clock: FakeClock, openid: str | None = None
    ) -> None:
        from wechatpy.crypto import WeChatCrypto

        self.client = client
        self.fake = fake
        self.clock = clock
        self.openid = openid or "o" + secrets.token_hex(12)
        self.crypto = WeChatCrypto(fake.token, fake.aes_key, fake.app_id)
        self.last_status = 0
        self._msg_id = 10_000_000 + secrets.randbelow(1_000_000)

    def _base(self, created: int | None) -> dict[str, Any]:
        return {
            "ToUserName": "gh_laborsign",
            "FromUserName": self.openid,
            "CreateTime": str(created or int(self.clock.now().timestamp())),
        }

    def text_xml(self, text: str, msg_id: int | None = None, created: int | None = None) -> str:
        if msg_id is None:
            self._msg_id += 1
            msg_id = self._msg_id
        return _xml({**self._base(created), "MsgType": "text", "Content": text, "MsgId": str(msg_id)})

    def event_xml(self, event: str, key: str | None = None, created: int | None = None) -> str:
        fields = {**self._base(created), "MsgType": "event", "Event": event}
        if key is not None:
            fields["EventKey"] = key
        return _xml(fields)

    async def post(
        self, plain_xml: str, *, sign_token: str | None = None, timestamp: int | None = None
    ) -> str:
        """Encrypts like WeChat, posts, decrypts the passive reply; returns its text content
        ('' for an acknowledgement)."""
        ts = str(timestamp or int(self.clock.now().timestamp()))
        nonce = secrets.token_hex(5)
        encrypted = self.crypto.encrypt_message(plain_xml, nonce, ts)
        msg_signature = xmltodict.parse(encrypted)["xml"]["MsgSignature"]
        params = {
            "signature": wechat_signature(sign_token or self.fake.token, ts, nonce),
            "timestamp": ts,
            "nonce": nonce,
            "openid": self.openid,
            "encrypt_type": "aes",
            "msg_signature": msg_signature,
        }
        resp = await self.client.post("/webhooks/wechat", params=params, data=encrypted.encode())
        body = await resp.text()
        self.last_status = resp.status
        if resp.status != 200 or body in ("success", ""):
            return "" if resp.status == 200 else body
        reply = xmltodict.parse(body)["xml"]
        plain = self.crypto.decrypt_message(body, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"])
        return str(xmltodict.parse(plain)["xml"]["Content"])

    async def say(self, text: str, msg_id: int | None = None) -> str:
        return await self.post(self.text_xml(text, msg_id))


class WecomMember:
    """An HR member in the WeCom app, talking to /webhooks/wecom."""

    def __init__(
        self, client: TestClient, fake: FakeWecom, clock: FakeClock, userid: str = "zhangguanli"
    ) -> None:
        from wechatpy.enterprise.crypto import WeChatCrypto

        self.client = client
        self.fake = fake
        self.clock = clock
        self.userid = userid
        self.crypto = WeChatCrypto(fake.token, fake.aes_key, fake.corp_id)
        self.last_status = 0
        self._msg_id = 7_000_000 + secrets.randbelow(1_000_000)

    async def post(self, plain_xml: str) -> str:
        ts = str(int(self.clock.now().timestamp()))
        nonce = secrets.token_hex(5)
        encrypted = self.crypto.encrypt_message(plain_xml, nonce, ts)
        parsed = xmltodict.parse(encrypted)["xml"]
        params = {"msg_signature": parsed["MsgSignature"], "timestamp": ts, "nonce": nonce}
        resp = await self.client.post("/webhooks/wecom", params=params, data=encrypted.encode())
        body = await resp.text()
        self.last_status = resp.status
        if resp.status != 200 or not body:
            return "" if resp.status == 200 else body
        reply = xmltodict.parse(body)["xml"]
        plain = self.crypto.decrypt_message(body, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"])
        return str(xmltodict.parse(plain)["xml"]["Content"])

    async def say(self, text: str) -> str:
        self._msg_id += 1
        fields = {
            "ToUserName": self.fake.corp_id, "FromUserName": self.userid,
            "CreateTime": str(int(self.clock.now().timestamp())), "MsgType": "text", "Content": text,
            "MsgId": str(self._msg_id), "AgentID": self.fake.agent_id,
        }  # fmt: skip
        return await self.post(_xml(fields))

    async def app_event(self, event: str) -> str:
        """subscribe / unsubscribe: the member was added to or removed from the app."""
        fields = {
            "ToUserName": self.fake.corp_id, "FromUserName": self.userid,
            "CreateTime": str(int(self.clock.now().timestamp())), "MsgType": "event", "Event": event,
            "AgentID": self.fake.agent_id,
        }  # fmt: skip
        return await self.post(_xml(fields))

    async def press(self, card: dict[str, Any], button: str, created: int | None = None) -> str:
        key = next(b["key"] for b in card["button_list"] if b["text"] == button)
        fields = {
            "ToUserName": self.fake.corp_id, "FromUserName": self.userid,
            "CreateTime": str(created or int(self.clock.now().timestamp())), "MsgType": "event",
            "Event": "template_card_event", "EventKey": key, "TaskId": card["task_id"],
            "CardType": "button_interaction", "ResponseCode": self.fake.press_code(card["task_id"]),
            "AgentID": self.fake.agent_id,
        }  # fmt: skip
        return await self.post(_xml(fields))


def dingtalk_sign(secret: str, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def dingtalk_bot_message(
    fake: FakeDingtalk, staff_id: str, text: str, msg_id: str | None = None
) -> dict[str, Any]:
    return {
        "conversationId": "cid" + staff_id, "chatbotCorpId": "corp", "chatbotUserId": "bot",
        "msgId": msg_id or "msg" + secrets.token_hex(8), "senderNick": "员工", "isAdmin": False,
        "senderStaffId": staff_id, "sessionWebhookExpiredTime": 0, "createAt": 0, "senderCorpId": "corp",
        "conversationType": "1", "senderId": "$:LWCP_v1:$" + staff_id, "robotCode": fake.robot_code,
        "sessionWebhook": fake.base + "/robot/sendBySession", "msgtype": "text", "text": {"content": text},
    }  # fmt: skip


class DingtalkStaff:
    """A DingTalk user writing to the bot in HTTP callback mode (signed posts to
    /webhooks/dingtalk); the bot's answer comes back in the response."""

    def __init__(self, client: TestClient, fake: FakeDingtalk, clock: FakeClock, staff_id: str) -> None:
        self.client = client
        self.fake = fake
        self.clock = clock
        self.staff_id = staff_id

    async def say(self, text: str) -> str:
        self.clock.advance(milliseconds=1)  # each callback carries its own timestamp and sign
        ts = str(int(self.clock.now().timestamp() * 1000))
        headers = {"timestamp": ts, "sign": dingtalk_sign(self.fake.client_secret, ts)}
        body = dingtalk_bot_message(self.fake, self.staff_id, text)
        resp = await self.client.post("/webhooks/dingtalk", json=body, headers=headers)
        assert resp.status == 200, await resp.text()
        answer = await resp.json()
        return str((answer.get("text") or {}).get("content", ""))


async def deliver(client: Any) -> Any:
    """One pass of the outbox deliverer of the app under test."""
    from laborsign.webhooks.common import CHAT

    return await client.app[CHAT].deliverer.run_once()
