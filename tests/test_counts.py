"""The tenant counters (storage/counters.py) on both databases: after every kind of transition
— launch, sign, seal first, complete, decline, withdraw, expire, hire, resign — they equal a
fresh COUNT(*) of the rows, and so do the lists' totals, /contracts/counts and the home page;
recount rebuilds them; two transactions committing at once are both counted (PostgreSQL); a
search matching more than 10,000 answers total_exact false; digits never search names."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock, china_time
from laborsign.core.roster import Employee
from laborsign.core.services.contracts.lifecycle import expire_due
from laborsign.storage.counters import OPEN_END, recount
from laborsign.storage.roster import employees
from tests.conftest import Api
from tests.test_contracts import mark_verified
from tests.test_integrator_webhooks import _seal_as_enterprise, _sign_as_worker
from tests.test_labor_assistant import body, hire, term_world
from tests.test_onboarding import FORM

AFRESH = {
    "contracts": "SELECT 'contracts', count(*) FROM contracts WHERE enterprise_id = :e",
    "status": "SELECT 'contracts.status:' || status, count(*) FROM contracts WHERE enterprise_id = :e GROUP BY status",
    "me": "SELECT 'contracts.awaiting_me', count(*) FROM contracts WHERE enterprise_id = :e AND awaiting_enterprise",
    "others": "SELECT 'contracts.awaiting_others', count(*) FROM contracts WHERE enterprise_id = :e"
    " AND awaiting_worker AND NOT awaiting_enterprise",
    "employees": "SELECT 'employees', count(*) FROM employees WHERE enterprise_id = :e",
    "e_status": "SELECT 'employees.status:' || status, count(*) FROM employees WHERE enterprise_id = :e"
    " GROUP BY status",
}
# What covered_until must say, written out independently of the storage code.
COVERAGE = """
SELECT e.id, e.covered_until,
       (SELECT max(coalesce(t.end_date, :open_end)) FROM contracts c
          LEFT JOIN contract_terms t ON t.contract_id = c.id
         WHERE c.employee_id = e.id AND c.enterprise_id = e.enterprise_id
           AND c.status = 'completed' AND c.source <> 'certificate')
  FROM employees e WHERE e.enterprise_id = :e
"""


async def _rows(client: Any, sql: str, **params: Any) -> list[Any]:
    async with client.app[DEPS].uow() as uow:
        return list((await uow.session.execute(text(sql), params)).all())


async def counters_of(client: Any, enterprise_id: str) -> dict[str, int]:
    rows = await _rows(client, "SELECT name, n FROM tenant_counts WHERE enterprise_id = :e", e=enterprise_id)
    return {name: int(n) for name, n in rows if n}


async def counted_afresh(client: Any, enterprise_id: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for sql in AFRESH.values():
        for name, n in await _rows(client, sql, e=enterprise_id):
            if n:
                out[name] = int(n)
    return out


async def coverage_mismatches(client: Any, enterprise_id: str) -> list[Any]:
    rows = await _rows(client, COVERAGE, e=enterprise_id, open_end=OPEN_END)
    return [r for r in rows if str(r[1]) != str(r[2])]  # SQLite answers the subquery's date as text


async def check(client: Any, api: Api, enterprise_id: str) -> dict[str, int]:
    """Counters, lists, counts and the home page all agree with COUNT(*) of the rows."""
    fresh = await counted_afresh(client, enterprise_id)
    assert await counters_of(client, enterprise_id) == fresh
    assert await coverage_mismatches(client, enterprise_id) == []
    counts = await api.get("/api/v1/contracts/counts")
    assert counts == {
        "all": fresh.get("contracts", 0),
        "awaiting_me": fresh.get("contracts.awaiting_me", 0),
        "awaiting_others": fresh.get("contracts.awaiting_others", 0),
        "completed": fresh.get("contracts.status:completed", 0),
    }
    for view in counts:
        page = await api.get(f"/api/v1/contracts?view={view}")
        assert (page["total"], page["total_exact"]) == (counts[view], True)
    for status in ("signing", "completed", "withdrawn", "rejected", "expired"):
        page = await api.get(f"/api/v1/contracts?status={status}")
        assert page["total"] == fresh.get(f"contracts.status:{status}", 0) == len(page["items"])
    roster = await api.get("/api/v1/employees")
    assert roster["total"] == fresh["employees"] == len(roster["items"])
    summary = await api.get("/api/v1/dashboard/summary")
    assert summary["active_employees"] == fresh.get("employees.status:active", 0)
    assert summary["awaiting_enterprise"] == counts["awaiting_me"]
    assert summary["awaiting_worker"] == counts["awaiting_others"]
    assert {s: n for s, n in summary["by_status"].items() if n} == {
        k.split(":", 1)[1]: n for k, n in fresh.items() if k.startswith("contracts.status:")
    }
    return fresh


async def test_counters_follow_every_transition_and_recount_rebuilds_them(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await term_world(api, make_api, client, clock)
    tenant = world["enterprise"]["id"]
    await mark_verified(client, enterprise_id=tenant, phone=FORM["phone"])
    worker, seal = world["worker"], world["seal"]
    today = china_time(clock.now()).date()
    plain = {**body(world, probation_end_date="", probation_wage=""), "confirm_warnings": True}

    async def launch(payload: dict[str, Any] = plain) -> str:
        return str((await api.post("/api/v1/contracts", payload, expect=201))["contracts"][0]["id"])

    first = await check(client, api, tenant)
    assert first["employees"] == 1 and "contracts" not in first

    await launch()
    seen = await check(client, api, tenant)
    assert seen["contracts.awaiting_me"] == 1 and seen["contracts.status:signing"] == 1

    signed = await launch(
        {**plain, "fields": {**plain["fields"], "contract_start_date": (today - timedelta(days=10)).isoformat(),
                             "contract_end_date": (today + timedelta(days=400)).isoformat()}}
    )  # fmt: skip
    await _sign_as_worker(worker, signed)  # worker signed: awaiting the seal only
    clock.advance(seconds=61)
    await check(client, api, tenant)
    await _seal_as_enterprise(api, signed, seal["id"])  # completed: the employee is covered
    clock.advance(seconds=61)
    seen = await check(client, api, tenant)
    assert seen["contracts.status:completed"] == 1
    assert (await api.get("/api/v1/dashboard/summary"))["covered_employees"] == 1

    sealed_first = await launch()
    await _seal_as_enterprise(api, sealed_first, seal["id"])  # awaiting the worker only
    clock.advance(seconds=61)
    seen = await check(client, api, tenant)
    assert seen["contracts.awaiting_others"] == 1

    declined = await launch()
    await worker.post(f"/api/v1/me/contracts/{declined}/decline", {"reason": "薪资与约定不符"}, expect=200)
    withdrawn = await launch()
    await api.post(f"/api/v1/contracts/{withdrawn}/withdraw", {"reason": "岗位调整"}, expect=200)
    deadline = (clock.now() + timedelta(days=1)).isoformat()
    await launch({**plain, "sign_deadline": deadline})
    clock.advance(days=1, seconds=1)
    assert await expire_due(client.app[DEPS]) == 1
    seen = await check(client, api, tenant)
    assert all(seen[f"contracts.status:{s}"] == 1 for s in ("rejected", "withdrawn", "expired"))

    second = await hire(api, make_api, clock, "钱四十", "13700000040", 40, today - timedelta(days=40))
    seen = await check(client, api, tenant)
    assert seen["employees"] == 2
    # The covered worker leaves: a termination certificate is issued, the pending ones withdrawn.
    leaver = world["employee_id"]
    await api.post(f"/api/v1/employees/{leaver}/resignation", {"reason": "个人发展"}, expect=200)
    await check(client, api, tenant)
    await api.post(
        f"/api/v1/employees/{leaver}/resignation/confirm",
        {"handover_to": "李四", "last_day": today.isoformat(), "reason_type": "mutual_agreement"},
        expect=200,
    )
    seen = await check(client, api, tenant)
    assert seen["employees.status:resigned"] == 1 and seen["employees.status:active"] == 1
    summary = await api.get("/api/v1/dashboard/summary")
    assert (summary["active_employees"], summary["covered_employees"]) == (1, 0)
    assert summary["no_written_contract"] == 1  # the one hired 40 days ago
    assert second

    # Broken by hand (as rows written around the ORM would leave them), rebuilt by recount.
    async with client.app[DEPS].uow() as uow:
        await uow.session.execute(text("UPDATE tenant_counts SET n = n + 7 WHERE enterprise_id = :e"), {"e": tenant})
        await uow.session.execute(text("UPDATE employees SET covered_until = NULL"))
        await uow.session.execute(text("DELETE FROM tenant_counts WHERE name = 'contracts.awaiting_others'"))
        await uow.commit()
    assert await counters_of(client, tenant) != seen
    async with client.app[DEPS].uow() as uow:
        await uow.session.run_sync(lambda session: recount(session, [tenant]))
        await uow.commit()
    assert await check(client, api, tenant) == seen


async def test_two_transactions_at_once_are_both_counted(
    api: Api, make_api: Any, client: Any, clock: FakeClock, database_url: str
) -> None:
    """PostgreSQL: both commits queue on the counter row held by a third transaction; when it
    lets go each adds its own increment to what the other committed."""
    if not database_url.startswith("postgresql"):
        return
    world = await term_world(api, make_api, client, clock)
    tenant = world["enterprise"]["id"]
    deps = client.app[DEPS]
    before = (await counters_of(client, tenant))["employees"]

    async def add(phone: str) -> None:
        async with deps.uow() as uow:
            uow.add(Employee(enterprise_id=tenant, name="并发", phone=phone, created_at=clock.now()))
            await uow.commit()

    async with deps.uow() as holder:
        await holder.session.execute(
            text("SELECT n FROM tenant_counts WHERE enterprise_id = :e AND name = 'employees' FOR UPDATE"),
            {"e": tenant},
        )
        both = asyncio.gather(add("13900000001"), add("13900000002"))
        for _ in range(500):  # until both wait for the row (no sleep decides the outcome)
            waiting = await _rows(client, "SELECT count(*) FROM pg_locks WHERE NOT granted")
            if waiting[0][0] >= 2:
                break
            await asyncio.sleep(0.02)
        assert waiting[0][0] >= 2, "the two commits never waited for the counter row"
        await holder.session.commit()
    await both
    fresh = await counted_afresh(client, tenant)
    assert fresh["employees"] == before + 2 == (await counters_of(client, tenant))["employees"]


async def test_a_search_past_ten_thousand_says_so_and_digits_search_no_names(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await term_world(api, make_api, client, clock)
    tenant = world["enterprise"]["id"]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {"id": f"bulk{i:08d}", "enterprise_id": tenant, "name": f"张{i}", "phone": f"139{i:08d}",
         "emergency_contact": {}, "status": "active", "created_at": now + timedelta(seconds=i)}
        for i in range(10_050)
    ]  # fmt: skip
    rows.append({**rows[0], "id": "digitname", "name": "13800000000", "phone": "13611112222"})
    async with client.app[DEPS].uow() as uow:
        await uow.session.execute(employees.insert(), rows)
        await uow.session.run_sync(lambda session: recount(session, [tenant]))
        await uow.commit()

    everyone = await api.get("/api/v1/employees")
    assert (everyone["total"], everyone["total_exact"]) == (10_052, True)  # the counter: exact
    many = await api.get("/api/v1/employees?q=139")
    assert (many["total"], many["total_exact"], len(many["items"])) == (10_000, False, 20)
    some = await api.get("/api/v1/employees?q=1390000000")
    assert (some["total"], some["total_exact"]) == (10, True)
    surname = await api.get("/api/v1/employees?q=张")
    assert (surname["total"], surname["total_exact"]) == (10_000, False)
    # All digits: the phone (and its last four), never a name that happens to be digits.
    assert (await api.get("/api/v1/employees?q=13800000000"))["total"] == 0
    assert [e["id"] for e in (await api.get("/api/v1/employees?q=1361111"))["items"]] == ["digitname"]
    assert (await api.get("/api/v1/contracts?q=139"))["total_exact"] is True


def test_the_migration_counts_the_rows_already_there(tmp_path: Any) -> None:
    """0022_counts on a database holding contracts and employees: the counters and coverage
    it backfills are those of the rows (SQLite; the statements are recount's, run above on both)."""
    from alembic import command
    from sqlalchemy import create_engine

    from laborsign.storage.contracts import contracts
    from laborsign.storage.db import alembic_config, migrate_sync
    from laborsign.storage.labor import contract_terms

    path = tmp_path / "old.db"
    migrate_sync(f"sqlite+aiosqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0021_versions")  # the schema before 0022
    now = datetime(2026, 6, 1, tzinfo=UTC)
    people = [{"id": f"emp{i}", "enterprise_id": "ent1", "name": f"员工{i}", "phone": f"1370000000{i}",
               "emergency_contact": {}, "status": "active", "created_at": now} for i in range(3)]  # fmt: skip

    def contract(cid: str, employee: str, status: str, awaiting_enterprise: bool = False) -> dict[str, Any]:
        return {
            "id": cid, "enterprise_id": "ent1", "batch_id": cid, "name": "劳动合同", "employee_id": employee,
            "worker_name": "w", "worker_phone": "13700000000", "created_by": "u", "created_at": now,
            "source": "template", "document_blob": "0", "document_sha256": "0", "original_blob": "0",
            "original_sha256": "0", "files": [], "controls": [], "values": {}, "enterprise_party": {},
            "template_ids": [], "status": status, "version": 0, "awaiting_enterprise": awaiting_enterprise,
            "awaiting_worker": False,
        }  # fmt: skip

    with engine.begin() as conn:
        conn.execute(employees.insert(), people)
        conn.execute(contracts.insert(), [
            contract("c1", "emp0", "completed"), contract("c2", "emp1", "completed"),
            contract("c3", "emp1", "signing", awaiting_enterprise=True), contract("c4", "emp2", "withdrawn"),
        ])  # fmt: skip
        conn.execute(contract_terms.insert(), [{"contract_id": "c1", "end_date": datetime(2027, 3, 1).date()}])
        command.upgrade(alembic_config(conn), "heads")
    with engine.connect() as conn:
        counted = dict(conn.execute(text("SELECT name, n FROM tenant_counts WHERE enterprise_id = 'ent1'")).all())
        covered = dict(conn.execute(text("SELECT id, covered_until FROM employees ORDER BY id")).all())
    engine.dispose()
    assert counted == {
        "contracts": 4, "contracts.status:completed": 2, "contracts.status:signing": 1,
        "contracts.status:withdrawn": 1, "contracts.awaiting_me": 1, "employees": 3, "employees.status:active": 3,
    }  # fmt: skip
    assert covered == {"emp0": "2027-03-01", "emp1": OPEN_END.isoformat(), "emp2": None}
