"""WeCom (企业微信): the HR app. Texts, HR notices, the onboarding-review template card with
通过 / 拒绝 and its update after a press. Callbacks: webhooks/wecom.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp

from ...core import outbox as ob
from ...core.chat import ReviewCard
from ...core.outbox import OutboxMessage
from ...core.ports import Deps
from ..tokens import TIMEOUT, Fetch, SharedToken, TokenError
from .base import ChannelAdapter, ChannelSection, HttpFactory, SendError, _WechatpySender


class WecomConfig(ChannelSection):
    corp_id: str = ""
    agent_id: str = ""
    secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""
    api_base_url: str = "https://qyapi.weixin.qq.com/cgi-bin/"


def wecom_fetch(base_url: str, corp_id: str, secret: str) -> Fetch:
    async def fetch(http: aiohttp.ClientSession) -> tuple[str, int]:
        params = {"corpid": corp_id, "corpsecret": secret}
        async with http.get(f"{base_url}gettoken", params=params, timeout=TIMEOUT) as resp:
            data = await resp.json(content_type=None)
        if not data.get("access_token"):
            raise TokenError(f"wecom token refused: {data.get('errcode')} {data.get('errmsg')}")
        return str(data["access_token"]), int(data.get("expires_in", 7200))

    return fetch


class WecomSender(_WechatpySender):
    """WeCom app for HR: texts, the onboarding-review template card and its update."""

    channel = "wecom"

    def __init__(self, deps: Deps, config: WecomConfig, http: Callable[[], aiohttp.ClientSession]) -> None:
        fetch = wecom_fetch(config.api_base_url, config.corp_id, config.secret)
        super().__init__(
            SharedToken(deps, f"wecom:{config.corp_id}:{config.agent_id}", fetch, http), config.corp_id
        )
        self.config = config

    def _client(self, access_token: str) -> Any:
        from wechatpy.enterprise import WeChatClient

        client = WeChatClient(
            self.config.corp_id, self.config.secret, access_token=access_token, timeout=10, auto_retry=False
        )
        client.API_BASE_URL = self.config.api_base_url
        return client

    async def send(self, message: OutboxMessage) -> None:
        agent_id = int(self.config.agent_id or 0)
        user = message.recipient
        if message.kind == "review_card":
            card = wecom_review_card(message.payload)
            result = await self._call(
                lambda c: c.message.send(
                    agent_id, [user], msg={"msgtype": "template_card", "template_card": card}
                )
            )
            if isinstance(result, dict) and user in str(result.get("invaliduser", "")).split("|"):
                raise SendError("wecom: member outside the app's visible range", permanent=True)
            return
        if message.kind == "card_update":
            body = {
                "userids": [user],
                "agentid": agent_id,
                "response_code": message.payload["response_code"],
                "button": {"replace_name": message.text},
            }
            await self._call(lambda c: c.post("message/update_template_card", data=body))
            return
        link = message.payload.get("link")
        text = f"{message.text}\n{link}" if link else message.text
        await self._call(lambda c: c.message.send_text(agent_id, [user], text))


def wecom_review_card(payload: dict[str, Any]) -> dict[str, Any]:
    """`button_interaction` card: 通过 / 拒绝 buttons and a link to the record."""
    return {
        "card_type": "button_interaction",
        "source": {"desc": "劳动合同签 · 入职审核"},
        "main_title": {"title": "入职资料待审核", "desc": payload.get("enterprise_name", "")},
        "sub_title_text": payload.get("labor_note", ""),  # core's labor-law reminder
        "horizontal_content_list": [
            {"keyname": "姓名", "value": payload.get("name", "")},
            {"keyname": "手机号", "value": payload.get("phone_masked", "")},
            {"keyname": "证件号码", "value": payload.get("id_number_masked", "")},
            {"keyname": "提交时间", "value": payload.get("submitted_at", "")},
        ],
        "card_action": {"type": 1, "url": payload.get("link", "")},
        "jump_list": [{"type": 1, "title": "查看入职资料", "url": payload.get("link", "")}],
        "task_id": payload["card_key"],
        "button_list": [
            {"text": "通过", "style": 1, "key": f"approve:{payload['record_id']}"},
            {"text": "拒绝", "style": 2, "key": f"reject:{payload['record_id']}"},
        ],
    }


class WecomAdapter(ChannelAdapter[WecomConfig]):
    name = "wecom"
    label = "企业微信"
    section = WecomConfig
    hr_facing = True
    per_minute = 30  # WeCom drops more than 30 a minute to one member
    # No join QR code (join_label stays empty): workers are not on this channel.

    def app_id(self, settings: WecomConfig) -> str:
        return settings.corp_id

    def sender(self, deps: Deps, settings: WecomConfig, http: HttpFactory) -> WecomSender:
        return WecomSender(deps, settings, http)

    def routes(self) -> Any:
        from ...webhooks import wecom

        return wecom.routes

    def card_update(
        self, card: ReviewCard, text: str, response_code: str, now: datetime
    ) -> OutboxMessage | None:
        if not response_code:
            return None  # an update answers a press: other copies show the outcome when pressed
        return ob.chat(
            "wecom", card.recipient, "card_update", text, now, response_code=response_code,
            card_key=card.card_key, enterprise_id=card.enterprise_id,
        )  # fmt: skip


ADAPTER = WecomAdapter()
