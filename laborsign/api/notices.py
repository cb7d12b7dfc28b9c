"""HR notices in the JSON API: the list with unread counts, marking read, the member's settings."""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel
from typing_extensions import TypedDict

from ..core.clock import iso
from ..core.notices import Notice, NoticeKind, NoticePrefs
from ..core.services import notices as svc
from .http import DEPS, ApiRoutes, body, json_response, page_json, paging, require_actor
from .schemas import Codes, PageFields, Timestamp

routes = ApiRoutes("通知")


class ReadIn(BaseModel):
    ids: list[Any] | None = None
    all: Any = False


class SettingsIn(BaseModel):
    notify_by_sms: Any = None


class NoticeOut(TypedDict):
    id: str
    kind: Annotated[str, Codes(NoticeKind, "通知类型")]
    contract_id: str | None
    employee_id: str | None
    text: str
    created_at: Timestamp
    read: bool


class NoticePage(PageFields):
    items: list[NoticeOut]
    unread: int


class UnreadOut(TypedDict):
    unread: int


class NoticeSettingsOut(TypedDict):
    notify_by_sms: bool


def notice_json(notice: Notice, read: bool) -> NoticeOut:
    return {
        "id": notice.id,
        "kind": notice.kind,
        "contract_id": notice.contract_id,
        "employee_id": notice.employee_id,
        "text": notice.text,
        "created_at": iso(notice.created_at),
        "read": read,
    }


def settings_json(prefs: NoticePrefs) -> NoticeSettingsOut:
    return {"notify_by_sms": prefs.notify_by_sms}


@routes.get(
    "/api/v1/notices",
    "HR 通知（新的在前，含本人未读数 unread）",
    paged=True,
    auth="enterprise",
    answer=NoticePage,
)
async def list_notices(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    page, per_page = paging(request)
    rows, total, unread = await svc.page(request.app[DEPS], actor, page, per_page)
    items = [notice_json(n, read) for n, read in rows]
    return json_response({**page_json(items, total, page, per_page), "unread": unread})


@routes.post(
    "/api/v1/notices/read",
    "标记通知已读（ids，或 all: true 全部）",
    body=ReadIn,
    auth="enterprise",
    answer=UnreadOut,
)
async def read_notices(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, ReadIn)
    unread = await svc.mark_read(request.app[DEPS], actor, data.ids, data.all)
    return json_response({"unread": unread})


@routes.get("/api/v1/notices/settings", "本人的通知设置", auth="enterprise", answer=NoticeSettingsOut)
async def get_settings(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    return json_response(settings_json(await svc.settings(request.app[DEPS], actor)))


@routes.put(
    "/api/v1/notices/settings",
    "修改本人的通知设置（notify_by_sms：同时发短信）",
    body=SettingsIn,
    auth="enterprise",
    answer=NoticeSettingsOut,
)
async def put_settings(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, SettingsIn)
    prefs = await svc.change_settings(request.app[DEPS], actor, data.notify_by_sms)
    return json_response(settings_json(prefs))
