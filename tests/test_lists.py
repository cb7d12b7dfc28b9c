"""Contract and roster lists at size: the awaiting flags after every transition, keyset pages
that neither repeat nor skip while contracts are added, the four counts, search by name, phone
and ID number — over data `laborsign demo` made, which the app's own reads accept."""

from __future__ import annotations

import asyncio
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock, china_time
from laborsign.core.contracts import EVENT_HASHED, Contract, ContractEvent, canonical_event, verify_chain
from laborsign.core.ids import new_id
from laborsign.core.services.summary import CHART_DAYS
from laborsign.demo.bulk import BULK_TABLES, ContractMaker, Loader, Tenant, secondary_indexes_later
from laborsign.demo.walk import Walked
from laborsign.storage import mappings
from laborsign.storage.accounts import enterprises
from laborsign.storage.contracts import contracts, events, parties
from laborsign.storage.labor import contract_terms
from laborsign.storage.roster import employees
from laborsign.storage.schema import metadata
from tests.conftest import Api
from tests.test_contracts import launch_body, mark_verified, setup_contract_world, signature_png
from tests.test_onboarding import FORM

VIEWS = ("all", "awaiting_me", "awaiting_others", "completed")


async def flags(client: Any, contract_id: str) -> tuple[bool, bool]:
    async with client.app[DEPS].uow() as uow:
        contract = await uow.get(Contract, contract_id)
        return contract.awaiting_worker, contract.awaiting_enterprise


async def view_ids(api: Api, base: str, view: str) -> set[str]:
    return {c["id"] for c in (await api.get(f"{base}?view={view}&per_page=100"))["items"]}


async def check_counts(api: Api, base: str) -> dict[str, int]:
    counts = await api.get(f"{base}/counts")
    for view in VIEWS:
        assert counts[view] == (await api.get(f"{base}?view={view}&per_page=1"))["total"], view
    return counts


async def test_awaiting_flags_follow_every_transition(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await setup_contract_world(api, make_api, client, clock)
    worker: Api = world["worker"]
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=FORM["phone"])

    async def launch(**extra: Any) -> str:
        made = await api.post("/api/v1/contracts", launch_body(world, **extra), expect=201)
        return str(made["contracts"][0]["id"])

    signed = await launch()
    assert await flags(client, signed) == (True, True)
    assert signed in await view_ids(api, "/api/v1/contracts", "awaiting_me")
    assert signed in await view_ids(worker, "/api/v1/me/contracts", "awaiting_me")

    started = await worker.post(
        f"/api/v1/me/contracts/{signed}/signature",
        {"signature_png": signature_png(), "fields": {"bank_account": "6222020000000000"}},
        expect=201,
    )
    code = (await worker.get(f"/api/v1/dev/sms?phone={FORM['phone']}"))["items"][0]["code"]
    await worker.post(f"/api/v1/signing-sessions/{started['id']}/confirm", {"code": code}, expect=200)
    assert await flags(client, signed) == (False, True)
    assert signed in await view_ids(api, "/api/v1/contracts", "awaiting_me")
    assert signed not in await view_ids(api, "/api/v1/contracts", "awaiting_others")
    assert signed in await view_ids(worker, "/api/v1/me/contracts", "awaiting_others")
    assert signed not in await view_ids(worker, "/api/v1/me/contracts", "awaiting_me")

    clock.advance(seconds=61)
    session = await api.post(
        "/api/v1/signing-sessions",
        {"contract_ids": [signed], "seal_id": world["seal"]["id"], "intent_method": "sms"},
        expect=201,
    )
    code = (await api.get("/api/v1/dev/sms?phone=13800138000"))["items"][0]["code"]
    await api.post(f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": code}, expect=200)
    assert await flags(client, signed) == (False, False)
    assert signed in await view_ids(api, "/api/v1/contracts", "completed")

    declined, withdrawn = await launch(), await launch()
    waiting = await launch()  # stays awaiting both parties
    await worker.post(f"/api/v1/me/contracts/{declined}/decline", {"reason": "薪资与约定不符"}, expect=200)
    await api.post(f"/api/v1/contracts/{withdrawn}/withdraw", {"reason": "岗位调整"}, expect=200)
    expiring = await launch(sign_deadline=(clock.now() + timedelta(days=1)).isoformat())
    clock.advance(days=1, seconds=1)
    from laborsign.core.services.contracts.lifecycle import expire_due

    assert await expire_due(client.app[DEPS]) == 1
    for ended in (declined, withdrawn, expiring):
        assert await flags(client, ended) == (False, False), ended
    assert await flags(client, waiting) == (True, True)
    # A withdrawn contract launched again awaits both parties afresh.
    again = (await api.post(f"/api/v1/contracts/{withdrawn}/reinitiate", expect=201))["id"]
    assert await flags(client, again) == (True, True)

    counts = await check_counts(api, "/api/v1/contracts")
    assert counts == {"all": 6, "awaiting_me": 2, "awaiting_others": 0, "completed": 1}
    mine = await check_counts(worker, "/api/v1/me/contracts")
    assert mine == {"all": 6, "awaiting_me": 2, "awaiting_others": 0, "completed": 1}
    assert await view_ids(api, "/api/v1/contracts", "awaiting_me") == {waiting, again}


def test_hand_built_event_bytes_are_json_dumps_bytes() -> None:
    """The bulk loader's fast canonical form is byte for byte the sorted compact JSON."""
    rng = random.Random(3)
    alphabet = ["a", "张", '"', "\\", "\n", "\x7f", "\u2028", "é", "\x00", "/", "\t", "\U0001f600", "\u00ad"]

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 6)))

    for _ in range(3000):
        values: dict[str, Any] = {name: text() for name in EVENT_HASHED}
        values.update(seq=rng.randrange(1, 99), at=datetime.now(UTC), actor_id=rng.choice([None, text()]))
        values["details"] = rng.choice([{}, {"b": text(), "a": [1, None, text()]}])
        body = {**values, "at": values["at"].isoformat()}
        expected = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        assert canonical_event(values) == expected


def test_bulk_audit_chains_pass_the_projects_own_verifier() -> None:
    """The bulk loader writes its events' hashes from pieces of text made once; every chain it
    makes, in every state, verifies as ContractEvent and verify_chain read them back."""
    sha = [f"{k:064x}" for k in range(4)]
    walked = Walked(
        enterprise_id=new_id(), enterprise_name="广州示例智造科技有限公司", credit_code="91440101MA00000000",
        hr_phone="13800138000", hr_name='张"HR\\', worker_phone="13900139000",
        user_ids={"hr": new_id(), "worker": new_id()}, department_ids=[new_id()], template_id=new_id(),
        controls=[], fields={}, seal_id=new_id(), completed_id=new_id(), pending_id=new_id(),
        versions=[sha[:3], [sha[0], sha[3]]],
    )  # fmt: skip
    maker = ContractMaker(
        walked, {"id": walked.completed_id, "values": {"worker_name": "", "pay_day": "15"}, "enterprise_party": {}},
        {"ip": "10.0.0.1", "user_agent": "Mozilla/5.0 (\u2028 \"demo\")"}, None, datetime.now(UTC), 5,
    )  # fmt: skip
    people = [(new_id(), name, "13500000000", "110105199001011234", "男", "1990-01-01", "")
              for name in ("王伟", 'a"b\\c', "李\n娜")]  # fmt: skip
    tenant = Tenant(walked.enterprise_id, walked.enterprise_name, walked.credit_code)
    staged, party_rows, rows, terms = maker.make(tenant, people, 600)
    assert terms == []  # no term on the walked contract: none on its clones
    # Ids ascending within a batch: the primary keys take it into their last pages.
    for made in (staged, party_rows, rows):
        assert [r[0] for r in made] == sorted({r[0] for r in made})
    chains: dict[str, list[ContractEvent]] = {}
    for row in rows:
        event = ContractEvent(**dict(zip((c.name for c in events.columns), row, strict=True)))
        chains.setdefault(event.contract_id, []).append(event)
    assert len(chains) == 600
    assert {chain[-1].kind for chain in chains.values()} >= {"launched", "signed", "completed", "withdrawn",
                                                              "declined", "expired"}  # fmt: skip
    assert {e.actor_name for chain in chains.values() for e in chain} >= {'a"b\\c', "李\n娜", walked.hr_name}
    for chain in chains.values():
        assert verify_chain(chain) == (True, None)
    chain = next(c for c in chains.values() if len(c) >= 3)
    chain[1].actor_name += "x"  # and the verifier does look: an altered event breaks it
    assert verify_chain(chain) == (False, 2)


async def run_demo(config_env: dict[str, str], *args: str) -> list[str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "laborsign", "demo", *args,
        env={**config_env, "PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()[-3000:]
    return out.decode().strip().splitlines()


async def schema_drift(database_url: str) -> list[Any]:
    """What the database's tables, indexes and constraints lack or add against the declared schema."""
    mappings.map_all()
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), metadata))
    finally:
        await engine.dispose()


async def walk_pages(api: Api, path: str, per_page: int, between: Any = None) -> list[str]:
    """Every id of a list, following next_cursor; `between` runs after each page."""
    seen: list[str] = []
    page = await api.get(f"{path}&per_page={per_page}")
    while True:
        seen.extend(item["id"] for item in page["items"])
        if between is not None:
            await between()
        if page["next_cursor"] is None:
            return seen
        page = await api.get(f"{path}&per_page={per_page}&cursor={page['next_cursor']}")


async def test_demo_data_logs_in_pages_counts_and_searches(
    make_api: Any, client: Any, clock: FakeClock, config_env: dict[str, str]
) -> None:
    clock.set(datetime.now(UTC))
    lines = await run_demo(config_env, "--enterprises", "2", "--employees", "80", "--contracts", "240")
    login = json.loads(lines[-1])
    assert set(login) == {"enterprise_id", "hr_phone", "worker_phone"}
    assert "企业 2 家，员工 81 名，合同 242 份" in lines[0], lines[0]
    # The indexes and constraints set aside for the load are all back, as the schema declares them.
    assert await schema_drift(config_env["LABORSIGN_DATABASE__URL"]) == []
    if config_env["LABORSIGN_DATABASE__URL"].startswith("postgresql"):  # vacuumed and analysed at the end
        engine = create_async_engine(config_env["LABORSIGN_DATABASE__URL"])
        try:
            async with engine.connect() as conn:
                done = (await conn.execute(text(
                    "SELECT relname FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL AND last_analyze IS NOT NULL"
                ))).scalars().all()  # fmt: skip
        finally:
            await engine.dispose()
        assert {"contracts", "contract_parties", "contract_events", "employees"} <= set(done)
    told = "\n".join(lines[:-1])
    assert "验证码" in told and f"/api/v1/dev/sms?phone={login['hr_phone']}" in told
    assert any(login["hr_phone"] in line and "HR 登录" in line for line in lines[:-1])
    assert any(login["worker_phone"] in line and "/h5/login" in line for line in lines[:-1])

    hr: Api = await make_api()
    answer = await hr.login(clock, login["hr_phone"])
    assert [e["id"] for e in answer["enterprises"]] == [login["enterprise_id"]]
    assert (await hr.get("/api/v1/enterprise/verification"))["status"] == "verified"
    templates = (await hr.get("/api/v1/templates?scope=enterprise"))["items"]
    assert [t["status"] for t in templates] == ["enabled"]
    assert len((await hr.get("/api/v1/departments"))["items"]) >= 5

    # Every view, paged by cursor: the whole view, once each, in order.
    counts = await check_counts(hr, "/api/v1/contracts")
    assert counts["all"] == 122 and all(counts[v] > 0 for v in VIEWS), counts  # 240 / 2 + 2 walked
    statuses = set()
    for view in VIEWS:
        ids = await walk_pages(hr, f"/api/v1/contracts?view={view}", 7)
        assert len(ids) == len(set(ids)) == counts[view], view
        by_offset: list[str] = []
        for number in range(1, 100):
            page = await hr.get(f"/api/v1/contracts?view={view}&per_page=7&page={number}")
            by_offset.extend(item["id"] for item in page["items"])
            statuses.update(item["status"] for item in page["items"])
            if len(page["items"]) < 7:
                break
        assert by_offset == ids, view
    assert statuses == {"signing", "completed", "withdrawn", "rejected", "expired"}

    # New contracts launched while someone pages through: nothing repeats, nothing is skipped.
    before = await walk_pages(hr, "/api/v1/contracts?view=all", 10)
    employee_id = (await hr.get("/api/v1/employees?status=active&per_page=1"))["items"][0]["id"]
    template = templates[0]["id"]
    launch = {"template_ids": [template], "employee_ids": [employee_id], "confirm_warnings": True,
              "enterprise_party": {"seal_type": "contract"}, "fields": {}}  # fmt: skip
    detail = await hr.get("/api/v1/contracts?view=completed&per_page=1")
    fields = {c["key"]: c["value"] for c in (await hr.get(f"/api/v1/contracts/{detail['items'][0]['id']}"))["controls"]
              if c["filled_by"] == "initiator" and not c["key"].startswith("worker_")}  # fmt: skip
    launch["fields"] = fields
    added: list[str] = []

    async def insert() -> None:
        made = await hr.post("/api/v1/contracts", launch, expect=201)
        added.append(made["contracts"][0]["id"])

    during = await walk_pages(hr, "/api/v1/contracts?view=all", 10, between=insert)
    assert during == before, "a page walk started before the inserts sees exactly the rows there were"
    assert set(added).isdisjoint(during)
    assert (await hr.get("/api/v1/contracts?view=all&per_page=100"))["items"][0]["id"] == added[-1]

    # Search: the start of a worker's name, a phone prefix, a whole ID number.
    deps = client.app[DEPS]
    async with deps.uow() as uow:
        row = (
            await uow.session.execute(
                select(employees).where(employees.c.enterprise_id == login["enterprise_id"],
                                        employees.c.phone != login["worker_phone"],  # a bulk one with contracts
                                        employees.c.id.in_(select(contracts.c.employee_id))).limit(1).offset(5)
            )
        ).mappings().one()  # fmt: skip
    number = deps.cipher.decrypt(row["id_number_enc"], "employees.id_number")
    found = await hr.get(f"/api/v1/employees?q={number}")
    assert [e["id"] for e in found["items"]] == [row["id"]]
    assert [e["id"] for e in (await hr.get(f"/api/v1/employees?q={row['phone']}"))["items"]] == [row["id"]]
    by_prefix = await hr.get(f"/api/v1/employees?q={row['phone'][:10]}&per_page=100")
    assert row["id"] in [e["id"] for e in by_prefix["items"]] and by_prefix["total"] <= 10
    last_four = await hr.get(f"/api/v1/employees?q={row['phone'][-4:]}&per_page=100")
    assert row["id"] in [e["id"] for e in last_four["items"]], "尾号: a phone's last four digits"
    by_name = await hr.get(f"/api/v1/employees?q={row['name']}&per_page=100")
    assert row["id"] in [e["id"] for e in by_name["items"]]
    assert all(e["name"].startswith(row["name"]) for e in by_name["items"])
    roster = await walk_pages(hr, "/api/v1/employees?status=", 9)
    assert len(roster) == len(set(roster)) == (await hr.get("/api/v1/employees?per_page=1"))["total"]

    theirs = await hr.get(f"/api/v1/contracts?q={number}&per_page=100")
    assert theirs["total"] >= 1 and {c["employee_id"] for c in theirs["items"]} == {row["id"]}
    # Each of them shows this worker's own name, phone and ID number, not the walked worker's.
    for item in theirs["items"]:
        shown = {c["key"]: c["value"] for c in (await hr.get(f"/api/v1/contracts/{item['id']}"))["controls"]}
        assert (shown["worker_name"], shown["worker_phone"], shown["worker_id_number"]) == (
            row["name"], row["phone"], number)  # fmt: skip
        assert item["worker_name"] == row["name"]
    by_phone = await hr.get(f"/api/v1/contracts?q={row['phone']}&per_page=100")
    assert {c["id"] for c in by_phone["items"]} == {c["id"] for c in theirs["items"]}
    named = await hr.get(f"/api/v1/contracts?q={row['name'][:1]}&per_page=100")
    assert named["total"] >= theirs["total"]
    assert all(c["worker_name"].startswith(row["name"][:1]) or c["name"].startswith(row["name"][:1])
               for c in named["items"])  # fmt: skip
    assert (await hr.get("/api/v1/contracts?q=不存在的人"))["total"] == 0
    bad = await hr.get("/api/v1/contracts?cursor=@@", expect=422)
    assert "游标" in bad["message"]

    # The app's own reads accept what the demo wrote: details, audit chains, signed PDFs.
    completed = (await hr.get("/api/v1/contracts?view=completed&per_page=3"))["items"]
    for item in completed:
        full = await hr.get(f"/api/v1/contracts/{item['id']}")
        assert [p["status"] for p in full["parties"]] == ["signed", "signed"]
        assert (await hr.get(f"/api/v1/contracts/{item['id']}/events"))["chain_intact"] is True
        report = await deps.pdf.verify(await hr.get(f"/api/v1/contracts/{item['id']}/document.pdf"))
        assert len(report.signatures) == 2 and all(s.intact and s.trusted for s in report.signatures)

    # Each tenant's contracts name their own 甲方 (values, enterprise party, party row) and run
    # their own fixed terms, which the home page's expiry chart counts.
    async with deps.uow() as uow:
        made = (await uow.session.execute(
            select(contracts.c.id, contracts.c.enterprise_id, contracts.c.status, contracts.c["values"],
                   contracts.c.enterprise_party, enterprises.c.name, enterprises.c.credit_code, parties.c.name.label("party"),
                   contract_terms.c.start_date, contract_terms.c.end_date, employees.c.status.label("employee"))
            .join(enterprises, enterprises.c.id == contracts.c.enterprise_id)
            .join(parties, (parties.c.contract_id == contracts.c.id) & (parties.c.role == "enterprise"))
            .join(employees, employees.c.id == contracts.c.employee_id)
            .outerjoin(contract_terms, contract_terms.c.contract_id == contracts.c.id)
        )).all()  # fmt: skip
    assert len({row.name for row in made}) == 2 and len(made) == 242 + len(added)
    for row in made:
        named = (row.name, row.credit_code)
        assert (row.values["enterprise_name"], row.values["enterprise_credit_code"]) == named, row.id
        assert (row.enterprise_party["name"], row.enterprise_party["credit_code"]) == named, row.id
        assert row.party == row.name, row.id
        assert row.end_date is not None, row.id
        assert (row.values["contract_start_date"], row.values["contract_end_date"]) == (
            row.start_date.isoformat(), row.end_date.isoformat())  # fmt: skip
    today = china_time(clock.now()).date()
    due = [row for row in made if row.enterprise_id == login["enterprise_id"] and row.employee == "active"
           and row.status == "completed" and today <= row.end_date <= today + timedelta(days=CHART_DAYS)]  # fmt: skip
    summary = await hr.get("/api/v1/dashboard/summary")
    assert sum(week["count"] for week in summary["expiries_by_week"]) == len(due)
    assert len({row.end_date for row in made if row.end_date}) > 20, "the terms end over the coming years"

    worker: Api = await make_api()
    await worker.login(clock, login["worker_phone"], side="worker")
    mine = await check_counts(worker, "/api/v1/me/contracts")
    assert mine["awaiting_me"] == 1 + len(added) and mine["completed"] == 1  # the walk signed one


async def test_a_failed_bulk_load_still_gets_its_indexes_and_constraints_back(
    database_url: str, client: Any
) -> None:
    engine = create_async_engine(database_url)

    async def index_names() -> set[str]:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: {i["name"] for i in inspect(c).get_indexes("contracts")})

    try:
        with pytest.raises(Exception, match=r"(?i)null"):
            async with secondary_indexes_later(engine, BULK_TABLES):
                assert "ix_contracts_enterprise_created" not in await index_names()
                async with engine.begin() as conn:  # a party of no contract: refused mid-load
                    await Loader(conn).load_tuples(
                        parties, [[new_id(), None, "worker", "王伟", "pending", None, None, None, None]]
                    )
        assert "ix_contracts_enterprise_created" in await index_names()
    finally:
        await engine.dispose()
    assert await schema_drift(database_url) == []


async def test_demo_refuses_an_install_without_the_development_providers(config_env: dict[str, str]) -> None:
    env = {**config_env, "LABORSIGN_IDENTITY__CARRIER_PROVIDER": "disabled", "PATH": "/usr/bin:/bin"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "laborsign", "demo", "--contracts", "10",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 1 and out == b""
    assert "identity.carrier_provider" in err.decode() and "示例数据" in err.decode()


async def test_upgrading_an_existing_database_sets_the_flags_from_the_parties(
    api: Api, make_api: Any, client: Any, clock: FakeClock, database_url: str
) -> None:
    from alembic import command
    from sqlalchemy import inspect
    from sqlalchemy.ext.asyncio import create_async_engine

    from laborsign.storage.db import alembic_config

    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=FORM["phone"])
    ids = [
        (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
        for _ in "abc"
    ]
    worker: Api = world["worker"]
    started = await worker.post(
        f"/api/v1/me/contracts/{ids[0]}/signature",
        {"signature_png": signature_png(), "fields": {"bank_account": "6222020000000000"}},
        expect=201,
    )
    code = (await worker.get(f"/api/v1/dev/sms?phone={FORM['phone']}"))["items"][0]["code"]
    await worker.post(f"/api/v1/signing-sessions/{started['id']}/confirm", {"code": code}, expect=200)
    await api.post(f"/api/v1/contracts/{ids[1]}/withdraw", {"reason": "岗位调整"}, expect=200)
    await client.app[DEPS].db.engine.dispose()

    engine = create_async_engine(database_url)
    async with engine.begin() as conn:  # back to before 0013, then up again: the backfill runs
        await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0011"))
        columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("contracts")})
        assert "awaiting_worker" not in columns and "awaiting_enterprise" not in columns
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "heads"))
    await engine.dispose()
    assert [await flags(client, cid) for cid in ids] == [(False, True), (False, False), (True, True)]
    counts = await check_counts(api, "/api/v1/contracts")
    assert counts == {"all": 3, "awaiting_me": 2, "awaiting_others": 0, "completed": 0}
