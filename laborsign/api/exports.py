"""Exports part of the JSON API (issue 14): roster and contract ledger as xlsx, the MOHRSS
information elements as JSON Lines, signed PDFs as a zip. Each takes its list's filters.

Registered before the roster and contract routes: `/contracts/export.xlsx` must not be read
as the contract whose id is `export.xlsx`."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from ..core.clock import china_time
from ..core.services import exports as svc
from ..core.services import roster as roster_svc
from ..core.services.accounts import Actor
from ..core.services.contracts import queries as contract_queries
from . import contracts as contracts_api
from .http import DEPS, ApiRoutes, client_ip, require_actor
from .roster import EMPLOYEE_DAYS

routes = ApiRoutes("导出")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 256 * 1024
CONTRACT_QUERY = {
    "view": "all | awaiting_me | awaiting_others | completed",
    "q": "合同名称或劳动者姓名",
    "status": "状态",
    **{k: v for k, v in contracts_api.LIST_QUERY.items() if k not in ("view", "q", "status", "cursor")},
}
EMPLOYEE_QUERY = {
    "status": "active | resigning | resigned",
    "department_id": "部门（含下级）",
    "q": "姓名或手机号",
    **EMPLOYEE_DAYS,
}


def _disposition(stem: str, ext: str) -> dict[str, str]:
    stamp = china_time(datetime.now().astimezone()).strftime("%Y%m%d%H%M")
    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(f'{stem}-{stamp}.{ext}', safe='')}"}


def _q(request: web.Request, key: str) -> str | None:
    return request.query.get(key) or None


def _filters(request: web.Request, keys: dict[str, str]) -> dict[str, str]:
    return {k: v for k in keys if (v := request.query.get(k))}


Filters = tuple[str | None, str | None, str | None, dict[str, str]]


async def _contract_export(request: web.Request, kind: str) -> tuple[Actor, Filters]:
    """The caller, after the filters are checked (a bad one is a 422 before anything streams)
    and the export is audited."""
    actor = await require_actor(request)
    deps = request.app[DEPS]
    narrow = _filters(request, CONTRACT_QUERY)  # the list's other filters, as its page gives them
    args: Filters = (_q(request, "view"), _q(request, "q"), _q(request, "status"), narrow)
    await contract_queries.list_for_enterprise(deps, actor, *args[:3], 1, 1, None, narrow)
    await svc.audit_export(deps, actor, kind, client_ip(request), _filters(request, CONTRACT_QUERY))
    return actor, args


async def _stream(request: web.Request, stem: str, ext: str, content_type: str) -> web.StreamResponse:
    response = web.StreamResponse(headers={**_disposition(stem, ext), "Content-Type": content_type})
    await response.prepare(request)
    return response


async def _send_file(
    request: web.Request, path: Path, content_type: str, headers: dict[str, str]
) -> web.StreamResponse:
    response = web.StreamResponse(headers={**headers, "Content-Type": content_type})
    response.content_length = (await asyncio.to_thread(path.stat)).st_size
    await response.prepare(request)
    f = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(f.read, CHUNK):
            await response.write(chunk)
    finally:
        f.close()
    await response.write_eof()
    return response


async def _xlsx(
    request: web.Request, stem: str, write: Callable[[Path], Awaitable[int]]
) -> web.StreamResponse:
    fd, name = tempfile.mkstemp(prefix="laborsign-export-", suffix=".xlsx")
    os.close(fd)
    path = Path(name)
    try:
        await write(path)
        return await _send_file(request, path, XLSX, _disposition(stem, "xlsx"))
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


@routes.get(
    "/api/v1/employees/export.xlsx",
    "导出花名册（Excel，筛选条件同员工列表；记入审计）",
    auth="enterprise",
    query=EMPLOYEE_QUERY,
    produces=XLSX,
)
async def employees_xlsx(request: web.Request) -> web.StreamResponse:
    actor = await require_actor(request)
    deps = request.app[DEPS]
    args = (_q(request, "status"), _q(request, "department_id"), _q(request, "q"))
    days = _filters(request, EMPLOYEE_DAYS)
    await roster_svc.list_employees(deps, actor, *args, 1, 1, None, days)  # bad filters: 422 first
    await svc.audit_export(
        deps, actor, "export_employees_xlsx", client_ip(request), _filters(request, EMPLOYEE_QUERY)
    )
    return await _xlsx(request, "花名册", lambda path: svc.employees_xlsx(deps, actor, path, *args, days))


@routes.get(
    "/api/v1/contracts/export.xlsx",
    "导出合同台账（Excel，电子劳动合同信息要素；筛选条件同合同列表；记入审计）",
    auth="enterprise",
    query=CONTRACT_QUERY,
    produces=XLSX,
)
async def contracts_xlsx(request: web.Request) -> web.StreamResponse:
    actor, args = await _contract_export(request, "export_contracts_xlsx")
    deps = request.app[DEPS]
    return await _xlsx(request, "合同台账", lambda path: svc.contracts_xlsx(deps, actor, path, *args))


@routes.get(
    "/api/v1/contracts/export.jsonl",
    "导出电子劳动合同信息要素（JSON Lines，每行一份合同，含文件 sha256；记入审计）",
    auth="enterprise",
    query=CONTRACT_QUERY,
    produces="application/x-ndjson",
)
async def contracts_jsonl(request: web.Request) -> web.StreamResponse:
    actor, args = await _contract_export(request, "export_contracts_jsonl")
    response = await _stream(request, "电子劳动合同信息要素", "jsonl", "application/x-ndjson; charset=utf-8")
    async for chunk in svc.contracts_jsonl(request.app[DEPS], actor, *args):
        await response.write(chunk)
    await response.write_eof()
    return response


@routes.get(
    "/api/v1/contracts/export.zip",
    "批量下载已签署合同PDF（ZIP，筛选结果中已完成的合同；记入审计）",
    auth="enterprise",
    query=CONTRACT_QUERY,
    produces="application/zip",
)
async def contracts_zip(request: web.Request) -> web.StreamResponse:
    actor, args = await _contract_export(request, "export_contracts_zip")
    response = await _stream(request, "已签署合同", "zip", "application/zip")

    async def send(chunk: bytes) -> None:
        if chunk:
            await response.write(chunk)

    await svc.signed_pdfs_zip(request.app[DEPS], actor, *args, send)
    await response.write_eof()
    return response
