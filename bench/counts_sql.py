"""Each list total and home-page number as SQL: the statement main runs beside the one this
branch runs (the tenant counters, covered_until, the bounded count, digits without names), on
the same database in the same run, interleaved (main, new, new, main, …), medians.

Seeds one large enterprise (`--contracts`, over half as many employees; bench/summary.py's
rows, awaiting flags set on the signing ones) and `--others` enterprises of the same size
beside it, then rebuilds the counters (`recount`) and runs VACUUM ANALYZE.

Run: .venv/bin/python bench/counts_sql.py [--contracts 100000] [--others 0] [--rounds 30]
     [--database postgresql+asyncpg://postgres@127.0.0.1:5432/<an empty database>]
     (default: a fresh PostgreSQL database, dropped afterwards; `--database sqlite` for SQLite)
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

from sqlalchemy import and_, exists, false, func, or_, select, text, true
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bench.lists import drop_pg, fresh_pg
from bench.summary import _enterprise
from laborsign.bootstrap import build_deps
from laborsign.config import load_config
from laborsign.core.paging import COUNT_BOUND
from laborsign.storage import counters
from laborsign.storage.contracts import contracts
from laborsign.storage.labor import contract_terms
from laborsign.storage.roster import employees

c, e = contracts.c, employees.c


def _count(where: Any, table: Any = contracts) -> Any:
    return select(func.count()).select_from(table).where(where)


def _bounded(where: Any, table: Any = contracts) -> Any:
    return select(func.count()).select_from(select(table.c.id).where(where).limit(COUNT_BOUND + 1).subquery())


def _signed(*extra: Any) -> Any:  # main's "holds a signed labor contract"
    return exists().where(
        c.employee_id == e.id, c.enterprise_id == e.enterprise_id, c.status == "completed",
        c.source != "certificate", *extra,
    )  # fmt: skip


def cases(tenant: str, today: Any) -> dict[str, tuple[Any, Any]]:
    """name: (main's statement, this branch's statement)."""
    mine = c.enterprise_id == tenant
    me = c.awaiting_enterprise == true()
    others = and_(c.awaiting_worker == true(), c.awaiting_enterprise == false())
    views = [None, me, others, c.status == "completed"]
    four_main = select(*(
        _count(mine if v is None else and_(mine, v)).scalar_subquery().label(f"v{i}") for i, v in enumerate(views)
    ))  # fmt: skip
    four_names = [counters.CONTRACTS, counters.AWAITING_ME, counters.AWAITING_OTHERS,
                  counters.contract_status("completed")]  # fmt: skip
    ended = exists().where(contract_terms.c.contract_id == c.id, contract_terms.c.end_date < today)
    covered_main = select(func.count(), func.count().filter(_signed(~ended))).where(
        e.enterprise_id == tenant, e.status == "active"
    )
    active_new = (
        select(counters.tenant_counts.c.n)
        .where(counters.tenant_counts.c.enterprise_id == tenant,
               counters.tenant_counts.c.name == counters.employee_status("active"))
        .scalar_subquery()
    )  # fmt: skip
    covered_new = select(active_new, _count(
        and_(e.enterprise_id == tenant, e.status == "active", e.covered_until >= today), employees
    ).scalar_subquery())  # fmt: skip
    hired_by = today - timedelta(days=30)
    unsigned_main = _count(
        and_(e.enterprise_id == tenant, e.status == "active", e.hire_date <= hired_by, ~_signed()), employees
    )
    unsigned_new = _count(
        and_(
            e.enterprise_id == tenant,
            e.status == "active",
            e.covered_until.is_(None),
            e.hire_date <= hired_by,
        ),
        employees,
    )
    surname = and_(mine, c.worker_name.like("员工1%"))
    digits = "1370001"
    digits_main = and_(mine, or_(c.worker_name.like(f"{digits}%"), c.name.like(f"{digits}%"),
                                 c.worker_phone.like(f"{digits}%")))  # fmt: skip
    digits_new = and_(mine, c.worker_phone.like(f"{digits}%"))
    return {
        "the four counts (/contracts/counts)": (four_main, counters.read_statement(tenant, four_names)),
        "list total, view all": (_count(mine), counters.read_statement(tenant, [counters.CONTRACTS])),
        "list total, status=completed": (
            _count(and_(mine, c.status == "completed")),
            counters.read_statement(tenant, [counters.contract_status("completed")]),
        ),
        "summary: awaiting_enterprise": (
            _count(and_(mine, me)),
            counters.read_statement(tenant, [counters.AWAITING_ME]),
        ),
        "summary: by_status": (
            select(c.status, func.count()).where(mine).group_by(c.status),
            counters.prefixed_statement(tenant, counters.CONTRACT_STATUS),
        ),
        "summary: active & covered": (covered_main, covered_new),
        "summary: no_written_contract": (unsigned_main, unsigned_new),
        "employees total": (
            _count(e.enterprise_id == tenant, employees),
            counters.read_statement(tenant, [counters.EMPLOYEES]),
        ),
        "search total, surname prefix (bounded)": (_count(surname), _bounded(surname)),
        "search total, 7 digits (phone only)": (_count(digits_main), _bounded(digits_new)),
    }


async def _once(conn: AsyncConnection, stmt: Any) -> float:
    started = time.perf_counter()
    (await conn.execute(stmt)).all()
    return (time.perf_counter() - started) * 1000


LARGE = "91440101MA59CNTS01"


async def seed(deps: Any, args: argparse.Namespace) -> str:
    await deps.db.migrate()
    started = time.perf_counter()
    large = await _enterprise(deps, LARGE, args.contracts)
    for k in range(args.others):
        await _enterprise(deps, f"91440101MA59CNT{k + 1:03d}", args.contracts)
    assert large.enterprise is not None
    async with deps.db.engine.begin() as conn:
        # The signing ones: some awaiting the enterprise, the rest the worker only.
        await conn.execute(contracts.update().where(c.status == "signing").values(
            awaiting_enterprise=func.substr(c.worker_phone, 11, 1) < "5", awaiting_worker=true()
        ))  # fmt: skip
        await conn.run_sync(counters.recount, None)
    if deps.db.dialect == "postgresql":
        async with deps.db.engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text("VACUUM ANALYZE"))
    else:
        async with deps.db.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    print(f"seeded {args.contracts * (1 + args.others):,} contracts ({args.contracts:,} in the tenant) "
          f"in {time.perf_counter() - started:.0f} s on {deps.db.dialect}")  # fmt: skip
    return large.enterprise.id


async def main(args: argparse.Namespace) -> None:
    dropped = None
    database = args.reuse or args.database
    if database is None:
        dropped = f"bench_counts_{int(time.time())}"
        database = await fresh_pg(dropped)
    env = {
        "LABORSIGN_STORAGE__DATA_DIR": tempfile.mkdtemp(prefix="bench-counts-"),
        "LABORSIGN_SECURITY__SECRET_KEY": "bench-secret-key-0123456789abcdef",
    }
    if database != "sqlite":
        env["LABORSIGN_DATABASE__URL"] = database
    deps = build_deps(load_config(environ=env))
    try:
        if args.reuse:
            async with deps.db.engine.connect() as conn:
                tenant = (await conn.execute(
                    text("SELECT id FROM enterprises WHERE credit_code = :c"), {"c": LARGE}
                )).scalar_one()  # fmt: skip
        else:
            tenant = await seed(deps, args)
        today = datetime.now(UTC).date()
        table = cases(tenant, today)
        times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in table}
        # A statement prepared afresh each time (no statement cache): PostgreSQL plans it for its
        # values. With the app's cache, after five runs it may keep a generic plan, and main's
        # no_written_contract then took minutes a call here (an anti join turned nested loop).
        timing = deps.db.engine
        if deps.db.dialect == "postgresql":
            timing = create_async_engine(
                deps.db.engine.url.update_query_dict({"prepared_statement_cache_size": "0"})
            )
        async with timing.connect() as conn:
            for name, (old, new) in table.items():  # same answers (the bounded ones: up to the bound)
                a, b = (await conn.execute(old)).all(), (await conn.execute(new)).all()
                print(f"  {name}: main {a[:3]} / new {b[:3]}")
            for r in range(args.rounds):
                for name, (old, new) in table.items():
                    pair = [(0, old), (1, new)] if r % 2 == 0 else [(1, new), (0, old)]
                    for side, stmt in pair:
                        times[name][side].append(await _once(conn, stmt))
        print(f"\n{deps.db.dialect}, {args.rounds} interleaved rounds, median ms (ratio main / new):")
        print(f"  {'number':42s} {'main':>9s} {'new':>9s} {'ratio':>8s}")
        for name, (old_t, new_t) in times.items():
            m, n = statistics.median(old_t), statistics.median(new_t)
            print(f"  {name:42s} {m:9.2f} {n:9.2f} {m / n:7.1f}×")
    finally:
        await deps.db.dispose()
        if dropped:
            await drop_pg(dropped)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", help="a URL, or sqlite (a temporary file)")
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--others", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--reuse", help="a database seeded by an earlier run (kept: not dropped)")
    asyncio.run(main(parser.parse_args()))
