"""Export use cases (issue 14): the roster and the contract ledger as xlsx, the MOHRSS contract
information elements as JSON Lines, the signed PDFs of a filtered set as a zip.

Records are read a page at a time through the same list use cases (and so the same filters and
permissions) as the lists; every export is an audit event of the enterprise."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..accounts import ApiKey, Enterprise, MemberStatus, Permission, User
from ..contracts import Contract, ContractStatus, Party, WorkerCard
from ..errors import DomainError, Forbidden, NotFound, WrongState
from ..exports import (
    CONTRACT_COLUMNS,
    EMPLOYEE_COLUMNS,
    ZIP_JOB,
    ExportJob,
    ExportStatus,
    XlsxFile,
    ZipChunks,
    as_json,
    contract_elements,
    employee_row,
    export_file_name,
    ledger_labels,
    open_zip,
    pdf_name,
)
from ..ids import new_id
from ..paging import looks_like_id_number, search_text
from ..ports import Deps
from . import roster as roster_svc
from .accounts import Actor, record_enterprise_event
from .contracts import queries as contract_queries

log = logging.getLogger("laborsign.exports")

# Bounded memory, few round trips: the lists sort on each page, so fewer, larger pages are faster.
PAGE = 5000


async def audit_export(deps: Deps, actor: Actor, kind: str, ip: str, filters: dict[str, str]) -> None:
    permission = Permission.ONBOARDING if kind == "export_employees_xlsx" else Permission.CONTRACTS
    actor.require(permission)
    async with deps.uow() as uow:
        record_enterprise_event(deps, uow, actor, kind, ip=ip, filters=filters)
        await uow.commit()


async def employee_pages(
    deps: Deps, actor: Actor, status: str | None, department_id: str | None, q: str | None,
    days: Mapping[str, str] | None = None,
) -> AsyncIterator[list[dict[str, Any]]]:  # fmt: skip
    """The roster list's people, newest first, a keyset page at a time: one statement per
    page of just the export's columns (no count, no Employee objects)."""
    enterprise = actor.require(Permission.ONBOARDING)
    async with deps.uow() as uow:
        departments = await uow.roster.departments_of(enterprise.id)
    query = roster_svc.roster_query(deps, departments, status, department_id, q, days)
    names = {d.id: d.name for d in departments}
    after: tuple[datetime, str] | None = None
    while True:
        async with deps.uow() as uow:
            rows = await uow.roster.roster_rows(enterprise.id, **query, after=after, limit=PAGE)
        if not rows:
            return
        yield [employee_row(e, names) for e in rows]
        if len(rows) < PAGE:
            return
        after = (rows[-1].created_at, rows[-1].id)


Contracts = list[tuple[Contract, list[Party], WorkerCard | None]]


async def contract_pages(
    deps: Deps, actor: Actor, view: str | None, q: str | None, status: str | None,
    narrow: Mapping[str, str] | None = None,
) -> AsyncIterator[Contracts]:  # fmt: skip
    enterprise = actor.require(Permission.CONTRACTS)
    cursor: str | None = None
    while True:  # keyset pages, as above
        items, _, cursor = await contract_queries.list_for_enterprise(
            deps, actor, view, q, status, 1, PAGE, cursor, narrow
        )
        async with deps.uow() as uow:
            cards = await uow.workers.cards(deps, enterprise.id, sorted({c.employee_id for c, _ in items}))
        if items:
            yield [(c, parties, cards.get(c.employee_id)) for c, parties in items]
        if cursor is None or not items:
            return


async def element_pages(
    deps: Deps, actor: Actor, view: str | None, q: str | None, status: str | None,
    narrow: Mapping[str, str] | None = None,
) -> AsyncIterator[list[dict[str, Any]]]:  # fmt: skip
    """The information elements of the list's contracts, newest first, a keyset page at a
    time: one statement per page (no count, no ORM objects), each ID number decrypted once."""
    enterprise = actor.require(Permission.CONTRACTS)
    chosen, text = contract_queries.parse_view(view), search_text(q)
    async with deps.uow() as uow:
        filters = await contract_queries.contract_filters(uow, enterprise.id, narrow or {})
        employee_ids = (
            await uow.roster.employee_ids_by_id_number(
                enterprise.id, deps.cipher.blind_index(text.upper(), "id_number")
            )
            if text and looks_like_id_number(text)
            else []
        )
    types: dict[str, str] = {}
    after: tuple[datetime, str] | None = None
    while True:
        async with deps.uow() as uow:
            records = await uow.contracts.ledger(
                enterprise_id=enterprise.id, view=chosen, q=text, status=status or None,
                employee_ids=employee_ids, filters=filters, after=after, limit=PAGE,
            )  # fmt: skip
            unknown = sorted({t for r in records for t in r.template_ids} - set(types))
            if unknown:
                types.update({t.id: t.type for t in await uow.templates.by_ids(unknown)})
        if not records:
            return
        yield [
            contract_elements(
                r,
                _id_number(deps, r.id_number_enc),
                employer_credit_code=enterprise.credit_code,
                template_types=types,
            )
            for r in records
        ]
        if len(records) < PAGE:
            return
        after = (records[-1].created_at, records[-1].id)


def _id_number(deps: Deps, encrypted: str | None) -> str | None:
    return deps.cipher.decrypt(encrypted, "employees.id_number") if encrypted else None


async def write_xlsx(
    path: Path, title: str, columns: list[tuple[str, str]], pages: AsyncIterator[list[dict[str, Any]]]
) -> int:
    """Writes the pages into a workbook at `path` off the event loop; returns the row count.
    A page is written while the next one is read, so at most two are held."""
    book = await asyncio.to_thread(XlsxFile, path, title, columns)
    writing: asyncio.Future[None] | None = None
    try:
        async for rows in pages:
            if writing is not None:
                await writing
            writing = asyncio.ensure_future(asyncio.to_thread(book.append, rows))
    finally:
        if writing is not None:
            await asyncio.wait([writing])  # a failed read leaves no write running on
    if writing is not None:
        writing.result()
    await asyncio.to_thread(book.close)
    return book.rows


async def employees_xlsx(
    deps: Deps, actor: Actor, path: Path, status: str | None, department_id: str | None, q: str | None,
    days: Mapping[str, str] | None = None,
) -> int:  # fmt: skip
    return await write_xlsx(
        path, "花名册", EMPLOYEE_COLUMNS, employee_pages(deps, actor, status, department_id, q, days)
    )


async def contracts_xlsx(
    deps: Deps, actor: Actor, path: Path, view: str | None, q: str | None, status: str | None,
    narrow: Mapping[str, str] | None = None,
) -> int:  # fmt: skip
    async def labelled() -> AsyncIterator[list[dict[str, Any]]]:
        async for rows in element_pages(deps, actor, view, q, status, narrow):
            yield [ledger_labels(r) for r in rows]

    return await write_xlsx(path, "合同台账", CONTRACT_COLUMNS, labelled())


async def contracts_jsonl(
    deps: Deps, actor: Actor, view: str | None, q: str | None, status: str | None,
    narrow: Mapping[str, str] | None = None,
) -> AsyncIterator[bytes]:  # fmt: skip
    async for rows in element_pages(deps, actor, view, q, status, narrow):
        yield "".join(json.dumps(as_json(r), ensure_ascii=False) + "\n" for r in rows).encode()


async def zip_total(
    deps: Deps, actor: Actor, view: str | None, q: str | None, status: str | None,
    narrow: Mapping[str, str] | None,
) -> int:  # fmt: skip
    """How many signed PDFs the filtered set holds (the completed contracts among it)."""
    if status not in (None, "", ContractStatus.COMPLETED):
        return 0
    _, total, _ = await contract_queries.list_for_enterprise(
        deps, actor, view, q, ContractStatus.COMPLETED, 1, 1, None, narrow, count_bound=None
    )
    return total


async def signed_pdf_chunks(
    deps: Deps, actor: Actor, view: str | None, q: str | None, status: str | None,
    narrow: Mapping[str, str] | None, progress: Callable[[int], Awaitable[None]] | None = None,
) -> AsyncIterator[bytes]:  # fmt: skip
    """A zip of the completed contracts among the filtered set, as chunks: one PDF in memory
    at a time. `progress` is told how many PDFs are in after each one."""
    sink = ZipChunks()
    archive = open_zip(sink)
    used: set[str] = set()
    count = 0
    cursor: str | None = None
    if status in (None, "", ContractStatus.COMPLETED):
        while True:
            items, _, cursor = await contract_queries.list_for_enterprise(
                deps, actor, view, q, ContractStatus.COMPLETED, 1, ZIP_PAGE, cursor, narrow
            )
            for contract, _ in items:
                pdf = await deps.blobs.get(contract.document_blob)
                await asyncio.to_thread(archive.writestr, pdf_name(contract, used), pdf)
                del pdf
                count += 1
                yield sink.take()
                if progress is not None:
                    await progress(count)
            if cursor is None or not items:
                break
    archive.close()
    yield sink.take()


async def signed_pdfs_zip(
    deps: Deps,
    actor: Actor,
    view: str | None,
    q: str | None,
    status: str | None,
    narrow: Mapping[str, str] | None,
    send: Callable[[bytes], Awaitable[None]],
) -> int:
    """Streams a zip of the completed contracts among the filtered set to `send`; returns
    how many PDFs it holds."""
    count = 0

    async def counted(n: int) -> None:
        nonlocal count
        count = n

    async for chunk in signed_pdf_chunks(deps, actor, view, q, status, narrow, counted):
        if chunk:
            await send(chunk)
    return count


# --- the zip as a background job --------------------------------------------------------------

ZIP_PAGE = 200  # contracts read per statement while zipping: each PDF is read on its own anyway
ZIP_LEASE = timedelta(seconds=60)  # renewed while the job goes on
ZIP_KEEP = timedelta(days=1)  # how long a finished zip stays downloadable
LIST_KEYS = ("view", "q", "status")


class LostLease(Exception):
    """Another process took the job over (this one stalled past its lease): stop writing."""


async def start_zip_job(deps: Deps, actor: Actor, filters: Mapping[str, str], total: int) -> ExportJob:
    """Queues the zip of the filtered set and starts it in this process at once; any process's
    export pass would pick it up as well (the claim makes one of them do it)."""
    enterprise = actor.require(Permission.CONTRACTS)
    by = actor.user.id if actor.user is not None else (actor.api_key.id if actor.api_key else "")
    job = ExportJob(
        id=new_id(), enterprise_id=enterprise.id, created_by=by, kind=ZIP_JOB, filters=dict(filters),
        status=ExportStatus.QUEUED, total=total, created_at=deps.clock.now(),
    )  # fmt: skip
    async with deps.uow() as uow:
        await uow.exports.add(job)
        await uow.commit()
    deps.spawn(run_export(deps, job.id), name=f"export-{job.id}")
    return job


async def export_job(deps: Deps, actor: Actor, job_id: str) -> ExportJob:
    """The enterprise's job, for a member who may export contracts; anyone else's is a 404."""
    enterprise = actor.require(Permission.CONTRACTS)
    async with deps.uow() as uow:
        job = await uow.exports.get(job_id, enterprise.id)
    if job is None:
        raise NotFound("导出任务不存在", "export_not_found")
    return job


async def export_download(deps: Deps, actor: Actor, job_id: str) -> tuple[ExportJob, AsyncIterator[bytes]]:
    job = await export_job(deps, actor, job_id)
    if job.status != ExportStatus.DONE or job.file is None:
        message = {
            ExportStatus.EXPIRED: "压缩包已过期，请重新导出",
            ExportStatus.FAILED: "打包失败，请重新导出",
        }.get(ExportStatus(job.status), "压缩包尚未打包完成")
        raise WrongState(message, "export_not_ready")
    return job, deps.blobs.get_stream(job.file)


async def run_exports(deps: Deps, limit: int = 5) -> int:
    """The periodic pass: jobs queued, or left by a process that died (lease run out)."""
    async with deps.uow() as uow:
        ids = await uow.exports.claimable(deps.clock.now(), limit)
    done = 0
    for job_id in ids:
        done += await run_export(deps, job_id)
    return done + await forget_lapsed(deps)


async def run_export(deps: Deps, job_id: str) -> int:
    """Claims the job and writes its zip to the file store; 0 when another process has it."""
    owner = new_id()
    now = deps.clock.now()
    async with deps.uow() as uow:
        job = await uow.exports.claim(job_id, owner, now, now + ZIP_LEASE)
        await uow.commit()
    if job is None:
        return 0
    try:
        actor = await _job_actor(deps, job)
        size, count = await _write_zip(deps, actor, job, owner)
    except LostLease:
        return 0
    except asyncio.CancelledError:
        await asyncio.shield(_release(deps, job.id, owner))  # the next pass starts it again
        raise
    except DomainError as exc:
        await _finish(deps, job, owner, ExportStatus.FAILED, error=exc.message[:200])
        return 1
    except Exception:
        log.exception("export job failed", extra={"job": job.id})
        await _finish(deps, job, owner, ExportStatus.FAILED, error="打包失败，请稍后重新导出")
        return 1
    await _finish(deps, job, owner, ExportStatus.DONE, done=count, size=size, file=export_file_name(job.id))
    return 1


async def _write_zip(deps: Deps, actor: Actor, job: ExportJob, owner: str) -> tuple[int, int]:
    filters = job.filters
    narrow = {k: v for k, v in filters.items() if k not in LIST_KEYS}
    count = 0
    last = deps.clock.now()

    async def progress(n: int) -> None:
        nonlocal count, last
        count = n
        now = deps.clock.now()
        if n < job.total and now - last < PROGRESS_EVERY:
            return
        last = now
        async with deps.uow() as uow:
            held = await uow.exports.progress(job.id, owner, n, now + ZIP_LEASE)
            await uow.commit()
        if not held:
            raise LostLease(job.id)

    chunks = signed_pdf_chunks(
        deps, actor, filters.get("view"), filters.get("q"), filters.get("status"), narrow, progress
    )
    keeper = asyncio.ensure_future(_hold(deps, job.id, owner, lambda: count))
    try:
        size = await deps.blobs.put_stream(export_file_name(job.id), chunks)
    finally:
        keeper.cancel()
    return size, count


PROGRESS_EVERY = timedelta(seconds=1)


async def _hold(deps: Deps, job_id: str, owner: str, done: Callable[[], int]) -> None:
    """Renews the lease while a slow part (one large upload) keeps progress from doing it."""
    while True:
        await asyncio.sleep(ZIP_LEASE.total_seconds() / 3)
        try:
            async with deps.uow() as uow:
                await uow.exports.progress(job_id, owner, done(), deps.clock.now() + ZIP_LEASE)
                await uow.commit()
        except Exception:
            log.warning("could not renew an export lease", extra={"job": job_id})


async def _release(deps: Deps, job_id: str, owner: str) -> None:
    async with deps.uow() as uow:
        await uow.exports.progress(job_id, owner, 0, deps.clock.now())
        await uow.commit()


async def _finish(
    deps: Deps, job: ExportJob, owner: str, status: ExportStatus, *, done: int = 0, size: int | None = None,
    file: str | None = None, error: str | None = None,
) -> None:  # fmt: skip
    now = deps.clock.now()
    async with deps.uow() as uow:
        await uow.exports.finish(
            job.id, owner, status=status, done=done, size=size, file=file, error=error, now=now,
            expires_at=now + ZIP_KEEP if status == ExportStatus.DONE else None,
        )  # fmt: skip
        await uow.commit()


async def _job_actor(deps: Deps, job: ExportJob) -> Actor:
    """Who asked for the export, as they are now: a member who has since lost the contracts
    permission (or a revoked key) gets nothing zipped."""
    async with deps.uow() as uow:
        enterprise = await uow.get(Enterprise, job.enterprise_id)
        member = await uow.accounts.member(job.enterprise_id, job.created_by)
        user = await uow.get(User, job.created_by) if member is not None else None
        key = None if member is not None else await uow.get(ApiKey, job.created_by)
    refused = Forbidden("发起导出的成员已无导出合同的权限", "permission_denied")
    if enterprise is None:
        raise refused
    if member is not None and user is not None and member.status == MemberStatus.ACTIVE:
        actor = Actor(user=user, enterprise=enterprise, member=member)
    elif key is not None and key.enterprise_id == enterprise.id and key.revoked_at is None:
        actor = Actor(user=None, enterprise=enterprise, member=None, api_key=key)
    else:
        raise refused
    actor.require(Permission.CONTRACTS)
    return actor


async def forget_lapsed(deps: Deps, limit: int = 50) -> int:
    """Zips past their download window leave the file store."""
    async with deps.uow() as uow:
        jobs = await uow.exports.lapsed(deps.clock.now(), limit)
    for job in jobs:
        if job.file:
            await deps.blobs.remove(job.file)
        async with deps.uow() as uow:
            await uow.exports.forget_file(job.id)
            await uow.commit()
    return len(jobs)
