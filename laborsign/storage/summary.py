"""The home page's numbers: each one query — a counter row (storage/counters.py), an index
range, or one aggregate over the enterprise's rows.

Each count is a method of its own so that a faster source (flags kept on the rows) can replace
one without touching the others or their callers."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from . import counters
from .contracts import SIGNED_LABOR, contracts
from .labor import contract_terms
from .roster import employees, onboarding_records

ACTIVE = "active"


def _ending_between(enterprise_id: str, first: date, last: date) -> Any:
    """Completed fixed-term labor contracts of active employees ending in [first, last] that no
    completed contract renews — the same set the renewal_due alerts name: one range of
    ix_contracts_fixed_term_end, each checked for a renewal and its employee by key."""
    renewal = aliased(contract_terms)
    renewing = aliased(contracts)
    # Nested, so that SQLite too starts from the renewal_of index (as one join it began from
    # every completed contract, per contract in range: 53 s at 100k contracts).
    renewed = exists().where(
        renewal.c.renewal_of.is_not(None),  # the partial index's own condition
        renewal.c.renewal_of == contracts.c.id,
        exists().where(renewing.c.id == renewal.c.contract_id, renewing.c.status == "completed"),
    )
    # The tenant's own active employees (a range of ix_employees_coverage): whether the planner
    # probes them one by one or hashes them, it never reads every tenant's employees.
    active = exists().where(
        employees.c.enterprise_id == enterprise_id,
        employees.c.status == ACTIVE,
        employees.c.id == contracts.c.employee_id,
    )
    return and_(
        contracts.c.enterprise_id == enterprise_id,
        SIGNED_LABOR,
        contracts.c.fixed_term_end >= first,
        contracts.c.fixed_term_end <= last,
        ~renewed,
        active,
    )


class SummaryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def _count(self, stmt: Any) -> int:
        return int((await self.s.execute(stmt)).scalar_one())

    async def pending_onboarding(self, enterprise_id: str) -> int:
        return await self._count(
            select(func.count())
            .select_from(onboarding_records)
            .where(
                onboarding_records.c.enterprise_id == enterprise_id,
                onboarding_records.c.status == "pending_review",
            )
        )

    async def _counter(self, enterprise_id: str, name: str) -> int:
        return (await counters.read(self.s, enterprise_id, [name]))[name]

    async def awaiting_enterprise(self, enterprise_id: str) -> int:
        return await self._counter(enterprise_id, counters.AWAITING_ME)

    async def awaiting_worker(self, enterprise_id: str) -> int:
        return await self._counter(enterprise_id, counters.AWAITING_OTHERS)

    async def expiries_by_day(self, enterprise_id: str, first: date, last: date) -> dict[date, int]:
        if self.s.get_bind().dialect.name == "postgresql":
            # A few thousand index entries: parallel workers cost more to start than they save
            # (at 1M contracts, 3,248 in the range: 5-6 ms alone, 11-20 ms with two workers).
            await self.s.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        day = contracts.c.fixed_term_end
        stmt = (
            select(day, func.count())
            .select_from(contracts)
            .where(_ending_between(enterprise_id, first, last))
            .group_by(day)
        )
        return {d: int(n) for d, n in (await self.s.execute(stmt)).all()}

    async def no_written_contract(self, enterprise_id: str, hired_by: date) -> int:
        """Active employees hired on or before `hired_by` with no signed labor contract (never
        covered: covered_until NULL; one range of ix_employees_coverage)."""
        return await self._count(
            select(func.count())
            .select_from(employees)
            .where(
                employees.c.enterprise_id == enterprise_id,
                employees.c.status == ACTIVE,
                employees.c.covered_until.is_(None),
                employees.c.hire_date <= hired_by,
            )
        )

    async def active_and_covered(self, enterprise_id: str, today: date) -> tuple[int, int]:
        """Active employees (their counter), and how many of them hold a signed labor contract
        still in term (covered until today or later: one range of ix_employees_coverage)."""
        active = (
            select(counters.tenant_counts.c.n)
            .where(
                counters.tenant_counts.c.enterprise_id == enterprise_id,
                counters.tenant_counts.c.name == counters.employee_status(ACTIVE),
            )
            .scalar_subquery()
        )
        covered = (
            select(func.count())
            .select_from(employees)
            .where(
                employees.c.enterprise_id == enterprise_id,
                employees.c.status == ACTIVE,
                employees.c.covered_until >= today,
            )
            .scalar_subquery()
        )
        n_active, held = (await self.s.execute(select(active, covered))).one()
        return int(n_active or 0), int(held)

    async def by_status(self, enterprise_id: str) -> dict[str, int]:
        return await counters.read_prefixed(self.s, enterprise_id, counters.CONTRACT_STATUS)


__all__ = ["SummaryRepository"]
