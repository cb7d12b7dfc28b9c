"""HTTP plumbing shared by the JSON API and the pages: app keys, errors, request ids,
metrics, CSRF, authentication, body parsing and the route registry behind OpenAPI."""

from __future__ import annotations

import contextvars
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import BaseModel, ValidationError

from ..core.errors import BadRequest, DomainError, Forbidden, Invalid, TooLarge, Unauthorized
from ..core.services import accounts as account_service
from ..core.services.accounts import Actor

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


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id, structured access log, Prometheus figures and JSON errors for everything."""
    rid = request.headers.get("X-Request-Id", "")[:64] or secrets.token_hex(8)
    token = request_id_var.set(rid)
    start = time.perf_counter()
    status = 500
    try:
        response = await _errors_as_json(request, handler)
        status = response.status
        response.headers["X-Request-Id"] = rid
        return response
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
                "path": request.path,
                "status": status,
                "ms": round(elapsed * 1000, 1),
            },
        )
        request_id_var.reset(token)


async def _errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DomainError as exc:
        extra: dict[str, object] = dict(exc.extra)
        if isinstance(exc, Invalid):
            extra["fields"] = exc.fields
        return error_response(exc.status, exc.code, exc.message, **extra)
    except web.HTTPException as exc:
        if exc.status < 400 or not _wants_json(request):
            raise
        code, message = _HTTP_MESSAGES.get(exc.status, ("http_error", "请求无法处理"))
        return error_response(exc.status, code, message)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
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
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        actor = await current_actor(request)
        if actor is not None and actor.session is not None:
            sent = request.headers.get("X-CSRF-Token", "")
            if not secrets.compare_digest(sent.encode(), actor.session.csrf.encode()):
                return error_response(403, "csrf_failed", "安全校验失败，请刷新页面后重试")
    return await handler(request)


_ACTOR_KEY: web.RequestKey[Actor | None] = web.RequestKey("actor", object)  # type: ignore[arg-type]


async def current_actor(request: web.Request) -> Actor | None:
    """The caller (session cookie or API key), resolved once per request."""
    if _ACTOR_KEY in request:
        return request[_ACTOR_KEY]
    deps = request.app[DEPS]
    actor: Actor | None = None
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        actor = await account_service.resolve_api_key(deps, auth[7:].strip())
        if actor is None:
            raise Unauthorized("API 密钥无效或已吊销", "bad_api_key")
    elif cookie := request.cookies.get(SESSION_COOKIE):
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


def client_ip(request: web.Request) -> str:
    peer = request.remote or ""
    trusted = request.app[DEPS].config.server.trusted_proxies
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded and peer in trusted:
        return forwarded.split(",")[0].strip()
    return peer


def is_loopback(request: web.Request) -> bool:
    peer = request.remote or ""
    return peer in ("127.0.0.1", "::1") or peer.startswith("127.")


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


MAX_JSON_BYTES = 1024 * 1024


async def read_json(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise TooLarge("请求内容过大") from None
    raw = await request.read()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("请求内容不是有效的 JSON", "malformed_json") from None


async def body(request: web.Request, model: type[M]) -> M:
    data = await read_json(request)
    if not isinstance(data, dict):
        raise BadRequest("请求内容应为 JSON 对象", "malformed_json")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from None


def paging(request: web.Request) -> tuple[int, int]:
    try:
        page = int(request.query.get("page", "1"))
        per_page = int(request.query.get("per_page", "20"))
    except ValueError:
        raise Invalid("分页参数应为整数", {"page": "分页参数应为整数"}) from None
    if page < 1 or not (1 <= per_page <= 100):
        raise Invalid("分页参数超出范围（每页1-100条）", {"per_page": "每页1-100条"})
    return page, per_page


def int_param(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise Invalid.field(name, "应为整数") from None


def scale_param(request: web.Request) -> float:
    """`?scale=` of a page image: 0.5 to 3, default 1.5."""
    try:
        scale = float(request.query.get("scale", "1.5"))
    except ValueError:
        raise Invalid.field("scale", "缩放应为数字") from None
    if not 0.5 <= scale <= 3:
        raise Invalid.field("scale", "缩放应在0.5到3之间")
    return scale


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
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.docs.append(
                RouteDoc(method, path, summary, self.tag, body, status, auth, multipart, query, produces)
            )
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
