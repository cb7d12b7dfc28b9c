"""Channel senders: how one outbox row reaches WeChat, WeCom or DingTalk.

wechatpy is blocking (requests, no default timeout), so its calls run in a small thread pool
with a timeout, never on the event loop. Tokens come from the shared store (tokens.py); the
SDK's own token fetching is switched off because its token URLs are hard-coded and a refresh
by one process would invalidate the token of the others."""

from __future__ import annotations

import abc
import asyncio
import functools
import json
import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import aiohttp

from ..config import DingtalkConfig, WechatConfig, WecomConfig
from ..core.outbox import OutboxMessage
from ..core.ports import Deps
from .tokens import TIMEOUT, SharedToken, TokenError, dingtalk_fetch, wechat_fetch, wecom_fetch
from .wechat_template import notice_values, template_data

log = logging.getLogger("laborsign.bots.channels")
T = TypeVar("T")

# WeChat/WeCom error codes: the token was refused → refresh and try again at once (refused
# again, it is retried after the backoff like any other temporary failure).
TOKEN_ERRORS = {40001, 40014, 42001, 41001}
# The person cannot be reached this way: not (or no longer) following the account (43004),
# refusing its messages (43101), blocked (43019), an openid of another account (40003), past the
# 48 h customer-service window (45015); on WeCom outside the app's range (40031, 81013, 60111).
UNREACHABLE = {43004, 43101, 43019, 40003, 45015, 40031, 81013, 60111}
# The request itself is refused and would be refused the same way on every try: a template
# the account does not have (40037, 40036), data the template does not accept (47001, 47003),
# empty or oversized content (44002, 44004, 45002), an interface the account lacks (48001).
# Only a change of configuration helps; the dead letter can then be sent again.
REFUSED = {40037, 40036, 47001, 47003, 44002, 44004, 45002, 48001}
# Everything else (-1 system busy, 45009 / 45047 quotas, HTTP errors, broken connections,
# timeouts) may pass later and is retried with backoff.
PERMANENT = UNREACHABLE | REFUSED


class SendError(Exception):
    def __init__(self, message: str, permanent: bool = False, unfollowed: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        # The platform says the person does not follow the app: worth remembering, so that
        # later notices do not try again (they go by SMS alone until the person follows).
        self.unfollowed = unfollowed


class Sender(Protocol):
    channel: str
    app_id: str  # the chat identities' app id (WeChat app id, WeCom corp id, DingTalk client id)

    async def send(self, message: OutboxMessage) -> None: ...


_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="chat-sdk")


SDK_TIMEOUT = 15.0


async def in_thread(fn: Callable[[], T], pool: Executor = _pool) -> T:
    loop = asyncio.get_running_loop()
    # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a cancellation that arrives
    # as the call finishes (CPython gh-86296), and a stopping deliverer would carry on.
    async with asyncio.timeout(SDK_TIMEOUT):
        return await loop.run_in_executor(pool, fn)


def _errcode(exc: Exception) -> int | None:
    code = getattr(exc, "errcode", None)
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


class _WechatpySender(abc.ABC):
    """Shared retry-on-stale-token logic for the two wechatpy-based senders."""

    channel = ""
    unfollowed: frozenset[int] = frozenset()  # errcodes meaning "does not follow the app"

    def __init__(self, token: SharedToken, app_id: str) -> None:
        self.token = token
        self.app_id = app_id

    @abc.abstractmethod
    def _client(self, access_token: str) -> Any:
        """The wechatpy client (Official Account or WeCom) bound to this access token."""

    async def _call(self, action: Callable[[Any], T]) -> T:
        from wechatpy.exceptions import WeChatClientException

        stale: str | None = None
        for _ in range(2):
            try:
                access_token = await self.token.get(stale)
            except TokenError as exc:
                raise SendError(str(exc)) from exc
            client = self._client(access_token)
            try:
                return await in_thread(functools.partial(action, client))
            except WeChatClientException as exc:
                code = _errcode(exc)
                if code in TOKEN_ERRORS and stale is None:
                    stale = access_token
                    continue
                if code is None:
                    status = getattr(getattr(exc, "response", None), "status_code", "?")
                    raise SendError(f"{self.channel} HTTP {status}") from exc
                raise SendError(
                    f"{self.channel} {code}: {exc.errmsg}",
                    permanent=code in PERMANENT,
                    unfollowed=code in self.unfollowed,
                ) from exc
            except TimeoutError as exc:
                raise SendError(f"{self.channel}: timed out") from exc
            except Exception as exc:  # requests' connection errors and the like
                raise SendError(f"{self.channel}: {type(exc).__name__}: {exc}") from exc
        raise SendError(f"{self.channel}: token refused twice")


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
        try:
            return await self._call(lambda c: c.qrcode.create(body))
        except SendError:
            raise


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
