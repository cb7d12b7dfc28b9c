"""Reading contracts: the lists of either side, one contract as its enterprise or its worker
sees it, its audit trail, its document and page images."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...accounts import Permission, User
from ...contracts import Contract, ContractEvent, ContractFilters, ContractStatus, Party, parse_day_range
from ...errors import Invalid, NotFound
from ...paging import COUNT_BOUND, Cursor, Total, looks_like_id_number, next_cursor, search_text
from ...ports import Deps, UnitOfWork
from ..accounts import Actor

NOT_FOUND = "合同不存在"


VIEWS = ("all", "awaiting_me", "awaiting_others", "completed")


def parse_view(raw: str | None) -> str:
    view = raw or "all"
    if view not in VIEWS:
        raise Invalid.field("view", "视图应为 all、awaiting_me、awaiting_others 或 completed")
    return view


async def list_for_enterprise(
    deps: Deps, actor: Actor, view: str | None, q: str | None, status: str | None, page: int, per_page: int,
    cursor: str | None = None, narrow: Mapping[str, str] | None = None, count_bound: int | None = COUNT_BOUND,
) -> tuple[list[tuple[Contract, list[Party]]], Total, str | None]:  # fmt: skip
    """A page of the tenant's contracts, their total and the cursor of the next page. `q` is
    the start of the worker's name, the contract's name or the phone, or a whole ID number;
    `narrow` the list's other filters as the query gives them (see contract_filters). A
    search's or filter's total is counted up to `count_bound` (Total.exact)."""
    enterprise = actor.require(Permission.CONTRACTS)
    after = Cursor.decode(cursor)
    text = search_text(q)
    async with deps.uow() as uow:
        filters = await contract_filters(uow, enterprise.id, narrow or {})
        employee_ids = (
            await uow.roster.employee_ids_by_id_number(
                enterprise.id, deps.cipher.blind_index(text.upper(), "id_number")
            )
            if text and looks_like_id_number(text)
            else []
        )
        items, total, more = await uow.contracts.page(
            enterprise_id=enterprise.id, view=parse_view(view), q=text, status=status or None,
            offset=0 if after else (page - 1) * per_page, limit=per_page, cursor=after,
            employee_ids=employee_ids, filters=filters, count_bound=count_bound,
        )  # fmt: skip
        parties = await uow.contracts.parties_of([c.id for c in items])
    return [(c, parties[c.id]) for c in items], total, next_cursor(items, more)


async def contract_filters(uow: UnitOfWork, enterprise_id: str, query: Mapping[str, str]) -> ContractFilters:
    """department_id (with its sub-departments), template_id, launched_/completed_/term_end_
    from and to (YYYY-MM-DD): unknown departments and templates are a 422."""
    from ..roster import _subtree

    department_ids: tuple[str, ...] | None = None
    department_id = (query.get("department_id") or "").strip()
    if department_id:
        departments = await uow.roster.departments_of(enterprise_id)
        if department_id not in {d.id for d in departments}:
            raise Invalid.field("department_id", "部门不存在")
        department_ids = tuple(_subtree(departments, department_id))
    template_id = (query.get("template_id") or "").strip() or None
    if template_id is not None and not (
        len(template_id) <= 64 and template_id.isascii() and template_id.isalnum()
    ):
        raise Invalid.field("template_id", "模板不存在")
    return ContractFilters(
        department_ids=department_ids, template_id=template_id,
        launched=parse_day_range(query, "launched"), completed=parse_day_range(query, "completed"),
        term_end=parse_day_range(query, "term_end"),
    )  # fmt: skip


async def counts_for_enterprise(deps: Deps, actor: Actor) -> dict[str, int]:
    enterprise = actor.require(Permission.CONTRACTS)
    async with deps.uow() as uow:
        return await uow.contracts.counts(enterprise_id=enterprise.id)


async def list_for_worker(
    deps: Deps, actor: Actor, view: str | None, page: int, per_page: int, cursor: str | None = None
) -> tuple[list[tuple[Contract, list[Party]]], Total, str | None]:
    user = actor.require_user()
    after = Cursor.decode(cursor)
    async with deps.uow() as uow:
        items, total, more = await uow.contracts.page(
            worker_phone=user.phone, view=parse_view(view), q=None, status=None,
            offset=0 if after else (page - 1) * per_page, limit=per_page, cursor=after,
        )  # fmt: skip
        parties = await uow.contracts.parties_of([c.id for c in items])
    return [(c, parties[c.id]) for c in items], total, next_cursor(items, more)


async def counts_for_worker(deps: Deps, actor: Actor) -> dict[str, int]:
    user = actor.require_user()
    async with deps.uow() as uow:
        return await uow.contracts.counts(worker_phone=user.phone)


async def enterprise_contract(uow: UnitOfWork, actor: Actor, contract_id: str) -> Contract:
    enterprise = actor.require(Permission.CONTRACTS)
    contract = await uow.get(Contract, contract_id)
    if contract is None or contract.enterprise_id != enterprise.id:
        raise NotFound(NOT_FOUND, "contract_not_found")
    return contract


async def worker_contract(uow: UnitOfWork, actor: Actor, contract_id: str) -> Contract:
    user = actor.require_user()
    contract = await uow.get(Contract, contract_id)
    if contract is None or contract.worker_phone != user.phone or contract.status == ContractStatus.DRAFT:
        raise NotFound(NOT_FOUND, "contract_not_found")
    return contract


async def get_contract(deps: Deps, actor: Actor, contract_id: str) -> tuple[Contract, list[Party], str]:
    """Either side may read a contract it is party to; returns the viewer's role too."""
    async with deps.uow() as uow:
        contract = await uow.get(Contract, contract_id)
        if contract is None:
            raise NotFound(NOT_FOUND, "contract_not_found")
        if actor.enterprise is not None and contract.enterprise_id == actor.enterprise.id:
            actor.require(Permission.CONTRACTS)
            role = "enterprise"
        elif (
            actor.user is not None
            and contract.worker_phone == actor.user.phone
            and contract.status != "draft"
        ):
            role = "worker"
        else:
            raise NotFound(NOT_FOUND, "contract_not_found")
        parties = (await uow.contracts.parties_of([contract.id]))[contract.id]
    return contract, parties, role


async def signer_refusal(deps: Deps, contract: Contract, parties: list[Party]) -> dict[str, Any] | None:
    """While the worker has not signed: the latest refusal of a signer whose verified identity is
    not the contract's employee, for HR to see why (the audit trail keeps every one)."""
    worker = next((p for p in parties if p.role == "worker"), None)
    if worker is None or worker.status != "pending":
        return None
    async with deps.uow() as uow:
        events = await uow.contracts.events_of(contract.id)
    refusals = [e for e in events if e.kind == "identity_mismatch"]
    if not refusals:
        return None
    last = refusals[-1]
    return {"at": last.at, **{k: last.details.get(k) for k in (
        "reason", "verified_name", "verified_id_masked", "roster_name", "roster_id_masked",
    )}}  # fmt: skip


async def contract_events(deps: Deps, actor: Actor, contract_id: str) -> tuple[Contract, list[ContractEvent]]:
    contract, _, _ = await get_contract(deps, actor, contract_id)
    async with deps.uow() as uow:
        return contract, await uow.contracts.events_of(contract.id)


async def document(deps: Deps, actor: Actor, contract_id: str) -> tuple[Contract, bytes]:
    contract, _, _ = await get_contract(deps, actor, contract_id)
    return contract, await deps.blobs.get(contract.document_blob)


async def page_image(
    deps: Deps, actor: Actor, contract_id: str, page: int, scale: float
) -> tuple[Contract, bytes]:
    contract, data = await document(deps, actor, contract_id)
    total = sum(int(f["pages"]) for f in contract.files)
    if not 1 <= page <= total:
        raise NotFound("页面不存在", "page_not_found")
    return contract, await deps.pdf.render(data, page, scale)


async def load_user(deps: Deps, user_id: str) -> User:
    async with deps.uow() as uow:
        return await uow.get_or_404(User, user_id)
