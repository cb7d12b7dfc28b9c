"""Sending to Feishu: texts and the interactive HR review card, through `lark-oapi`'s async
message API; the token is the shared tenant_access_token (fetched once for all processes, so
the SDK's own per-process token cache is switched off with `enable_set_token`)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from ....core.outbox import OutboxMessage
from ....core.ports import Deps
from ...tokens import TIMEOUT, Fetch, SharedToken, TokenError
from ..base import SDK_TIMEOUT, HttpFactory, SendError
from . import FeishuConfig

# The tenant_access_token was refused (invalid or expired): fetch another and try once more.
TOKEN_ERRORS = {99991661, 99991663, 99991668}
# The person cannot be reached: outside the app's availability range (230013), the bot is not
# enabled for them (230006), the open_id belongs to another app (99992361).
UNREACHABLE = {230013, 230006, 99992361}
# Refused the same way on every try: bad request content (230001), content too long (230025),
# the card JSON refused (230099, 11310).
REFUSED = {230001, 230025, 230099, 11310}
PERMANENT = UNREACHABLE | REFUSED


def feishu_fetch(base_url: str, app_id: str, secret: str) -> Fetch:
    async def fetch(http: aiohttp.ClientSession) -> tuple[str, int]:
        url = f"{base_url.rstrip('/')}/open-apis/auth/v3/tenant_access_token/internal"
        body = {"app_id": app_id, "app_secret": secret}
        async with http.post(url, json=body, timeout=TIMEOUT) as resp:
            data = await resp.json(content_type=None)
        if data.get("code") != 0 or not data.get("tenant_access_token"):
            raise TokenError(f"feishu token refused: {data.get('code')} {data.get('msg')}")
        return str(data["tenant_access_token"]), int(data.get("expire", 7200))

    return fetch


def _plain(text: str) -> dict[str, str]:
    return {"tag": "plain_text", "content": text}


def _field(name: str, value: Any) -> dict[str, Any]:
    return {"is_short": True, "text": {"tag": "lark_md", "content": f"**{name}**\n{value or ''}"}}


def review_card(payload: dict[str, Any]) -> dict[str, Any]:
    """The message card: the submission's masked facts, 通过 / 拒绝 (their values come back in
    the `card.action.trigger` callback) and a link to the record."""
    buttons: list[dict[str, Any]] = [
        {"tag": "button", "text": _plain("通过"), "type": "primary",
         "value": {"action": "approve", "card_key": payload["card_key"]}},
        {"tag": "button", "text": _plain("拒绝"), "type": "danger",
         "value": {"action": "reject", "card_key": payload["card_key"]}},
        {"tag": "button", "text": _plain("查看入职资料"), "type": "default", "url": payload.get("link", "")},
    ]  # fmt: skip
    return {
        "config": {"wide_screen_mode": True, "update_multi": True},
        "header": {"title": _plain("入职资料待审核"), "template": "blue"},
        "elements": [
            {"tag": "div", "text": _plain(str(payload.get("enterprise_name", "")))},
            {
                "tag": "div",
                "fields": [
                    _field("姓名", payload.get("name")),
                    _field("手机号", payload.get("phone_masked")),
                    _field("证件号码", payload.get("id_number_masked")),
                    _field("提交时间", payload.get("submitted_at")),
                ],
            },
            {"tag": "div", "text": _plain(str(payload.get("labor_note", "")))},
            {"tag": "action", "actions": buttons},
        ],
    }


def decided_card(outcome: str, link: str) -> dict[str, Any]:
    """What a pressed card turns into (Feishu shows the card the callback answers with)."""
    return {
        "config": {"wide_screen_mode": True, "update_multi": True},
        "header": {"title": _plain("入职资料已审核"), "template": "green" if "通过" in outcome else "grey"},
        "elements": [
            {"tag": "div", "text": _plain(f"审核结果：{outcome}")},
            {"tag": "action", "actions": [
                {"tag": "button", "text": _plain("查看入职资料"), "type": "default", "url": link},
            ]},
        ],
    }  # fmt: skip


class FeishuSender:
    channel = "feishu"

    def __init__(self, deps: Deps, config: FeishuConfig, http: HttpFactory) -> None:
        self.config = config
        self.app_id = config.app_id
        fetch = feishu_fetch(config.api_base_url, config.app_id, config.app_secret)
        self.token = SharedToken(deps, f"feishu:{config.app_id}", fetch, http)
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            import lark_oapi as lark

            self._client = (
                lark.Client.builder()
                .app_id(self.config.app_id)
                .app_secret(self.config.app_secret)
                .domain(self.config.api_base_url.rstrip("/"))
                .enable_set_token(True)
                .timeout(10)
                .log_level(lark.LogLevel.ERROR)
                .build()
            )
        return self._client

    async def send(self, message: OutboxMessage) -> None:
        if message.kind == "card_update":
            return  # a pressed card is updated by the callback's answer (webhook.py)
        if message.kind == "review_card":
            await self._create(message.recipient, "interactive", review_card(message.payload))
            return
        link = message.payload.get("link")
        text = f"{message.text}\n{link}" if link else message.text
        await self._create(message.recipient, "text", {"text": text})

    async def _create(self, open_id: str, msg_type: str, content: dict[str, Any]) -> None:
        from lark_oapi.api.im.v1 import CreateMessageRequest, CreateMessageRequestBody
        from lark_oapi.core.model import RequestOption

        body = (
            CreateMessageRequestBody.builder()
            .receive_id(open_id)
            .msg_type(msg_type)
            .content(json.dumps(content, ensure_ascii=False))
            .build()
        )
        request = CreateMessageRequest.builder().receive_id_type("open_id").request_body(body).build()
        stale: str | None = None
        for _ in range(2):
            try:
                token = await self.token.get(stale)
            except TokenError as exc:
                raise SendError(str(exc)) from exc
            option = RequestOption.builder().tenant_access_token(token).build()
            try:
                async with asyncio.timeout(SDK_TIMEOUT):
                    response = await self.client().im.v1.message.acreate(request, option)
            except TimeoutError as exc:
                raise SendError("feishu: timed out") from exc
            except Exception as exc:  # httpx's connection errors, a non-JSON answer (HTTP 5xx)
                raise SendError(f"feishu: {type(exc).__name__}: {exc}") from exc
            if response.success():
                return
            code = response.code
            if code in TOKEN_ERRORS and stale is None:
                stale = token
                continue
            if code is None:
                raise SendError(f"feishu HTTP {getattr(response.raw, 'status_code', '?')}")
            raise SendError(
                f"feishu {code}: {response.msg}", permanent=code in PERMANENT, unfollowed=code == 230013
            )
        raise SendError("feishu: token refused twice")
