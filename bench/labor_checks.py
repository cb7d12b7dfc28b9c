"""What the labor-law assistant adds (issue 13), on SQLite and PostgreSQL: the checks before a
launch of N workers (one probation look-up each) beside the launch itself in the same run, and
the alerts of an enterprise with N employees beside reading the same roster page.

Run: .venv/bin/python bench/labor_checks.py [--workers 200] [--rounds 5] [--backends sqlite,postgresql]"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import update

from bench.contracts_launch_sign import start_deps, stop_deps, world
from laborsign.core.controls import Control
from laborsign.core.services import labor
from laborsign.core.services.contracts.audit import Context
from laborsign.core.services.contracts.launch import initiate, load_templates
from laborsign.storage.contracts import contracts
from laborsign.storage.counters import recount
from laborsign.storage.roster import employees
from laborsign.storage.templates import templates
from tests.test_labor_assistant import TERM_CONTROLS

FIELDS = {
    "salary": "6000", "position": "技工", "contract_start_date": "2027-01-01", "contract_end_date": "2029-12-31",
    "probation_end_date": "2027-02-28", "monthly_wage": "6000", "probation_wage": "4800", "work_place": "广州市天河区",
}  # fmt: skip


async def run(backend: str, workers: int, rounds: int) -> dict[str, float]:
    deps, db_name = await start_deps(backend)
    actor, template_id, ids = await world(deps, workers)
    from tests.test_templates import CONTROLS

    async with deps.uow() as uow:
        await uow.session.execute(
            update(templates)
            .where(templates.c.id == template_id)
            .values(controls=[Control.from_dict(c) for c in CONTROLS + TERM_CONTROLS], type="fixed_term")
        )
        await uow.session.execute(update(employees).values(hire_date=date(2026, 11, 1), status="active"))
        await uow.session.run_sync(lambda session: recount(session, None))
        await uow.commit()
    enterprise = actor.enterprise
    assert enterprise is not None
    tpl = await load_templates(deps, enterprise, [template_id])
    launch_start = time.perf_counter()
    result = await initiate(
        deps, actor, name=None, template_ids=[template_id], employee_ids=ids,
        enterprise_party={"seal_type": "contract", "operator_phone": "13800138000"}, fields=FIELDS, ctx=Context(),
    )  # fmt: skip
    launch_s = time.perf_counter() - launch_start
    assert len(result.created) == workers, result.failed[:3]
    async with deps.uow() as uow:  # half of them signed: alerts read their terms
        half = [c.id for c, _ in result.created[: workers // 2]]
        await uow.session.execute(
            update(contracts).where(contracts.c.id.in_(half)).values(status="completed")
        )
        # Written around the domain objects: the counters and coverage are rebuilt.
        await uow.session.run_sync(lambda session: recount(session, [enterprise.id]))
        await uow.commit()
    cards_t, check_t, roster_t, alerts_t = [], [], [], []
    today = date(2027, 1, 25)
    for _ in range(rounds):
        start = time.perf_counter()
        async with deps.uow() as uow:
            cards = await uow.workers.cards(deps, enterprise.id, ids)
        cards_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        checks = await labor.precheck(deps, enterprise, tpl, FIELDS, cards, ids)
        check_t.append(time.perf_counter() - start)
        assert all(c.warnings for c in checks.values())  # the second probation of each
        start = time.perf_counter()
        async with deps.uow() as uow:
            await uow.roster.employees_page(
                enterprise.id, status="active", department_ids=None, q=None, offset=0, limit=workers
            )
        roster_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        async with deps.uow() as uow:
            found = await labor.alerts_of(uow, enterprise.id, today)
        alerts_t.append(time.perf_counter() - start)
        assert found
    await stop_deps(deps, db_name)
    return {
        "launch_s": launch_s,
        "cards_ms": statistics.median(cards_t) * 1000,
        "check_ms": statistics.median(check_t) * 1000,
        "roster_ms": statistics.median(roster_t) * 1000,
        "alerts_ms": statistics.median(alerts_t) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        r: dict[str, Any] = asyncio.run(run(backend, args.workers, args.rounds))
        print(
            f"{backend:10s} {args.workers} workers | checks {r['check_ms']:.0f} ms (cards {r['cards_ms']:.0f} ms, "
            f"×{r['check_ms'] / r['cards_ms']:.1f}; {r['check_ms'] / 10 / r['launch_s']:.1f} % of the launch's "
            f"{r['launch_s']:.1f} s) | alerts {r['alerts_ms']:.0f} ms (roster page {r['roster_ms']:.0f} ms, "
            f"×{r['alerts_ms'] / r['roster_ms']:.1f})"
        )


if __name__ == "__main__":
    main()
