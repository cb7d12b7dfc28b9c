"""The JSON API's own plumbing: CSRF, authentication, client addresses, body and query
parsing. What every door shares (keys, JSON errors, the route registry) is `laborsign/http.py`;
its names are re-exported here for the API's modules."""

from __future__ import annotations

import ipaddress
import re
import secrets
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from ..core.errors import BadRequest, Forbidden, Invalid, Unauthorized
from ..core.services import accounts as account_service
from ..core.services.accounts import Actor
from ..http import CHAT as CHAT
from ..http import DEPS as DEPS
from ..http import METRICS as METRICS
from ..http import ApiRoutes as ApiRoutes
from ..http import Handler as Handler
from ..http import Metrics as Metrics
from ..http import RouteDoc as RouteDoc
from ..http import error_response as error_response
from ..http import json_response as json_response
from ..inputs import MAX_JSON_BYTES, parse_json, read_limited

SESSION_COOKIE = "laborsign_session"
M = TypeVar("M", bound=BaseModel)


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Cookie-authenticated state changes must carry the session's CSRF token (the API door's
    middleware: the webhooks and the pages have no cookie-authenticated state changes)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return await handler(request)
    if request.headers.get("Authorization", "").startswith("Bearer "):
        return await handler(request)
    if session_cookie(request):
        actor = await current_actor(request)
        if actor is not None and actor.session is not None:
            sent = request.headers.get("X-CSRF-Token", "")
            if not secrets.compare_digest(sent.encode(), actor.session.csrf.encode()):
                return error_response(403, "csrf_failed", "安全校验失败，请刷新页面后重试")
    return await handler(request)


_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")


def session_cookie(request: web.Request) -> str | None:
    """The session token, or None when the cookie is not one we could have set (bytes that are
    not UTF-8, another format): such a cookie is ignored, so logging in again replaces it."""
    value = request.cookies.get(SESSION_COOKIE)
    return value if value and _TOKEN.fullmatch(value) else None


_ACTOR_KEY: web.RequestKey[Actor | None] = web.RequestKey("actor", object)  # type: ignore[arg-type]


async def current_actor(request: web.Request) -> Actor | None:
    """The caller (session cookie or API key), resolved once per request."""
    if _ACTOR_KEY in request:
        return request[_ACTOR_KEY]
    deps = request.app[DEPS]
    actor: Actor | None = None
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        key = auth[7:].strip()
        if not _TOKEN.fullmatch(key):
            raise Unauthorized("API 密钥无效或已吊销", "bad_api_key")
        actor = await account_service.resolve_api_key(deps, key)
        if actor is None:
            raise Unauthorized("API 密钥无效或已吊销", "bad_api_key")
    elif cookie := session_cookie(request):
        actor = await account_service.resolve_session(deps, cookie)
    request[_ACTOR_KEY] = actor
    return actor


async def require_actor(request: web.Request) -> Actor:
    actor = await current_actor(request)
    if actor is None:
        raise Unauthorized("请先登录", "not_logged_in")
    return actor


async def require_user(request: web.Request) -> Actor:
    actor = await require_actor(request)
    actor.require_user()
    return actor


def peer_address(request: web.Request) -> str:
    """The address of the socket's other end, whatever the request's headers say."""
    peer = request.transport.get_extra_info("peername") if request.transport is not None else None
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return ""


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_ip(request: web.Request) -> str:
    """The client's address: the socket peer, or — when the peer is one of
    `server.trusted_proxies` — the nearest address in X-Forwarded-For that is not a trusted
    proxy. Read from the right: the entries on the left are whatever the client wrote."""
    peer = peer_address(request)
    trusted = request.app[DEPS].config.server.trusted_networks
    address = _ip(peer)
    if address is None or not any(address in net for net in trusted):
        return peer
    hops = [hop for part in request.headers.getall("X-Forwarded-For", []) for hop in part.split(",")]
    for hop in reversed(hops):
        hop_ip = _ip(hop)
        if hop_ip is None:
            break  # a proxy of ours never writes this: believe no further
        address = hop_ip
        if not any(hop_ip in net for net in trusted):
            break
    return str(address)


FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP", "X-Client-IP")


def is_loopback(request: web.Request) -> bool:
    """A request from this machine itself: the socket peer is loopback and nothing says it was
    forwarded (a reverse proxy on this machine forwards outside requests from loopback)."""
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    address = _ip(peer_address(request))
    return address is not None and address.is_loopback


# --- request bodies ----------------------------------------------------------------------------

_PYDANTIC_MESSAGES = {
    "missing": "此项为必填项",
    "string_type": "应为文本",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "bool_type": "应为是或否",
    "bool_parsing": "应为是或否",
    "list_type": "应为列表",
    "dict_type": "格式不正确",
    "model_type": "格式不正确",
    "string_too_long": "内容过长",
    "string_too_short": "内容过短",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式不正确",
    "decimal_parsing": "应为数字",
    "float_parsing": "应为数字",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "too_long": "项目过多",
    "extra_forbidden": "不支持的字段",
}


def invalid_from_pydantic(exc: ValidationError) -> Invalid:
    fields: dict[str, str] = {}
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "body"
        fields.setdefault(key, _PYDANTIC_MESSAGES.get(err["type"], "格式不正确"))
    first_key, first_msg = next(iter(fields.items()))
    return Invalid(f"{first_key}：{first_msg}", fields)


async def read_json(request: web.Request) -> Any:
    raw = await read_limited(request, MAX_JSON_BYTES)
    if not raw:
        return {}
    return parse_json(raw)


async def body(request: web.Request, model: type[M]) -> M:
    data = await read_json(request)
    if not isinstance(data, dict):
        raise BadRequest("请求内容应为 JSON 对象", "malformed_json")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from None


MAX_PAGE = 100_000  # 100,000 pages of up to 100: past every list this service keeps
MAX_INT_PARAM = 1_000_000


def _bounded_int(text: str, high: int) -> int | None:
    text = text.strip()
    if not text or len(text) > 12 or not text.lstrip("+-").isdigit():
        return None
    value = int(text)
    return value if -high <= value <= high else None


def paging(request: web.Request) -> tuple[int, int]:
    page = _bounded_int(request.query.get("page", "1"), MAX_PAGE)
    per_page = _bounded_int(request.query.get("per_page", "20"), MAX_PAGE)
    if page is None or per_page is None:
        raise Invalid(
            f"分页参数应为整数（页码1-{MAX_PAGE}）", {"page": f"页码应为1-{MAX_PAGE}的整数"}
        ) from None
    if page < 1 or not (1 <= per_page <= 100):
        raise Invalid("分页参数超出范围（每页1-100条）", {"per_page": "每页1-100条"})
    return page, per_page


def int_param(request: web.Request, name: str) -> int:
    value = _bounded_int(request.match_info[name], MAX_INT_PARAM)
    if value is None:
        raise Invalid.field(name, "应为整数")
    return value


def scale_param(request: web.Request) -> float:
    """`?scale=` of a page image: 0.5 to 3, default 1.5."""
    try:
        scale = float(request.query.get("scale", "1.5"))
    except ValueError:
        raise Invalid.field("scale", "缩放应为数字") from None
    if not 0.5 <= scale <= 3:
        raise Invalid.field("scale", "缩放应在0.5到3之间")
    return scale


CURSOR_DOC = "上一页答复中的 next_cursor（按游标翻页，此时忽略 page；最后一页为 null）"


def page_json(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def forbid(message: str, code: str = "forbidden") -> Forbidden:
    return Forbidden(message, code)
