"""HR notices on the real stack (the app's dependencies and services, SQLite or PostgreSQL).

1. Reading: what the 通知 page asks (the first page of 20 with the read flags, the total and
   the member's unread count) for an enterprise with a few notices (the baseline) and one
   with many: for a member who never read any (the unread count looks at every notice) and
   for one who marked all read before a few new ones came (it only looks past the watermark).
2. Writing: a state change's commit (one outbox row of its own) recording a contract event,
   with the notice handler (a notice row and an HR outbox row more) against the same commit
   without it (the baseline).

Run: .venv/bin/python bench/notices.py [--notices 100000] [--reads 30] [--commits 300] [--repeat 3]
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
from laborsign.core import handlers
from laborsign.core import outbox as ob
from laborsign.core.accounts import Enterprise, Member, User
from laborsign.core.events import ContractCompleted
from laborsign.core.ids import new_id
from laborsign.core.services import notices as svc
from laborsign.core.services.accounts import Actor
from laborsign.storage.notices import notices

SMALL = 100


async def _enterprise(deps: Any, code: str, count: int, start: datetime) -> tuple[Actor, Actor]:
    """An enterprise with `count` notices and two members with the contracts permission."""
    now = datetime.now(UTC)
    e = Enterprise(name=f"企业{code}", credit_code=code, org_type="enterprise", created_at=now)
    actors = []
    async with deps.uow() as uow:
        uow.add(e)
        people = [User(phone=f"139{code[-4:]}{i:04d}", created_at=now) for i in range(2)]
        for user in people:
            uow.add(user)
        await uow.flush()  # the members' rows refer to these
        for i, user in enumerate(people):
            member = Member(enterprise_id=e.id, user_id=user.id, name=f"成员{i}", role="member",
                            created_at=now, permissions=["contracts"])  # fmt: skip
            uow.add(member)
            actors.append(Actor(user=user, enterprise=e, member=member))
        await uow.commit()
    for first in range(0, count, 5000):
        rows = [
            {"id": new_id(), "enterprise_id": e.id, "kind": "contract_completed", "text": f"与王五的《劳动合同{i}》已签署完成",
             "contract_id": new_id(), "employee_id": new_id(), "event_id": None,
             "created_at": start + timedelta(seconds=i)}
            for i in range(first, min(count, first + 5000))
        ]  # fmt: skip
        async with deps.uow() as uow:
            await uow.session.execute(insert(notices), rows)
            await uow.commit()
    return actors[0], actors[1]


async def _reads(deps: Any, actor: Actor, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        rows, total, unread = await svc.page(deps, actor, 1, 20)
        times.append((time.perf_counter() - started) * 1000)
        assert len(rows) == 20 and total >= 20 and unread >= 0
    return times


def _completed(enterprise_id: str, now: datetime) -> ContractCompleted:
    return ContractCompleted(
        enterprise_id=enterprise_id, at=now, contract_id=new_id(), name="标准劳动合同", status="completed",
        employee_id=new_id(), worker_name="王五", document_sha256="0" * 64,
    )  # fmt: skip


async def _commits(deps: Any, enterprise_id: str, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        now = datetime.now(UTC)
        async with deps.uow() as uow:  # the change's own row (as in bench/webhook_deliveries.py)
            uow.outbox.add(ob.sms("13900000000", "contract_completed", "合同已签署完成", now))
            uow.record(_completed(enterprise_id, now))
            await uow.commit()
    return n / (time.perf_counter() - started)


async def main(database: str | None, count: int, reads: int, commits: int, repeat: int) -> None:
    env = {
        "LABORSIGN_STORAGE__DATA_DIR": tempfile.mkdtemp(prefix="bench-notices-"),
        "LABORSIGN_SECURITY__SECRET_KEY": "bench-secret-key-0123456789abcdef",
    }
    if database:
        env["LABORSIGN_DATABASE__URL"] = database
    deps = build_deps(load_config(environ=env))
    await deps.db.migrate()
    start = datetime.now(UTC) - timedelta(days=400)
    small, _ = await _enterprise(deps, "91440101MA59NOTE01", SMALL, start)
    never, caught_up = await _enterprise(deps, "91440101MA59NOTE02", count, start)
    await svc.mark_read(deps, caught_up, None, True)  # everything so far read …
    async with deps.uow() as uow:  # … then five new notices
        assert never.enterprise is not None
        for _ in range(5):
            uow.record(_completed(never.enterprise.id, datetime.now(UTC) + timedelta(seconds=1)))
        await uow.commit()
    if deps.db.dialect == "postgresql":  # the steady state autovacuum keeps (visibility map, statistics)
        async with deps.db.engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text("VACUUM ANALYZE"))
    cases = {
        f"{SMALL} notices (baseline)": small,
        f"{count} notices, none read": never,
        f"{count} notices, all read + 5": caught_up,
    }
    medians: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, actor in cases.items():
            medians[name].append(statistics.median(await _reads(deps, actor, reads)))
    print(
        f"{deps.db.dialect}: page 1 of 20 + total + unread, median ms of {reads} reads, medians of {repeat}:"
    )
    base = statistics.median(medians[f"{SMALL} notices (baseline)"])
    for name, values in medians.items():
        m = statistics.median(values)
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {name:32s} {m:8.2f} ms  {m / base:6.2f}× baseline  ({runs})")

    assert small.enterprise is not None
    told = handlers.HANDLERS[ContractCompleted]
    rates: dict[str, list[float]] = {"without notices (baseline)": [], "with the notice handler": []}
    for _ in range(repeat):
        handlers.HANDLERS[ContractCompleted] = tuple(h for h in told if h is not handlers.tell_hr)
        rates["without notices (baseline)"].append(await _commits(deps, small.enterprise.id, commits))
        handlers.HANDLERS[ContractCompleted] = told
        rates["with the notice handler"].append(await _commits(deps, small.enterprise.id, commits))
    print(f"{commits} commits recording a contract event, medians of {repeat}:")
    base = statistics.median(rates["without notices (baseline)"])
    for name, values in rates.items():
        m = statistics.median(values)
        runs = ", ".join(f"{v:.0f}" for v in values)
        print(f"  {name:32s} {m:6.0f} commits/s  {1000 / m:6.2f} ms  {m / base:5.2f}× baseline  ({runs})")
    await deps.db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default=None)
    parser.add_argument("--notices", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=30)
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.database, args.notices, args.reads, args.commits, args.repeat))
