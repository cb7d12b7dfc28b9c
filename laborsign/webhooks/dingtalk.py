"""DingTalk HTTP callback mode (the alternative to the stream): robot messages and card
presses, signed with `timestamp` + `sign` headers and refused outside the replay window."""

from __future__ import annotations

from typing import Any, Literal, NotRequired

from aiohttp import web
from typing_extensions import TypedDict

from ..bots import dingtalk
from ..core.errors import BadRequest, Forbidden
from ..http import ApiRoutes, json_response
from ..inputs import parse_json
from .common import admit, read_body, retry_lost_connection, runtime

routes = ApiRoutes("聊天渠道回调")


class DingTalkText(TypedDict):
    content: str


class DingTalkCallbackOut(dingtalk.DingTalkCardAnswer):
    """The robot's reply (msgtype + text), the pressed card's new data (cardData), or {} when
    there is nothing to answer (acknowledged)."""

    msgtype: NotRequired[Literal["text"]]
    text: NotRequired[DingTalkText]


@routes.post(
    "/webhooks/dingtalk",
    "钉钉：HTTP 回调模式的机器人消息与卡片回调（timestamp/sign 签名）",
    auth="public",
    answer=DingTalkCallbackOut,
    errors=(403, 404, 413),
)
@retry_lost_connection
async def dingtalk_callback(request: web.Request) -> web.Response:
    chat = runtime(request, "dingtalk")
    config = chat.config.dingtalk
    timestamp = request.headers.get("timestamp", "")[:20]
    sign = request.headers.get("sign", "")[:100]
    now_ms = int(chat.deps.clock.now().timestamp() * 1000)
    if not dingtalk.check_http_signature(config.client_secret, timestamp, sign, now_ms):
        raise Forbidden("签名校验失败或时间戳已过期", "bad_signature")
    body = await read_body(request)
    # The sign covers only the timestamp: the same pair with another body is a forgery.
    await admit(chat, "dingtalk", f"{config.client_id}:{timestamp}:{sign}", body)
    data: Any = parse_json(body)
    if not isinstance(data, dict):
        raise BadRequest("请求内容应为 JSON 对象", "malformed_json")
    if "outTrackId" in data:
        key = f"card:{data.get('outTrackId')}:{data.get('userId')}:{timestamp}"
        if not await chat.engine.claim_once("dingtalk", config.client_id, key):
            return json_response({})
        card: DingTalkCallbackOut = {
            **await dingtalk.card_callback(chat.deps, chat.engine, config.client_id, data)
        }
        chat.deliverer.wakeup.set()
        return json_response(card)
    if "msgtype" not in data:
        return json_response({})  # unknown callback: acknowledged, ignored
    incoming = dingtalk.incoming_from_bot(data, config.client_id, reply_by_outbox=False)
    if incoming is None:
        return json_response({})
    outcome = await chat.engine.handle(incoming)
    if not outcome.text:
        return json_response({})
    reply: DingTalkCallbackOut = {"msgtype": "text", "text": {"content": outcome.text}}
    return json_response(reply)
