"""Feishu (飞书): used by workers and HR alike, through the official `lark-oapi` SDK.

Inbound (webhook.py): one event-subscription URL, `POST /webhooks/feishu`, takes the URL
verification, encrypted events (`im.message.receive_v1`) and card actions
(`card.action.trigger`); the SDK's dispatcher decrypts them and checks `X-Lark-Signature`.
Outbound (sender.py): texts and the HR review card through `/open-apis/im/v1/messages`, with a
tenant_access_token shared by every process (bots/tokens.py)."""

from __future__ import annotations

import urllib.parse
from typing import Any

from ....core.ports import Deps
from ..base import ChannelAdapter, ChannelSection, HttpFactory, JoinCode, Sender


class FeishuConfig(ChannelSection):
    app_id: str = ""  # cli_…
    app_secret: str = ""
    verification_token: str = ""  # 事件订阅 → Verification Token
    encrypt_key: str = ""  # 事件订阅 → Encrypt Key; callbacks are refused without it
    api_base_url: str = "https://open.feishu.cn"
    applink_base_url: str = "https://applink.feishu.cn"  # Lark: https://applink.larksuite.com


class FeishuAdapter(ChannelAdapter[FeishuConfig]):
    name = "feishu"
    label = "飞书"
    section = FeishuConfig
    worker_facing = True
    hr_facing = True
    # Feishu allows 5 messages a second to one user; a minute's worth well inside it.
    per_minute = 60
    join_label = "飞书扫一扫，在飞书内填写入职资料"

    def app_id(self, settings: FeishuConfig) -> str:
        return settings.app_id

    async def join_code(self, sender: Sender, settings: FeishuConfig, token: str, join_url: str) -> JoinCode:
        """An AppLink that opens the H5 join page inside Feishu. The bot's own AppLink
        (client/bot/open) takes no parameter, so it could not say which enterprise invites."""
        base = settings.applink_base_url.rstrip("/")
        url = urllib.parse.quote(join_url, safe="")
        return JoinCode(f"{base}/client/web_url/open?mode=window&url={url}")

    def sender(self, deps: Deps, settings: FeishuConfig, http: HttpFactory) -> Sender:
        # Built once at start-up when the channel is enabled: the SDK takes seconds to import
        # (every API's models), which must not fall on the first callback, inside Feishu's
        # 3-second deadline and on the event loop.
        import lark_oapi  # noqa: F401

        from .sender import FeishuSender

        return FeishuSender(deps, settings, http)

    def routes(self) -> Any:
        from .webhook import routes

        return routes


ADAPTER = FeishuAdapter()
