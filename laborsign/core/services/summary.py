"""The home page as a work centre: the numbers HR acts on, each shown only to the members whose
permission covers the list it links to (onboarding and the roster, or contracts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ..accounts import Permission
from ..clock import china_time
from ..contracts import ContractStatus
from ..labor_law import add_days
from ..ports import Deps
from .accounts import Actor
from .labor import RENEWAL_WITHIN_DAYS, UNSIGNED_FROM_DAYS

CHART_DAYS = 90
WEEKS = (CHART_DAYS + 6) // 7
# 即将到期 is the start of the chart's range: both come from one query.
assert RENEWAL_WITHIN_DAYS <= CHART_DAYS


@dataclass
class Summary:
    """The numbers; None where the member's permissions do not cover the list behind one."""

    as_of: date
    pending_onboarding: int | None = None
    active_employees: int | None = None
    covered_employees: int | None = None
    covered_share: float | None = None
    awaiting_enterprise: int | None = None
    awaiting_worker: int | None = None
    expiring: int | None = None
    no_written_contract: int | None = None
    by_status: dict[str, int] | None = None  # every ContractStatus code
    expiries_by_week: list[tuple[date, int]] | None = None  # (week start, count)


def _weeks(today: date, by_day: dict[date, int]) -> list[tuple[date, int]]:
    """Expiries in the next 90 days, in weeks starting today (at most 91 rows come in)."""
    counts = [0] * WEEKS
    for day, n in by_day.items():
        counts[(day - today).days // 7] += n
    return [(today + timedelta(days=7 * i), n) for i, n in enumerate(counts)]


async def summary(deps: Deps, actor: Actor) -> Summary:
    enterprise, member = actor.require_enterprise()
    roster = member is None or member.can(Permission.ONBOARDING)
    contracts = member is None or member.can(Permission.CONTRACTS)
    today = china_time(deps.clock.now()).date()
    out = Summary(as_of=today)
    async with deps.uow() as uow:
        repo = uow.summary
        if roster:
            active, covered = await repo.active_and_covered(enterprise.id, today)
            out.pending_onboarding = await repo.pending_onboarding(enterprise.id)
            out.active_employees, out.covered_employees = active, covered
            out.covered_share = round(covered / active, 4) if active else None
        if contracts:
            out.awaiting_enterprise = await repo.awaiting_enterprise(enterprise.id)
            out.awaiting_worker = await repo.awaiting_worker(enterprise.id)
            out.no_written_contract = await repo.no_written_contract(
                enterprise.id, add_days(today, -UNSIGNED_FROM_DAYS)
            )
            statuses = await repo.by_status(enterprise.id)
            out.by_status = {s.value: statuses.get(s.value, 0) for s in ContractStatus}
            last = add_days(today, CHART_DAYS)
            by_day = await repo.expiries_by_day(enterprise.id, today, last)
            soon = add_days(today, RENEWAL_WITHIN_DAYS)
            out.expiring = sum(n for day, n in by_day.items() if day <= soon)
            out.expiries_by_week = _weeks(today, by_day)
    return out
