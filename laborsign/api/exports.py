"""Exports part of the JSON API (issue 14): roster and contract ledger as xlsx, the MOHRSS
information elements as JSON Lines, signed PDFs as a zip. Each takes its list's filters.

Registered before the roster and contract routes: `/contracts/export.xlsx` must not be read
as the contract whose id is `export.xlsx`."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from aiohttp import web
from typing_extensions import TypedDict

from ..core.clock import china_time, iso
from ..core.exports import EXPORT_STATUS_LABELS, ExportJob, ExportStatus
from ..core.services import exports as svc
from ..core.services import roster as roster_svc
from ..core.services.accounts import Actor
from ..core.services.contracts import queries as contract_queries
from . import contracts as contracts_api
from .http import DEPS, ApiRoutes, client_ip, json_response, require_actor
from .roster import EMPLOYEE_DAYS
from .schemas import Codes, Timestamp, Url

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


async def _stream_all(
    request: web.Request, stem: str, ext: str, content_type: str, chunks: AsyncIterator[bytes]
) -> web.StreamResponse:
    """A download written as its chunks come (an empty chunk is skipped, not sent)."""
    response = await _stream(request, stem, ext, content_type)
    async for chunk in chunks:
        if chunk:
            await response.write(chunk)
    await response.write_eof()
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
    chunks = svc.contracts_jsonl(request.app[DEPS], actor, *args)
    return await _stream_all(
        request, "电子劳动合同信息要素", "jsonl", "application/x-ndjson; charset=utf-8", chunks
    )


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


class ExportJobOut(TypedDict):
    id: str
    kind: str
    status: Annotated[str, Codes(ExportStatus)]
    status_label: str
    done: int
    total: int
    size: int | None
    error: str | None
    created_at: Timestamp
    finished_at: Timestamp | None
    expires_at: Timestamp | None
    url: Url
    download_url: Url | None


def job_json(job: ExportJob) -> ExportJobOut:
    ready = job.status == ExportStatus.DONE and job.file is not None
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "status_label": EXPORT_STATUS_LABELS[ExportStatus(job.status)],
        "done": job.done,
        "total": job.total,
        "size": job.size,
        "error": job.error,
        "created_at": iso(job.created_at),
        "finished_at": iso(job.finished_at) if job.finished_at else None,
        "expires_at": iso(job.expires_at) if job.expires_at else None,
        "url": f"/api/v1/exports/{job.id}",
        "download_url": f"/api/v1/exports/{job.id}/file.zip" if ready else None,
    }


@routes.post(
    "/api/v1/contracts/export.zip",
    "批量下载已签署合同PDF（筛选条件同合同列表；记入审计）：份数不超过 jobs.export_zip_stream_max 时直接返回"
    " ZIP，否则 202 返回后台打包任务，按 url 查询进度，完成后从 download_url 下载",
    auth="enterprise",
    query=CONTRACT_QUERY,
    produces="application/zip",
    also=((202, "application/json", ExportJobOut),),
)
async def contracts_zip_job(request: web.Request) -> web.StreamResponse:
    actor, args = await _contract_export(request, "export_contracts_zip")
    deps = request.app[DEPS]
    total = await svc.zip_total(deps, actor, *args)
    if total > deps.config.jobs.export_zip_stream_max:
        job = await svc.start_zip_job(deps, actor, _filters(request, CONTRACT_QUERY), total)
        return json_response(job_json(job), status=202)
    return await _stream_all(
        request, "已签署合同", "zip", "application/zip", svc.signed_pdf_chunks(deps, actor, *args)
    )


@routes.get(
    "/api/v1/exports/{id}",
    "后台导出任务的进度（本企业有导出合同权限的成员可见）",
    auth="enterprise",
    answer=ExportJobOut,
)
async def export_job(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    job = await svc.export_job(request.app[DEPS], actor, request.match_info["id"])
    return json_response(job_json(job))


@routes.get(
    "/api/v1/exports/{id}/file.zip",
    "下载后台打包完成的压缩包（未完成、失败或已过期：409）",
    auth="enterprise",
    produces="application/zip",
    errors=(409,),
)
async def export_file(request: web.Request) -> web.StreamResponse:
    actor = await require_actor(request)
    job, chunks = await svc.export_download(request.app[DEPS], actor, request.match_info["id"])
    stamp = china_time(job.finished_at or job.created_at).strftime("%Y%m%d%H%M")
    name = quote(f"已签署合同-{stamp}.zip", safe="")
    response = web.StreamResponse(
        headers={"Content-Type": "application/zip", "Content-Disposition": f"attachment; filename*=UTF-8''{name}"}
    )
    if job.size is not None:
        response.content_length = job.size
    first = await anext(aiter(chunks), b"")  # a missing file is a 404/503 before anything is sent
    await response.prepare(request)
    await response.write(first)
    async for chunk in chunks:
        await response.write(chunk)
    await response.write_eof()
    return response
