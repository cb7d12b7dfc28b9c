"""DingTalk (钉钉): used by workers and HR alike. Robot one-to-one messages, the interactive
HR review card and its update. Inbound: the stream connection or signed HTTP callbacks
(bots/dingtalk.py, webhooks/dingtalk.py)."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import aiohttp

from ...core import outbox as ob
from ...core.chat import ReviewCard
from ...core.outbox import OutboxMessage
from ...core.ports import Deps
from ..tokens import TIMEOUT, Fetch, SharedToken, TokenError
from .base import Background, ChannelAdapter, ChannelSection, HttpFactory, JoinCode, Sender, SendError

if TYPE_CHECKING:
    from ..engine import Engine


class DingtalkConfig(ChannelSection):
    client_id: str = ""
    client_secret: str = ""
    robot_code: str = ""
    mode: Literal["stream", "http"] = "stream"
    api_base_url: str = "https://api.dingtalk.com"
    card_template_id: str = ""  # interactive card template for the HR review card


def dingtalk_fetch(base_url: str, client_id: str, secret: str) -> Fetch:
    async def fetch(http: aiohttp.ClientSession) -> tuple[str, int]:
        body = {"appKey": client_id, "appSecret": secret}
        url = f"{base_url.rstrip('/')}/v1.0/oauth2/accessToken"
        async with http.post(url, json=body, timeout=TIMEOUT) as resp:
            data = await resp.json(content_type=None)
        if not data.get("accessToken"):
            raise TokenError(f"dingtalk token refused: {data.get('code')} {data.get('message')}")
        return str(data["accessToken"]), int(data.get("expireIn", 7200))

    return fetch


class DingtalkSender:
    """DingTalk OpenAPI through aiohttp (the stream SDK has no sending side worth using):
    robot one-to-one messages and interactive cards."""

    channel = "dingtalk"

    def __init__(self, deps: Deps, config: DingtalkConfig, http: Callable[[], aiohttp.ClientSession]) -> None:
        self.base = config.api_base_url.rstrip("/")
        self.app_id = config.client_id
        self.config = config
        self.http = http
        fetch = dingtalk_fetch(config.api_base_url, config.client_id, config.client_secret)
        self.token = SharedToken(deps, f"dingtalk:{config.client_id}", fetch, http)

    async def _request(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        stale: str | None = None
        for _ in range(2):
            try:
                token = await self.token.get(stale)
            except TokenError as exc:
                raise SendError(str(exc)) from exc
            headers = {"x-acs-dingtalk-access-token": token}
            try:
                async with self.http().request(
                    method, f"{self.base}{path}", json=body, headers=headers, timeout=TIMEOUT
                ) as resp:
                    text = await resp.text()
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise SendError(f"dingtalk: {type(exc).__name__}: {exc}") from exc
            if status == 401 and stale is None:
                stale = token
                continue
            if status >= 400:
                permanent = status in (400, 403, 404)
                raise SendError(f"dingtalk {status}: {text[:200]}", permanent=permanent)
            try:
                data = json.loads(text) if text else {}
            except ValueError:
                data = {}
            return data if isinstance(data, dict) else {}
        raise SendError("dingtalk: token refused twice")

    async def send(self, message: OutboxMessage) -> None:
        user = message.recipient
        if message.kind == "review_card":
            await self._request("POST", "/v1.0/card/instances/createAndDeliver", dingtalk_review_card(
                message.payload, self.config, user
            ))  # fmt: skip
            return
        if message.kind == "card_update":
            body = {
                "outTrackId": message.payload["card_key"],
                "cardData": {"cardParamMap": dingtalk_card_params(message.payload)},
            }
            await self._request("PUT", "/v1.0/card/instances", body)
            return
        link = message.payload.get("link")
        text = f"{message.text}\n{link}" if link else message.text
        body = {
            "robotCode": self.config.robot_code or self.config.client_id,
            "userIds": [user],
            "msgKey": "sampleText",
            "msgParam": json.dumps({"content": text}, ensure_ascii=False),
        }
        data = await self._request("POST", "/v1.0/robot/oToMessages/batchSend", body)
        if user in (data.get("invalidStaffIdList") or []):
            raise SendError("dingtalk: user unknown to the robot", permanent=True)


def dingtalk_card_params(payload: dict[str, Any]) -> dict[str, str]:
    """Card template variables (all strings, as DingTalk's cardParamMap requires)."""
    return {
        "title": "入职资料待审核" if not payload.get("decided") else "入职资料已审核",
        "name": str(payload.get("name", "")),
        "phone": str(payload.get("phone_masked", "")),
        "id_number": str(payload.get("id_number_masked", "")),
        "submitted_at": str(payload.get("submitted_at", "")),
        "enterprise": str(payload.get("enterprise_name", "")),
        "labor_note": str(payload.get("labor_note", "")),
        "link": str(payload.get("link", "")),
        "record_id": str(payload.get("record_id", "")),
        "status": str(payload.get("status_text", "待审核")),
        "decided": "true" if payload.get("decided") else "false",
    }


def dingtalk_review_card(payload: dict[str, Any], config: DingtalkConfig, user: str) -> dict[str, Any]:
    return {
        "cardTemplateId": config.card_template_id,
        "outTrackId": payload["card_key"],
        "callbackType": "STREAM" if config.mode == "stream" else "HTTP",
        "cardData": {"cardParamMap": dingtalk_card_params(payload)},
        "openSpaceId": f"dtv1.card//IM_ROBOT.{user}",
        "imRobotOpenSpaceModel": {"supportForward": False},
        "imRobotOpenDeliverModel": {
            "spaceType": "IM_ROBOT",
            "robotCode": config.robot_code or config.client_id,
        },
    }


class DingtalkAdapter(ChannelAdapter[DingtalkConfig]):
    name = "dingtalk"
    label = "钉钉"
    section = DingtalkConfig
    worker_facing = True
    hr_facing = True
    update_every_copy = True
    join_label = "钉钉扫一扫，在钉钉内填写入职资料"

    def app_id(self, settings: DingtalkConfig) -> str:
        return settings.client_id

    async def join_code(
        self, sender: Sender, settings: DingtalkConfig, token: str, join_url: str
    ) -> JoinCode:
        """DingTalk's unified jump link (统一跳转协议), which its scanner opens inside the app: the
        robot cannot be handed a parameter by a scan, so the code carries the H5 join page."""
        return JoinCode(f"dingtalk://dingtalkclient/page/link?url={urllib.parse.quote(join_url, safe='')}")

    def sender(self, deps: Deps, settings: DingtalkConfig, http: HttpFactory) -> DingtalkSender:
        return DingtalkSender(deps, settings, http)

    def routes(self) -> Any:
        from ...webhooks import dingtalk

        return dingtalk.routes

    def card_update(
        self, card: ReviewCard, text: str, response_code: str, now: datetime
    ) -> OutboxMessage | None:
        return ob.chat(
            "dingtalk", card.recipient, "card_update", text, now, card_key=card.card_key, decided=True,
            status_text=text, enterprise_id=card.enterprise_id, record_id=card.record_id,
        )  # fmt: skip

    def background(
        self, deps: Deps, engine: Engine, settings: DingtalkConfig, http: HttpFactory
    ) -> Background | None:
        if settings.mode != "stream":
            return None
        from ..dingtalk import StreamRunner

        return StreamRunner(deps, engine, settings, http)


ADAPTER = DingtalkAdapter()
