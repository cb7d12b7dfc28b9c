"""What every door shares (the JSON API, the platform webhooks, the worker pages, the employer
and platform pages): the typed application keys, the root middleware (request id, access log,
metrics), the JSON error answer, the route registry behind the OpenAPI document, and the
doors themselves.

A door is a sub-application: its own routes, its own middlewares (the API's CSRF check and
JSON errors, the pages' error pages), its own keys. The root application holds the doors, the
security headers and the process's start and stop; a request is handed to the door that owns
the first segment of its path (the site's pages take every path no other door owns, so a
wrong link gets a page). No door imports another; `bootstrap.py` builds and mounts them."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Middleware
from aiohttp.web_protocol import RequestPayloadError
from aiohttp.web_urldispatcher import AbstractRuleMatching, MatchedSubAppResource
from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import BaseModel

from .core.errors import DomainError, Invalid
from .inputs import READ_FAILED, unsafe_url

if TYPE_CHECKING:
    from .bootstrap import AppDeps
    from .bots.runtime import ChatRuntime

log = logging.getLogger("laborsign.http")
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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


# The keys every door may read; the composition root sets them on the root and on each door
# (a handler's `request.app` is its own door).
DEPS: web.AppKey[AppDeps] = web.AppKey("deps")
METRICS = web.AppKey("metrics", Metrics)
CHAT: web.AppKey[ChatRuntime] = web.AppKey("chat")
DOORS: web.AppKey[dict[str, web.Application]] = web.AppKey("doors")


# --- answers -------------------------------------------------------------------------------------


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)


def json_response(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def error_response(status: int, code: str, message: str, **extra: object) -> web.Response:
    body: dict[str, object] = {"error": code, "message": message}
    body.update(extra)
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return web.json_response(body, status=status, headers=headers, dumps=_dumps)


HTTP_MESSAGES = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限进行此操作"),
    404: ("not_found", "请求的资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("too_large", "上传的内容过大"),
    415: ("unsupported_type", "不支持的内容类型"),
}


def always(request: web.Request) -> bool:
    return True


def asks_for_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def json_errors(wants_json: Callable[[web.Request], bool] = always) -> Middleware:
    """A door's errors as JSON answers (`error` + `message`): domain errors, HTTP errors and
    faults. `wants_json`: whether an HTTP error or a fault is answered in JSON (the API and the
    webhooks: always; the pages: when the client asks for JSON, else the page door draws it)."""

    @web.middleware
    async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except DomainError as exc:
            extra: dict[str, object] = dict(exc.extra)
            if isinstance(exc, Invalid):
                extra["fields"] = exc.fields
            return error_response(exc.status, exc.code, exc.message, **extra)
        except web.HTTPException as exc:
            if exc.status < 400 or not wants_json(request):
                raise
            code, message = HTTP_MESSAGES.get(exc.status, ("http_error", "请求无法处理"))
            return error_response(exc.status, code, message)
        except (HttpProcessingError, RequestPayloadError):
            # Raised while a handler reads a body that is malformed on the wire (bad chunking,
            # compression that does not decode, a multipart part header with control bytes).
            return error_response(400, "malformed_body", READ_FAILED)
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path[:300])
            return error_response(500, "internal_error", "服务器内部错误，请稍后重试")

    return errors_as_json


def _route_name(request: web.Request) -> str:
    info = request.match_info.route.resource
    return info.canonical if info is not None else "unmatched"


_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Whatever a door lets through unanswered: its own JSON when asked for (the API's and the
# webhooks' doors answer everything themselves; a page's HTTP error goes on to aiohttp).
_last_resort = json_errors(asks_for_json)


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The root's middleware, around every door: request id, structured access log and
    Prometheus figures; a URL with control characters is refused before any door sees it, and
    what a door lets through unanswered is answered in JSON when asked for. The status recorded is the one the
    client received: a redirect or page error raised as an exception counts as itself, a client
    that went away as 499."""
    sent = request.headers.get("X-Request-Id", "")
    rid = sent if _REQUEST_ID.fullmatch(sent) else secrets.token_hex(8)
    token = request_id_var.set(rid)
    start = time.perf_counter()
    status = 500
    try:
        if unsafe_url(request):
            response: web.StreamResponse = error_response(400, "bad_url", "请求地址或参数包含不允许的字符")
        else:
            response = await _last_resort(request, handler)
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


# --- doors ---------------------------------------------------------------------------------------


def first_segment(path: str) -> str:
    """`/api/v1/contracts` → `api`, `/` → ``."""
    return path.lstrip("/").split("/", 1)[0]


class FirstSegments(AbstractRuleMatching):
    """The paths a door owns: those whose first segment is one of its own routes' (None: every
    path, for the door that takes what no other door owns)."""

    def __init__(self, segments: frozenset[str] | None) -> None:
        self.segments = segments

    async def match(self, request: web.Request) -> bool:
        return self.segments is None or first_segment(request.rel_url.path) in self.segments

    def get_info(self) -> Any:
        return {"segments": self.segments}

    @property
    def canonical(self) -> str:
        return "/*" if self.segments is None else "/{" + ",".join(sorted(self.segments)) + "}"


_SEGMENTS: web.AppKey[frozenset[str]] = web.AppKey("door_segments")


def door(deps: AppDeps, middlewares: Iterable[Middleware]) -> web.Application:
    app = web.Application(middlewares=list(middlewares))
    app[DEPS] = deps
    return app


def mount(root: web.Application, name: str, app: web.Application, *, rest: bool = False) -> None:
    """Mounts a door on the root for the first path segments of its routes (`rest`: for every
    path the doors mounted before it do not own; mount it last). Two doors owning one segment
    is a wiring mistake, refused here."""
    if DOORS not in root:
        root[DOORS] = {}
    doors = root[DOORS]
    segments = frozenset(first_segment(r.canonical) for r in app.router.resources())
    taken = {s for other in doors.values() for s in other.get(_SEGMENTS, frozenset()) if s in segments}
    if taken:
        raise RuntimeError(f"door {name} claims path segments another door owns: {sorted(taken)}")
    app[_SEGMENTS] = segments
    rule = FirstSegments(None if rest else segments)
    # Application.add_domain is the public face of this (a sub-application chosen by a rule);
    # its rule can only be a host name, so the door's rule is registered the same way.
    root._add_subapp(partial(MatchedSubAppResource, rule, app), app)
    doors[name] = app


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
    """A RouteTableDef that also remembers what OpenAPI needs to say about each route (the
    API's and the webhooks' routes are in one document)."""

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
