"""Per-tenant counters of contracts and employees, kept by the storage session itself.

A list's total, `/contracts/counts` and the home page's numbers read one row each instead of
counting 100,000 index entries. The counters move in the same transaction as the rows they
count: each flush records what changed (a contract or employee inserted, deleted, or its
status or awaiting flags changed), and just before the commit the deltas are written as
`n = n + :delta` upserts, in one fixed order, so concurrent transactions queue on the row
instead of losing each other's increments (and cannot deadlock on each other's counters).

The same hook keeps `employees.covered_until` — the last day any signed labor contract of the
employee covers — recomputed for the employees whose contracts reached or left `completed`
(or whose terms changed), so "active employees holding a valid contract" is an index range.

Rows written around the ORM (the demo's bulk COPY, a migration) call `recount` afterwards."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    String,
    Table,
    and_,
    delete,
    event,
    false,
    func,
    inspect,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql import Executable

from ..core.contracts import Contract
from ..core.labor_law import ContractTerm
from ..core.roster import Employee
from .contracts import contracts
from .labor import contract_terms
from .roster import employees
from .schema import Id, metadata, upsert

tenant_counts = Table(
    "tenant_counts",
    metadata,
    Column("enterprise_id", Id(), ForeignKey("enterprises.id"), primary_key=True),
    Column("name", String(60), primary_key=True),
    Column("n", BigInteger, nullable=False),
)

# The counters' names. A contract is counted in CONTRACTS, in its status and, while awaited,
# in one of the enterprise's two awaiting views (the list views' own definitions).
CONTRACTS = "contracts"
AWAITING_ME = "contracts.awaiting_me"  # awaiting the enterprise
AWAITING_OTHERS = "contracts.awaiting_others"  # awaiting the worker only
EMPLOYEES = "employees"
CONTRACT_STATUS = "contracts.status:"
EMPLOYEE_STATUS = "employees.status:"
# An open-ended (or termless) signed contract covers its employee up to this day.
OPEN_END = date(9999, 12, 31)

_DELTAS = "tenant_count_deltas"
_COVERAGE = "tenant_coverage"


def contract_status(status: str) -> str:
    return CONTRACT_STATUS + status


def employee_status(status: str) -> str:
    return EMPLOYEE_STATUS + status


def contract_keys(status: str, awaiting_worker: bool, awaiting_enterprise: bool) -> list[str]:
    keys = [CONTRACTS, contract_status(status)]
    if awaiting_enterprise:
        keys.append(AWAITING_ME)
    elif awaiting_worker:
        keys.append(AWAITING_OTHERS)
    return keys


def employee_keys(status: str) -> list[str]:
    return [EMPLOYEES, employee_status(status)]


# -- what a flush changed ---------------------------------------------------------------


def _values(obj: object, names: Sequence[str]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The object's values of `names` as its row held them before this flush, and after (the
    counted attributes load their old value when set: active_history in the mappings)."""
    attrs = inspect(obj).attrs
    before: list[Any] = []
    after: list[Any] = []
    for name in names:
        history = attrs[name].history
        old = history.deleted or history.unchanged or history.added
        new = history.added or history.unchanged or history.deleted
        before.append(old[0] if old else None)
        after.append(new[0] if new else None)
    return tuple(before), tuple(after)


_CONTRACT_FIELDS = (
    "enterprise_id",
    "status",
    "awaiting_worker",
    "awaiting_enterprise",
    "employee_id",
    "source",
)
_EMPLOYEE_FIELDS = ("enterprise_id", "status")


def _rows(obj: object, names: Sequence[str], new: bool, gone: bool) -> tuple[tuple[Any, ...] | None, ...]:
    """(before, after) of the row; None where there was no row before or is none after."""
    was, now = _values(obj, names)
    return (None if new else was), (None if gone else now)


def _contract_change(obj: Contract, new: bool, gone: bool, deltas: Counter[tuple[str, str]],
                     coverage: set[str]) -> None:  # fmt: skip
    was, now = _rows(obj, _CONTRACT_FIELDS, new, gone)
    for row, sign in ((was, -1), (now, +1)):
        if row is not None:
            for key in contract_keys(row[1], bool(row[2]), bool(row[3])):
                deltas[(row[0], key)] += sign
    # Who holds a signed contract changes when one reaches or leaves completed (or moves).
    signed = [row for row in (was, now) if row is not None and row[1] == "completed"]
    if signed and (was is None or now is None or (was[1], was[4], was[5]) != (now[1], now[4], now[5])):
        coverage.update(row[4] for row in signed)


def _employee_change(obj: Employee, new: bool, gone: bool, deltas: Counter[tuple[str, str]]) -> None:
    was, now = _rows(obj, _EMPLOYEE_FIELDS, new, gone)
    for row, sign in ((was, -1), (now, +1)):
        if row is not None:
            for key in employee_keys(row[1]):
                deltas[(row[0], key)] += sign


def _after_flush(session: OrmSession, _context: Any) -> None:
    # Still the flush's own view here: new / dirty / deleted and the attribute histories are
    # those of the rows just written.
    deltas: Counter[tuple[str, str]] = session.info.setdefault(_DELTAS, Counter())
    coverage: dict[str, set[str]] = session.info.setdefault(
        _COVERAGE, {"employees": set(), "contracts": set()}
    )
    for objects, new, gone in ((session.new, True, False), (session.dirty, False, False),
                               (session.deleted, False, True)):  # fmt: skip
        for obj in objects:
            if isinstance(obj, Contract):
                _contract_change(obj, new, gone, deltas, coverage["employees"])
            elif isinstance(obj, Employee):
                _employee_change(obj, new, gone, deltas)
            elif isinstance(obj, ContractTerm) and (new or gone or session.is_modified(obj)):
                coverage["contracts"].add(obj.contract_id)


def _before_commit(session: OrmSession) -> None:
    if session.in_nested_transaction():  # a savepoint released: the outer commit writes them
        return
    session.flush()  # what is still pending records its deltas first
    coverage = session.info.pop(_COVERAGE, None)
    if coverage and (coverage["employees"] or coverage["contracts"]):
        ids = set(coverage["employees"])
        if coverage["contracts"]:
            of_terms = select(contracts.c.employee_id).where(
                contracts.c.id.in_(sorted(coverage["contracts"]))
            )
            ids.update(session.execute(of_terms).scalars())
        for stmt in _cover(employees.c.id.in_(sorted(ids)), contracts.c.employee_id.in_(sorted(ids))):
            session.execute(stmt)
    deltas = session.info.pop(_DELTAS, None)
    if deltas:
        for stmt in _delta_statements(session.get_bind().dialect.name, deltas):
            session.execute(stmt)


def _after_transaction_end(session: OrmSession, transaction: Any) -> None:
    if transaction.parent is None:  # committed (written above) or rolled back: start afresh
        session.info.pop(_DELTAS, None)
        session.info.pop(_COVERAGE, None)


def _delta_statements(dialect: str, deltas: Counter[tuple[str, str]]) -> list[Executable]:
    """One upsert per counter that moved, in key order (every transaction locks the counter rows
    it moves in the same order, after every other row it writes)."""
    out: list[Executable] = []
    for (enterprise_id, name), delta in sorted(deltas.items()):
        if delta == 0 or enterprise_id is None:
            continue
        stmt = upsert(dialect, tenant_counts).values(enterprise_id=enterprise_id, name=name, n=delta)
        out.append(
            stmt.on_conflict_do_update(
                index_elements=["enterprise_id", "name"], set_={"n": tenant_counts.c.n + stmt.excluded.n}
            )
        )
    return out


def watch(session_class: type[OrmSession]) -> None:
    event.listen(session_class, "after_flush", _after_flush)
    event.listen(session_class, "before_commit", _before_commit)
    event.listen(session_class, "after_transaction_end", _after_transaction_end)


# -- covered_until ----------------------------------------------------------------------


def _cover(employee_scope: Any, contract_scope: Any) -> list[Executable]:
    """covered_until of the employees in scope: the last day their completed labor contracts
    (not termination certificates) run to (OPEN_END without an end date), NULL without one.
    Set-based — one aggregate over those contracts joined back by key — so that a planner
    without statistics (right after a bulk load) cannot pick a scan of the tenant's contracts
    per employee."""
    until = func.max(func.coalesce(contract_terms.c.end_date, literal(OPEN_END, Date())))
    held = (
        select(contracts.c.employee_id, contracts.c.enterprise_id, until.label("until"))
        .select_from(contracts.outerjoin(contract_terms, contract_terms.c.contract_id == contracts.c.id))
        .where(contract_scope, contracts.c.status == "completed", contracts.c.source != "certificate")
        .group_by(contracts.c.employee_id, contracts.c.enterprise_id)
        .subquery()
    )
    return [
        update(employees)
        .where(employee_scope, employees.c.covered_until.is_not(None))
        .values(covered_until=None)
        .execution_options(synchronize_session=False),
        update(employees)
        .where(employees.c.id == held.c.employee_id, employees.c.enterprise_id == held.c.enterprise_id)
        .values(covered_until=held.c.until)
        .execution_options(synchronize_session=False),
    ]


# -- rebuilding from scratch --------------------------------------------------------------


def recount_statements(enterprise_ids: Sequence[str] | None = None) -> list[Executable]:
    """The statements that rebuild the counters and covered_until of these enterprises (all of
    them when None) from the rows themselves. Run them in one transaction, with no other
    writer of those tenants' contracts or employees at the same time (a bulk load, a
    migration)."""

    def mine(table: Table) -> Any:
        return true() if enterprise_ids is None else table.c.enterprise_id.in_(list(enterprise_ids))

    def counted(table: Table, name: Any, *where: Any) -> Executable:
        rows = (
            select(table.c.enterprise_id, name.label("name"), func.count().label("n"))
            .where(mine(table), *where)
            .group_by(table.c.enterprise_id, name)
        )
        return tenant_counts.insert().from_select(["enterprise_id", "name", "n"], rows)

    c = contracts.c
    return [
        delete(tenant_counts).where(mine(tenant_counts)),
        counted(contracts, literal(CONTRACTS)),
        counted(contracts, literal(CONTRACT_STATUS) + c.status),
        counted(contracts, literal(AWAITING_ME), c.awaiting_enterprise == true()),
        counted(
            contracts,
            literal(AWAITING_OTHERS),
            and_(c.awaiting_worker == true(), c.awaiting_enterprise == false()),
        ),
        counted(employees, literal(EMPLOYEES)),
        counted(employees, literal(EMPLOYEE_STATUS) + employees.c.status),
        *_cover(mine(employees), mine(contracts)),
    ]


def recount(conn: Connection | OrmSession, enterprise_ids: Sequence[str] | None = None) -> None:
    """Rebuilds the counters (sync connection or session; async callers use run_sync)."""
    for stmt in recount_statements(enterprise_ids):
        conn.execute(stmt)


# -- reading --------------------------------------------------------------------------------


def read_statement(enterprise_id: str, names: Sequence[str]) -> Any:
    return select(tenant_counts.c.name, tenant_counts.c.n).where(
        tenant_counts.c.enterprise_id == enterprise_id, tenant_counts.c.name.in_(list(names))
    )


def prefixed_statement(enterprise_id: str, prefix: str) -> Any:
    return select(tenant_counts.c.name, tenant_counts.c.n).where(
        tenant_counts.c.enterprise_id == enterprise_id,
        tenant_counts.c.name > prefix,
        tenant_counts.c.name < prefix + "\U0010ffff",
    )


async def read(session: AsyncSession, enterprise_id: str, names: Sequence[str]) -> dict[str, int]:
    """The named counters of one enterprise (0 for a counter never moved)."""
    rows = (await session.execute(read_statement(enterprise_id, names))).all()
    found = {name: int(n) for name, n in rows}
    return {name: found.get(name, 0) for name in names}


async def read_prefixed(session: AsyncSession, enterprise_id: str, prefix: str) -> dict[str, int]:
    """Every counter of one enterprise whose name starts with `prefix`, keyed by the rest."""
    rows = (await session.execute(prefixed_statement(enterprise_id, prefix))).all()
    return {name[len(prefix) :]: int(n) for name, n in rows}
