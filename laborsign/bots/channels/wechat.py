"""WeChat Official Account (公众号): the workers' channel. Customer-service texts for answers,
template messages for notices, parametric QR codes that start onboarding on a scan. Callbacks:
webhooks/wechat.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
from pydantic import Field, field_validator

from ...core.outbox import OutboxMessage
from ...core.ports import Deps
from .. import wechat_template
from ..tokens import TIMEOUT, Fetch, SharedToken, TokenError
from ..wechat_template import notice_values, template_data
from .base import ChannelAdapter, ChannelSection, HttpFactory, JoinCode, Sender, SendError, _WechatpySender


class WechatConfig(ChannelSection):
    app_id: str = ""
    app_secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""
    api_base_url: str = "https://api.weixin.qq.com/cgi-bin/"
    notice_template_id: str = ""  # template message for notices; empty = customer-service text
    # Template key → notice value (bots/wechat_template.py); the default suits old templates.
    notice_template_fields: dict[str, str] = Field(
        default_factory=lambda: dict(wechat_template.DEFAULT_FIELDS)
    )

    @field_validator("notice_template_fields")
    @classmethod
    def _fields_fit(cls, v: dict[str, str]) -> dict[str, str]:
        wechat_template.check_fields(v)
        return v


def wechat_fetch(base_url: str, app_id: str, secret: str) -> Fetch:
    async def fetch(http: aiohttp.ClientSession) -> tuple[str, int]:
        params = {"grant_type": "client_credential", "appid": app_id, "secret": secret}
        async with http.get(f"{base_url}token", params=params, timeout=TIMEOUT) as resp:
            data = await resp.json(content_type=None)
        if "access_token" not in data:
            raise TokenError(f"wechat token refused: {data.get('errcode')} {data.get('errmsg')}")
        return str(data["access_token"]), int(data.get("expires_in", 7200))

    return fetch


class WechatSender(_WechatpySender):
    """Official Account: template messages for notices (when a template is configured) and
    customer-service messages for conversation answers."""

    channel = "wechat"
    unfollowed = frozenset({43004})

    def __init__(self, deps: Deps, config: WechatConfig, http: Callable[[], aiohttp.ClientSession]) -> None:
        fetch = wechat_fetch(config.api_base_url, config.app_id, config.app_secret)
        super().__init__(SharedToken(deps, f"wechat:{config.app_id}", fetch, http), config.app_id)
        self.config = config

    def _client(self, access_token: str) -> Any:
        from wechatpy import WeChatClient

        client = WeChatClient(
            self.config.app_id,
            self.config.app_secret,
            access_token=access_token,
            timeout=10,
            auto_retry=False,
        )
        client.API_BASE_URL = self.config.api_base_url
        return client

    async def send(self, message: OutboxMessage) -> None:
        openid = message.recipient
        link = message.payload.get("link")
        template_id = self.config.notice_template_id
        if message.kind != "reply" and template_id:
            values = notice_values(
                message.kind, message.text, link, message.payload.get("title"), message.created_at
            )
            data = template_data(self.config.notice_template_fields, values)
            await self._call(lambda c: c.message.send_template(openid, template_id, data, url=link))
            return
        text = f"{message.text}\n{link}" if link else message.text
        await self._call(lambda c: c.message.send_text(openid, text))

    async def create_scene_qr(self, scene: str) -> dict[str, Any]:
        """A permanent parametric QR code: scanning it sends SCAN / subscribe with the scene."""
        body = {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene}}}
        return await self._call(lambda c: c.qrcode.create(body))


class WechatAdapter(ChannelAdapter[WechatConfig]):
    name = "wechat"
    label = "微信公众号"
    section = WechatConfig
    worker_facing = True
    join_label = "微信扫一扫，关注公众号即开始入职"

    def app_id(self, settings: WechatConfig) -> str:
        return settings.app_id

    async def join_code(self, sender: Sender, settings: WechatConfig, token: str, join_url: str) -> JoinCode:
        """A permanent parametric QR code with the scene `join:<token>`: the follow (or scan)
        event carries the scene and starts onboarding in the chat (bots/flows.py). WeChat answers
        with the ticket and the link the code encodes; the image is drawn here, not fetched."""
        assert isinstance(sender, WechatSender)
        scene = f"join:{token}"
        created = await sender.create_scene_qr(scene)
        url, ticket = created.get("url"), created.get("ticket")
        if not url or not ticket:
            raise SendError(f"wechat: no QR code in the answer {created!r:.200}")
        return JoinCode(str(url), {"scene": scene, "ticket": str(ticket)})

    def sender(self, deps: Deps, settings: WechatConfig, http: HttpFactory) -> WechatSender:
        return WechatSender(deps, settings, http)

    def routes(self) -> Any:
        from ...webhooks import wechat

        return wechat.routes


ADAPTER = WechatAdapter()
