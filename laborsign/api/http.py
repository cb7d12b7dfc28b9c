"""HTTP plumbing shared by the JSON API and the pages: app keys, errors, request ids,
metrics, CSRF, authentication, body parsing and the route registry behind OpenAPI."""

from __future__ import annotations

import asyncio
import contextvars
import ipaddress
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import BaseModel, ValidationError

from ..core.errors import BadRequest, DomainError, Forbidden, Invalid, Unauthorized
from ..core.services import accounts as account_service
from ..core.services.accounts import Actor
from .inputs import MAX_JSON_BYTES, READ_FAILED, parse_json, read_limited, unsafe_url

log = logging.getLogger("laborsign.http")
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

SESSION_COOKIE = "laborsign_session"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "laborsign_http_requests_total",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "laborsign_http_request_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )


DEPS: web.AppKey[Any] = web.AppKey("deps", object)
METRICS = web.AppKey("metrics", Metrics)
# How a page (not the JSON API) shows an HTTP error: set by the page plumbing (web/).


def error_response(status: int, code: str, message: str, **extra: object) -> web.Response:
    body: dict[str, object] = {"error": code, "message": message}
    body.update(extra)
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return web.json_response(body, status=status, headers=headers, dumps=_dumps)


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)


def json_response(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


_HTTP_MESSAGES = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限进行此操作"),
    404: ("not_found", "请求的资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("too_large", "上传的内容过大"),
    415: ("unsupported_type", "不支持的内容类型"),
}


def _route_name(request: web.Request) -> str:
    info = request.match_info.route.resource
    return info.canonical if info is not None else "unmatched"


_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id, structured access log, Prometheus figures and JSON errors for everything.
    The status recorded is the one the client received: a redirect or page error raised as an
    exception counts as itself, a client that went away as 499."""
    sent = request.headers.get("X-Request-Id", "")
    rid = sent if _REQUEST_ID.fullmatch(sent) else secrets.token_hex(8)
    token = request_id_var.set(rid)
    start = time.perf_counter()
    status = 500
    try:
        response = await _errors_as_json(request, handler)
        status = response.status
        response.headers["X-Request-Id"] = rid
        return response
    except web.HTTPException as exc:
        status = exc.status
        exc.headers["X-Request-Id"] = rid
        raise
    except asyncio.CancelledError:
        status = 499
        raise
    finally:
        elapsed = time.perf_counter() - start
        route = _route_name(request)
        metrics = request.app.get(METRICS)
        if metrics is not None:
            metrics.requests.labels(request.method, route, str(status)).inc()
            metrics.latency.labels(request.method, route).observe(elapsed)
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path[:300],
                "status": status,
                "ms": round(elapsed * 1000, 1),
            },
        )
        request_id_var.reset(token)


async def _errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        if unsafe_url(request):
            raise BadRequest("请求地址或参数包含不允许的字符", "bad_url")
        return await handler(request)
    except DomainError as exc:
        extra: dict[str, object] = dict(exc.extra)
        if isinstance(exc, Invalid):
            extra["fields"] = exc.fields
        return error_response(exc.status, exc.code, exc.message, **extra)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if not _wants_json(request):
            raise  # pages: web/errors.py has already drawn its own error pages
        code, message = _HTTP_MESSAGES.get(exc.status, ("http_error", "请求无法处理"))
        return error_response(exc.status, code, message)
    except (HttpProcessingError, RequestPayloadError):
        # Raised while a handler reads a body that is malformed on the wire (bad chunking,
        # compression that does not decode, a multipart part header with control bytes).
        return error_response(400, "malformed_body", READ_FAILED)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path[:300])
        return error_response(500, "internal_error", "服务器内部错误，请稍后重试")


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith(("/api/", "/webhooks/")) or "application/json" in request.headers.get(
        "Accept", ""
    )


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Cookie-authenticated state changes must carry the session's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.path.startswith("/api/"):
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


# --- route registry for OpenAPI --------------------------------------------------------------------


@dataclass
class RouteDoc:
    method: str
    path: str
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    status: int = 200
    auth: str = "session"  # session | public | worker | enterprise
    multipart: dict[str, str] | None = None
    query: dict[str, str] | None = None
    produces: str = "application/json"
    paged: bool = False  # takes ?page= and ?per_page= (see paging())
    # The answer's type (a TypedDict from api/schemas.py or a module's own); the document's
    # response schema is generated from it.
    answer: Any = None
    # Error statuses this operation can answer beyond the ones implied by auth, body and path.
    errors: tuple[int, ...] = ()
    # Other success answers: (status, content type, answer type), e.g. a 202 job beside a 200 file.
    also: tuple[tuple[int, str, Any], ...] = ()


class ApiRoutes:
    """A RouteTableDef that also remembers what OpenAPI needs to say about each route."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.table = web.RouteTableDef()
        self.docs: list[RouteDoc] = []

    def route(
        self,
        method: str,
        path: str,
        summary: str,
        *,
        body: type[BaseModel] | None = None,
        status: int = 200,
        auth: str = "session",
        multipart: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        produces: str = "application/json",
        paged: bool = False,
        answer: Any = None,
        errors: tuple[int, ...] = (),
        also: tuple[tuple[int, str, Any], ...] = (),
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.docs.append(
                RouteDoc(
                    method, path, summary, self.tag, body, status, auth, multipart, query, produces, paged,
                    answer, errors, also,
                )
            )  # fmt: skip
            self.table.route(method, path)(handler)
            return handler

        return register

    def get(self, path: str, summary: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, summary, **kw)

    def post(self, path: str, summary: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, summary, **kw)

    def put(self, path: str, summary: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, summary, **kw)

    def patch(self, path: str, summary: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, summary, **kw)

    def delete(self, path: str, summary: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, summary, status=kw.pop("status", 204), **kw)
