"""The home page's numbers (issue 14) over HTTP on both databases: after a scripted set of
onboardings, launches, signatures, declines and withdrawals the summary is exact; another
enterprise's rows are never counted; a member sees only the numbers of the lists their
permissions open (roster numbers with 入职与花名册, contract numbers with 合同管理)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from alembic import command
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock, china_time
from laborsign.storage.db import alembic_config
from tests.conftest import Api
from tests.test_contracts import mark_verified
from tests.test_integrator_webhooks import _seal_as_enterprise, _sign_as_worker
from tests.test_labor_assistant import _id_number, body, complete, hire, term_world
from tests.test_onboarding import FORM, onboard

ROSTER_KEYS = ("pending_onboarding", "active_employees", "covered_employees", "covered_share")
CONTRACT_KEYS = (
    "awaiting_enterprise", "awaiting_worker", "expiring", "no_written_contract", "by_status", "expiries_by_week",
)  # fmt: skip
B_CREDIT = "91440101MA59ABCD0A"


async def _member(api: Api, make_api: Any, clock: FakeClock, phone: str, perms: list[str]) -> Api:
    await api.post(
        "/api/v1/members", {"name": "成员" + phone[-2:], "phone": phone, "permissions": perms}, expect=201
    )
    other: Api = await make_api()
    await other.login(clock, phone)
    return other


async def scripted_enterprise(api: Api, make_api: Any, client: Any, clock: FakeClock) -> dict[str, Any]:
    """One enterprise's day: the numbers it must show are in the answer's "expected"."""
    world = await term_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=FORM["phone"])
    today = china_time(clock.now()).date()
    worker, seal = world["worker"], world["seal"]

    def ending_in(days: int, start_days_ago: int = 300) -> dict[str, Any]:
        launch = body(world, contract_start_date=(today - timedelta(days=start_days_ago)).isoformat(),
                      contract_end_date=(today + timedelta(days=days)).isoformat(), probation_end_date="",
                      probation_wage="")  # fmt: skip
        return {**launch, "confirm_warnings": True}

    async def launch(payload: dict[str, Any]) -> str:
        made = await api.post("/api/v1/contracts", payload, expect=201)
        return str(made["contracts"][0]["id"])

    async def signed(payload: dict[str, Any]) -> str:
        cid = await launch(payload)
        await _sign_as_worker(worker, cid)
        clock.advance(seconds=61)  # one SMS code a minute per phone
        await _seal_as_enterprise(api, cid, seal["id"])
        clock.advance(seconds=61)
        return cid

    soon = await signed(ending_in(20))  # completed, ends in 20 days: 即将到期, week 2 of the chart
    await signed(ending_in(60))  # completed, ends in 60 days: chart week 8 only
    plain = body(world, probation_end_date="", probation_wage="")
    waiting_seal = await launch(plain)
    await _sign_as_worker(worker, waiting_seal)  # 待我签署
    clock.advance(seconds=61)
    await launch(plain)  # nobody signed yet: also 待我签署 (the enterprise may seal first)
    sealed_first = await launch(plain)
    await _seal_as_enterprise(api, sealed_first, seal["id"])  # 待劳动者签署
    clock.advance(seconds=61)
    declined = await launch(plain)
    await worker.post(f"/api/v1/me/contracts/{declined}/decline", {"reason": "薪资与约定不符"}, expect=200)
    withdrawn = await launch(plain)
    await api.post(f"/api/v1/contracts/{withdrawn}/withdraw", {"reason": "岗位调整"}, expect=200)

    # Three more active employees: one hired 40 days ago with no contract (未签书面合同), one hired
    # 3 days ago (not yet due), one whose only signed contract ended yesterday (not covered).
    await hire(api, make_api, clock, "钱四十", "13700000040", 40, today - timedelta(days=40))
    await hire(api, make_api, clock, "李三", "13700000003", 3, today - timedelta(days=3))
    lapsed_worker = await hire(api, make_api, clock, "孙过期", "13700000077", 77, today - timedelta(days=400))
    lapsed = await launch({**ending_in(-1, 390), "employee_ids": [lapsed_worker]})
    await complete(client, lapsed)
    # And one onboarding still waiting for review.
    pending = await make_api()
    await onboard(api, pending, clock, {**FORM, "name": "周待审", "phone": "13700000088",
                                        "id_number": _id_number("1992-05-06", 88), "birth_date": "1992-05-06"})  # fmt: skip
    weeks = [0] * 13
    weeks[20 // 7] += 1
    weeks[60 // 7] += 1
    expected = {
        "as_of": today.isoformat(),
        "pending_onboarding": 1, "active_employees": 4, "covered_employees": 1, "covered_share": 0.25,
        "awaiting_enterprise": 2, "awaiting_worker": 1, "expiring": 1, "no_written_contract": 1,
        "by_status": {"draft": 0, "signing": 3, "completed": 3, "withdrawn": 1, "rejected": 1, "expired": 0},
        "expiries_by_week": [
            {"week_start": (today + timedelta(days=7 * i)).isoformat(), "count": n} for i, n in enumerate(weeks)
        ],
    }  # fmt: skip
    return {**world, "expected": expected, "soon": soon}


async def test_the_numbers_are_exact_and_agree_with_the_lists(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await scripted_enterprise(api, make_api, client, clock)
    summary = await api.get("/api/v1/dashboard/summary")
    assert summary == world["expected"]
    # Each count is what its list shows.
    reviews = await api.get("/api/v1/onboarding?status=pending_review")
    assert reviews["total"] == summary["pending_onboarding"]
    assert (await api.get("/api/v1/contracts?view=awaiting_me"))["total"] == summary["awaiting_enterprise"]
    assert (await api.get("/api/v1/contracts?view=awaiting_others"))["total"] == summary["awaiting_worker"]
    assert (await api.get("/api/v1/employees?status=active"))["total"] == summary["active_employees"]
    renewal = (await api.get("/api/v1/alerts?kind=renewal_due"))["items"]
    assert [a["contract_id"] for a in renewal] == [world["soon"]]
    unsigned = (await api.get("/api/v1/alerts?kind=no_written_contract"))["items"]
    assert [a["employee_name"] for a in unsigned] == ["钱四十"]

    # Time moves on: 21 days later the 20-day contract has ended, so nothing is about to expire
    # and that worker's only valid contract is the 60-day one.
    clock.advance(days=21)
    await api.login(clock, "13800138000")
    later = await api.get("/api/v1/dashboard/summary")
    assert (later["expiring"], later["covered_employees"]) == (0, 1)
    assert sum(w["count"] for w in later["expiries_by_week"]) == 1


async def test_another_enterprise_is_not_counted(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await scripted_enterprise(api, make_api, client, clock)
    b: Api = await make_api()
    await b.register_enterprise(clock, phone="13900139000", name="乙方企业有限公司", credit_code=B_CREDIT)
    empty = await b.get("/api/v1/dashboard/summary")
    assert {k: empty[k] for k in ("pending_onboarding", "active_employees", "awaiting_enterprise", "expiring")} == {
        "pending_onboarding": 0, "active_employees": 0, "awaiting_enterprise": 0, "expiring": 0,
    }  # fmt: skip
    assert empty["covered_share"] is None and set(empty["by_status"].values()) == {0}
    # B's own onboarding is B's alone.
    joiner = await make_api()
    await onboard(b, joiner, clock, {**FORM, "name": "吴乙方", "phone": "13700000099",
                                     "id_number": _id_number("1992-05-06", 99), "birth_date": "1992-05-06"})  # fmt: skip
    assert (await b.get("/api/v1/dashboard/summary"))["pending_onboarding"] == 1
    assert await api.get("/api/v1/dashboard/summary") == world["expected"]


async def test_upgrading_an_existing_database_keeps_the_numbers(
    api: Api, make_api: Any, client: Any, clock: FakeClock, database_url: str
) -> None:
    """A database from before contracts carried their fixed term's end (0023) gets it from the
    stored terms: the expiry numbers are the same after the upgrade."""
    world = await scripted_enterprise(api, make_api, client, clock)
    await client.app[DEPS].db.engine.dispose()
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0022_counts"))
            columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("contracts")})
            assert "fixed_term_end" not in columns
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "heads"))
    finally:
        await engine.dispose()
    assert await api.get("/api/v1/dashboard/summary") == world["expected"]


async def test_members_see_the_numbers_of_their_permissions(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await scripted_enterprise(api, make_api, client, clock)
    expected = world["expected"]
    legal = await _member(api, make_api, clock, "13900139011", ["contracts"])
    hr = await _member(api, make_api, clock, "13900139012", ["onboarding"])
    designer = await _member(api, make_api, clock, "13900139013", ["templates"])
    seen = await legal.get("/api/v1/dashboard/summary")
    assert all(seen[k] is None for k in ROSTER_KEYS) and all(seen[k] == expected[k] for k in CONTRACT_KEYS)
    seen = await hr.get("/api/v1/dashboard/summary")
    assert all(seen[k] == expected[k] for k in ROSTER_KEYS) and all(seen[k] is None for k in CONTRACT_KEYS)
    seen = await designer.get("/api/v1/dashboard/summary")
    assert all(seen[k] is None for k in ROSTER_KEYS + CONTRACT_KEYS) and seen["as_of"] == expected["as_of"]
    # The lists behind the hidden numbers are refused to them as well.
    await legal.call("GET", "/api/v1/onboarding", expect=403)
    await hr.call("GET", "/api/v1/contracts", expect=403)


async def test_signed_out_and_worker_side_are_refused(api: Api, make_api: Any, clock: FakeClock) -> None:
    anonymous: Api = await make_api()
    refused = await anonymous.call("GET", "/api/v1/dashboard/summary", expect=401)
    assert refused["message"]
    worker: Api = await make_api()
    await worker.login(clock, FORM["phone"], side="worker")
    refused = await worker.call("GET", "/api/v1/dashboard/summary", expect=403)
    assert "企业" in refused["message"]
