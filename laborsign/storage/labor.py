"""Labor-law persistence: each contract's terms, and which deadline alerts HR was told of."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Date, ForeignKey, Index, String, Table, and_, insert, select, true
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from sqlalchemy.types import TypeDecorator

from ..core.contracts import Contract
from ..core.labor_law import ContractTerm
from ..core.roster import Employee
from .contracts import contracts
from .roster import employees
from .schema import Id, UTCDateTime, mapper_registry, metadata


class Money(TypeDecorator[Decimal]):
    """Yuan as exact text: SQLite has no decimal type and would round through a float."""

    impl = String(24)
    cache_ok = True

    def process_bind_param(self, value: Decimal | str | None, dialect: Dialect) -> str | None:
        return None if value is None else format(Decimal(value), "f")  # text too (the demo's bulk rows)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


contract_terms = Table(
    "contract_terms",
    metadata,
    Column("contract_id", Id(), ForeignKey("contracts.id"), primary_key=True),
    Column("type", String(20)),
    Column("start_date", Date),
    Column("end_date", Date, index=True),
    Column("probation_end_date", Date),
    Column("monthly_wage", Money()),
    Column("probation_wage", Money()),
    Column("position", String(100)),
    Column("work_place", String(200)),
    Column("renewal_of", Id()),
)
# Only the terms that renew another: most have none, and a full index of NULLs tells SQLite's
# planner (sqlite_stat1) that a lookup by renewal_of matches every row, so it scanned instead.
RENEWS = contract_terms.c.renewal_of.is_not(None)
Index("ix_contract_terms_renewal_of", contract_terms.c.renewal_of, postgresql_where=RENEWS, sqlite_where=RENEWS)

# One row per alert HR was told of: the key names the alert (kind, employee, contract, due
# date), so a second process or a second day finds it and tells nobody again.
labor_alert_notices = Table(
    "labor_alert_notices",
    metadata,
    Column("enterprise_id", Id(), ForeignKey("enterprises.id"), primary_key=True),
    Column("alert_key", String(200), primary_key=True),
    Column("notified_at", UTCDateTime(), nullable=False),
    Index("ix_labor_alert_notices_notified_at", "notified_at"),
)

LIVE = ("signing", "completed")
_NOT_FOR_FACTS = ("controls", "files", "enterprise_party", "template_ids")


def map_labor() -> None:
    mapper_registry.map_imperatively(ContractTerm, contract_terms)


class LaborRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def terms_of(self, contract_ids: list[str]) -> dict[str, ContractTerm]:
        if not contract_ids:
            return {}
        stmt = select(ContractTerm).where(contract_terms.c.contract_id.in_(contract_ids))
        return {t.contract_id: t for t in (await self.s.execute(stmt)).scalars()}

    async def had_probation(self, enterprise_id: str, worker_phones: list[str]) -> set[str]:
        """Which of these workers a live contract of this employer agreed a probation with."""
        if not worker_phones:
            return set()
        stmt = (
            select(contracts.c.worker_phone)
            .join(contract_terms, contracts.c.id == contract_terms.c.contract_id)
            .where(
                contracts.c.enterprise_id == enterprise_id,
                contracts.c.worker_phone.in_(worker_phones),
                contracts.c.status.in_(LIVE),
                contract_terms.c.probation_end_date.is_not(None),
            )
            .distinct()
        )
        return {row[0] for row in (await self.s.execute(stmt)).all()}

    async def labor_contracts(
        self, enterprise_id: str, statuses: tuple[str, ...] = LIVE, employee_id: str | None = None
    ) -> list[tuple[Contract, ContractTerm | None]]:
        """The enterprise's (or one employee's) labor contracts, not certificates, with their
        terms, oldest first. Read for their facts: the placed controls, files and parties'
        set-up are not loaded (reading one raises) — at 42,000 completed contracts decoding
        them was 15 of the alerts' 20 s."""
        stmt = (
            select(Contract, ContractTerm)
            .outerjoin(contract_terms, contract_terms.c.contract_id == contracts.c.id)
            .where(
                contracts.c.enterprise_id == enterprise_id,
                contracts.c.status.in_(statuses),
                contracts.c.source != "certificate",
                contracts.c.employee_id == employee_id if employee_id else true(),
            )
            .order_by(contracts.c.created_at, contracts.c.id)
            .options(*(defer(getattr(Contract, name), raiseload=True) for name in _NOT_FOR_FACTS))
        )
        return [(c, t) for c, t in (await self.s.execute(stmt)).all()]

    async def current_employees(self, enterprise_id: str) -> list[Employee]:
        stmt = select(Employee).where(
            and_(employees.c.enterprise_id == enterprise_id, employees.c.status.in_(("active", "resigning")))
        )
        return list((await self.s.execute(stmt)).scalars())

    async def enterprises_with_employees(self) -> list[str]:
        stmt = select(employees.c.enterprise_id).where(employees.c.status == "active").distinct()
        return [row[0] for row in (await self.s.execute(stmt)).all()]

    async def remember_alert(self, enterprise_id: str, key: str, now: datetime) -> bool:
        """True for the one caller that records the alert first."""
        try:
            async with self.s.begin_nested():
                await self.s.execute(
                    insert(labor_alert_notices).values(
                        enterprise_id=enterprise_id, alert_key=key[:200], notified_at=now
                    )
                )
        except IntegrityError:
            return False
        return True
