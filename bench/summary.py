"""The home page's numbers on the real stack (the app's dependencies and services, SQLite or
PostgreSQL): `GET /api/v1/dashboard/summary`'s service for an enterprise with many contracts and
employees, beside two baselines in the same run — the same summary for a small enterprise, and
the contracts page's four view counts (`ContractRepository.counts`) for the large one.

Run: .venv/bin/python bench/summary.py [--contracts 100000] [--reads 20] [--repeat 3]
     [--database postgresql+asyncpg://postgres@127.0.0.1:5432/<an empty database>]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text

from laborsign.bootstrap import build_deps
from laborsign.config import load_config
from laborsign.core.accounts import Enterprise, User
from laborsign.core.ids import new_id
from laborsign.core.services import summary as svc
from laborsign.core.services.accounts import Actor
from laborsign.storage.contracts import contracts, parties
from laborsign.storage.counters import recount
from laborsign.storage.labor import contract_terms
from laborsign.storage.roster import employees

SMALL = 100
STATUSES = ("completed", "completed", "completed", "signing", "signing", "rejected", "withdrawn", "expired")


async def _enterprise(deps: Any, code: str, count: int) -> Actor:
    """An enterprise with `count` contracts over `count // 2` employees (terms on the completed
    ones, ending over the next two years; both parties on the signing ones)."""
    now = datetime.now(UTC)
    today = now.date()
    e = Enterprise(name=f"企业{code}", credit_code=code, org_type="enterprise", created_at=now)
    hr = User(phone=f"139{code[-4:]}0000", created_at=now)
    async with deps.uow() as uow:
        uow.add(e)
        uow.add(hr)
        await uow.commit()
    staff = [new_id() for _ in range(max(1, count // 2))]
    for first in range(0, len(staff), 5000):
        rows = [
            {"id": staff[i], "enterprise_id": e.id, "name": f"员工{i}", "phone": f"137{i:08d}", "emergency_contact": {},
             "hire_date": today - timedelta(days=i % 900), "status": "active" if i % 10 else "resigned",
             "created_at": now}
            for i in range(first, min(len(staff), first + 5000))
        ]  # fmt: skip
        async with deps.uow() as uow:
            await uow.session.execute(insert(employees), rows)
            await uow.commit()
    for first in range(0, count, 5000):
        made, people, terms = [], [], []
        for i in range(first, min(count, first + 5000)):
            cid, status = new_id(), STATUSES[i % len(STATUSES)]
            made.append({
                "id": cid, "enterprise_id": e.id, "batch_id": cid, "name": "劳动合同", "employee_id": staff[i % len(staff)],
                "worker_name": f"员工{i}", "worker_phone": f"137{i:08d}", "created_by": hr.id, "created_at": now,
                "source": "template", "document_blob": "0" * 64, "document_sha256": "0" * 64, "original_blob": "0" * 64,
                "original_sha256": "0" * 64, "files": [], "controls": [], "values": {}, "enterprise_party": {},
                "template_ids": [], "status": status, "version": 0,
            })  # fmt: skip
            if status == "signing":
                people += [
                    {"id": new_id(), "contract_id": cid, "role": "worker", "name": "w", "status": ("pending", "signed")[i % 2]},
                    {"id": new_id(), "contract_id": cid, "role": "enterprise", "name": "e", "status": ("signed", "pending")[i % 2]},
                ]  # fmt: skip
            if status == "completed":
                terms.append({"contract_id": cid, "type": "fixed", "start_date": today - timedelta(days=365),
                              "end_date": today + timedelta(days=i % 730 - 30)})  # fmt: skip
        async with deps.uow() as uow:
            await uow.session.execute(insert(contracts), made)
            if people:
                await uow.session.execute(insert(parties), people)
            if terms:
                await uow.session.execute(insert(contract_terms), terms)
            await uow.commit()
    return Actor(user=hr, enterprise=e, member=None)


async def _time(n: int, call: Any) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def main(database: str | None, count: int, reads: int, repeat: int) -> None:
    env = {
        "LABORSIGN_STORAGE__DATA_DIR": tempfile.mkdtemp(prefix="bench-summary-"),
        "LABORSIGN_SECURITY__SECRET_KEY": "bench-secret-key-0123456789abcdef",
    }
    if database:
        env["LABORSIGN_DATABASE__URL"] = database
    deps = build_deps(load_config(environ=env))
    await deps.db.migrate()
    small = await _enterprise(deps, "91440101MA59SUMM01", SMALL)
    large = await _enterprise(deps, "91440101MA59SUMM02", count)
    async with deps.db.engine.begin() as conn:  # the rows came in around the storage session
        await conn.run_sync(recount, None)
    if deps.db.dialect == "postgresql":  # the steady state autovacuum keeps (visibility map, statistics)
        async with deps.db.engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text("VACUUM ANALYZE"))
    assert large.enterprise is not None
    large_id = large.enterprise.id

    async def four_counts() -> None:
        async with deps.uow() as uow:
            await uow.contracts.counts(enterprise_id=large_id)

    cases = {
        f"summary, {SMALL} contracts (baseline)": lambda: svc.summary(deps, small),
        f"four view counts, {count} contracts (baseline)": four_counts,
        f"summary, {count} contracts": lambda: svc.summary(deps, large),
    }
    today = datetime.now(UTC).date()

    def one(method: str, *args: Any) -> Any:
        async def call() -> None:
            async with deps.uow() as uow:
                await getattr(uow.summary, method)(large_id, *args)

        return call

    cases.update({  # each number of the large summary on its own
        f"  {m}": one(m, *a) for m, a in [
            ("pending_onboarding", ()), ("awaiting_enterprise", ()), ("awaiting_worker", ()),
            ("expiring", (today, today + timedelta(days=30))), ("expiries_by_day", (today, today + timedelta(days=90))),
            ("no_written_contract", (today - timedelta(days=20),)), ("active_and_covered", (today,)), ("by_status", ()),
        ]
    })  # fmt: skip
    figures = await svc.summary(deps, large)
    print("large enterprise:", {k: v for k, v in figures.items() if k != "expiries_by_week"})
    medians: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, call in cases.items():
            medians[name].append(await _time(reads, call))
    print(f"{deps.db.dialect}: median ms of {reads} calls, medians of {repeat}:")
    base = statistics.median(medians[f"summary, {SMALL} contracts (baseline)"])
    for name, values in medians.items():
        m = statistics.median(values)
        runs = ", ".join(f"{v:.1f}" for v in values)
        print(f"  {name:44s} {m:8.1f} ms  {m / base:6.2f}× small  ({runs})")
    await deps.db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--database")
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.database, args.contracts, args.reads, args.repeat))
