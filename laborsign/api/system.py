"""Health, metrics, the OpenAPI document and the development inbox for the SMS outbox."""

from __future__ import annotations

import re
from typing import Annotated, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from typing_extensions import TypedDict

from ..core.clock import iso
from ..core.errors import NotFound
from ..core.values import Phone
from .http import DEPS, METRICS, ApiRoutes, RouteDoc, is_loopback, json_response
from .schemas import ERROR_STATUSES, Codes, ErrorOut, Items, Timestamp, json_schema

routes = ApiRoutes("系统")
dev_routes = ApiRoutes("开发")
OPENAPI_DOCS = web.AppKey("openapi_docs", list)



class HealthOut(TypedDict):
    status: Annotated[str, Codes(["ok"])]


class DevSmsOut(TypedDict):
    phone: str
    purpose: str
    code: str | None
    text: str
    sent_at: Timestamp


@routes.get(
    "/healthz", "健康检查（数据库可用时 200，不可用时 503）", auth="public", answer=HealthOut, errors=(503,)
)
async def healthz(request: web.Request) -> web.Response:
    try:
        await request.app[DEPS].db.ping()
    except Exception:
        # An error answer like every other (error + message); `status` kept for old probes.
        return json_response(
            {"error": "db_unavailable", "message": "数据库不可用", "status": "unavailable"}, 503
        )
    ok: HealthOut = {"status": "ok"}
    return json_response(ok)


@routes.get("/metrics", "Prometheus 指标", auth="public", produces="text/plain")
async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


class OpenApiOut(TypedDict):
    """An OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0)."""

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


@routes.get("/api/v1/openapi.json", "本文档（OpenAPI 3.1）", auth="public", answer=OpenApiOut)
async def openapi(request: web.Request) -> web.Response:
    return json_response(build_openapi(request.app[OPENAPI_DOCS]))


@dev_routes.get(
    "/api/v1/dev/sms",
    "开发用：查看已存储的短信（仅 outbox 短信通道、仅本机访问）",
    auth="public",
    query={"phone": "手机号"},
    answer=Items[DevSmsOut],
)
async def dev_sms(request: web.Request) -> web.Response:
    if not is_loopback(request):
        raise NotFound("请求的资源不存在")
    phone = Phone.parse(request.query.get("phone", "")).value
    async with request.app[DEPS].uow() as uow:
        messages = await uow.outbox.for_recipient("sms", phone)
    items: list[DevSmsOut] = [
        {
            "phone": m.recipient,
            "purpose": m.payload.get("purpose", m.kind),
            "code": m.payload.get("code"),
            "text": m.text,
            "sent_at": iso(m.created_at),
        }
        for m in messages
    ]
    return json_response({"items": items})


def _answer_schema(doc: RouteDoc, definitions: dict[str, Any]) -> dict[str, Any]:
    if not doc.produces.endswith("json"):
        return {"type": "string", "format": "binary"}
    if doc.answer is None:
        return {"type": "object"}
    return json_schema(doc.answer, definitions)


def _error_statuses(doc: RouteDoc) -> set[int]:
    # 503: a dependency (file storage, the PDF workers, the timestamp service, an identity
    # provider) is down and nothing was changed — any operation can meet one of them.
    statuses = {400, 503, *doc.errors}
    if doc.body or doc.multipart or doc.query or doc.paged:
        statuses.add(422)
    if doc.body or doc.multipart:
        statuses.add(413)
    if doc.multipart:
        statuses.add(415)
    if doc.auth != "public":
        statuses |= {401, 403}
    if _path_params(doc.path):
        statuses |= {404, 422}  # 422: a number in the path that is not one
    return statuses


def _operation(doc: RouteDoc, definitions: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": doc.summary, "tags": [doc.tag]}
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_params(doc.path)
    ]
    params += [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": text}
        for name, text in (doc.query or {}).items()
    ]
    if doc.paged:
        params += [
            {"name": "page", "in": "query", "required": False, "description": "页码",
             "schema": {"type": "integer", "format": "int64", "minimum": 1, "default": 1}},
            {"name": "per_page", "in": "query", "required": False, "description": "每页条数",
             "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
        ]  # fmt: skip
    if params:
        op["parameters"] = params
    if doc.body is not None:
        schema = json_schema(doc.body, definitions, request=True)
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    elif doc.multipart:
        op["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            k: {
                                "type": "string",
                                "description": v,
                                **({"format": "binary"} if "文件" in v else {}),
                            }
                            for k, v in doc.multipart.items()
                        },
                    }
                }
            },
        }
    ok: dict[str, Any] = {"description": "成功"}
    if doc.status != 204:
        ok["content"] = {doc.produces: {"schema": _answer_schema(doc, definitions)}}
    responses: dict[str, Any] = {str(doc.status): ok}
    for status, produces, answer in doc.also:
        other = RouteDoc(doc.method, doc.path, doc.summary, doc.tag, produces=produces, answer=answer)
        responses[str(status)] = {
            "description": "成功",
            "content": {produces: {"schema": _answer_schema(other, definitions)}},
        }
    for status in sorted(_error_statuses(doc)):
        responses[str(status)] = {
            "description": ERROR_STATUSES[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    if doc.auth != "public":
        op["security"] = [{"session": []}, {"apiKey": []}] if doc.auth != "worker" else [{"session": []}]
    op["responses"] = responses
    return op


_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def _path_params(path: str) -> list[str]:
    """`/seals/{id}.png` → ["id"]; `{name:regex}` → ["name"]."""
    return _PARAM.findall(path)


def build_openapi(docs: list[RouteDoc]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    definitions: dict[str, Any] = {"Error": json_schema(ErrorOut, {})}
    for doc in docs:
        path = _PARAM.sub(lambda m: "{" + m.group(1) + "}", doc.path)
        paths.setdefault(path, {})[doc.method.lower()] = _operation(doc, definitions)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "LaborSign 电子劳动合同平台 API",
            "version": "1",
            "description": "状态变更请求使用会话 Cookie 时须带 X-CSRF-Token；集成方使用 Authorization: Bearer <API 密钥>。",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(definitions.items())),
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "laborsign_session"},
                "apiKey": {"type": "http", "scheme": "bearer"},
            },
        },
    }
