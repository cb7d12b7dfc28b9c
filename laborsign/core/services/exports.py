"""Export use cases (issue 14): the roster and the contract ledger as xlsx, the MOHRSS contract
information elements as JSON Lines, the signed PDFs of a filtered set as a zip.

Records are read a page at a time through the same list use cases (and so the same filters and
permissions) as the lists; every export is an audit event of the enterprise."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ..accounts import Permission
from ..contracts import Contract, ContractStatus, Party, WorkerCard
from ..exports import (
    CONTRACT_COLUMNS,
    EMPLOYEE_COLUMNS,
    XlsxFile,
    ZipChunks,
    as_json,
    contract_elements,
    employee_row,
    ledger_labels,
    open_zip,
    pdf_name,
)
from ..paging import looks_like_id_number, search_text
from ..ports import Deps
from . import roster as roster_svc
from .accounts import Actor, record_enterprise_event
from .contracts import queries as contract_queries

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


async def signed_pdfs_zip(
    deps: Deps,
    actor: Actor,
    view: str | None,
    q: str | None,
    status: str | None,
    narrow: Mapping[str, str] | None,
    send: Callable[[bytes], Awaitable[None]],
) -> int:
    """Streams a zip of the completed contracts among the filtered set to `send`, one PDF in
    memory at a time; returns how many PDFs it holds."""
    sink = ZipChunks()
    archive = open_zip(sink)
    used: set[str] = set()
    count = 0
    async for batch in contract_pages(deps, actor, view, q, status, narrow):
        for contract, _, _ in batch:
            if contract.status != ContractStatus.COMPLETED:
                continue
            pdf = await deps.blobs.get(contract.document_blob)
            await asyncio.to_thread(archive.writestr, pdf_name(contract, used), pdf)
            count += 1
            await send(sink.take())
    archive.close()
    await send(sink.take())
    return count
