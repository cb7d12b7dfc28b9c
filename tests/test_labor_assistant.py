"""The labor-law assistant over HTTP on both databases (issue 13): contract terms as data, the
checks before anything is sent, and the deadline alerts HR sees and is told of once."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock, china_time
from laborsign.core.identity_rules import resident_id_check_char
from laborsign.core.services.labor import notify_alerts
from laborsign.storage.contracts import contracts, parties
from laborsign.storage.counters import recount
from tests.conftest import Api
from tests.test_contracts import mark_verified, setup_contract_world
from tests.test_onboarding import FORM, onboard
from tests.test_templates import CONTROLS, upload

TERM_CONTROLS = [
    {"key": k, "label": label, "kind": kind, "file": 0, "page": 2, "x": 60, "y": 100 + 30 * i, "width": 150,
     "height": 20, "required": False, "filled_by": "initiator"}
    for i, (k, label, kind) in enumerate([
        ("contract_start_date", "合同开始日期", "date"), ("contract_end_date", "合同终止日期", "date"),
        ("probation_end_date", "试用期截止日期", "date"), ("monthly_wage", "月工资", "number"),
        ("probation_wage", "试用期工资", "number"), ("work_place", "工作地点", "text"),
    ])
]  # fmt: skip


async def term_world(
    api: Api, make_api: Any, client: Any, clock: FakeClock, type_: str = "fixed_term"
) -> dict[str, Any]:
    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"])
    template = await upload(api, name="固定期限劳动合同", type_=type_)
    await api.call(
        "PUT",
        f"/api/v1/templates/{template['id']}/controls",
        {"controls": CONTROLS + TERM_CONTROLS},
        expect=200,
    )
    await api.post(f"/api/v1/templates/{template['id']}/enable", expect=200)
    return {**world, "template": template}


def body(world: dict[str, Any], employee_ids: list[str] | None = None, **fields: str) -> dict[str, Any]:
    legal = {
        "salary": "6000", "position": "技工", "contract_start_date": "2027-01-01", "contract_end_date": "2029-12-31",
        "probation_end_date": "2027-02-28", "monthly_wage": "6000", "probation_wage": "4800", "work_place": "广州市天河区",
    }  # fmt: skip
    return {
        "template_ids": [world["template"]["id"]],
        "employee_ids": employee_ids or [world["employee_id"]],
        "enterprise_party": {"seal_type": "contract"},
        "fields": {k: v for k, v in {**legal, **fields}.items() if v != ""},
    }


async def codes_of(api: Api, launch: dict[str, Any]) -> tuple[list[str], list[str]]:
    answer = await api.post("/api/v1/contracts/check", launch, expect=200)
    worker = answer["workers"][0]
    assert all(w["message"] and "article" in w for w in worker["warnings"])
    return [e["code"] for e in worker["errors"]], sorted(w["code"] for w in worker["warnings"])


async def sms_to_worker(api: Api) -> list[dict[str, Any]]:
    return [
        m for m in (await api.get(f"/api/v1/dev/sms?phone={FORM['phone']}"))["items"] if "签署" in m["text"]
    ]


async def test_terms_are_data_on_the_contract(api: Api, make_api: Any, client: Any, clock: FakeClock) -> None:
    world = await term_world(api, make_api, client, clock)
    assert await codes_of(api, body(world)) == ([], [])
    launched = await api.post("/api/v1/contracts", body(world), expect=201)
    cid = launched["contracts"][0]["id"]
    term = (await api.get(f"/api/v1/contracts/{cid}"))["term"]
    assert term == {
        "type": "fixed", "type_label": "固定期限", "start_date": "2027-01-01", "end_date": "2029-12-31",
        "probation_end_date": "2027-02-28", "monthly_wage": "6000.00", "probation_wage": "4800.00",
        "position": "技工", "work_place": "广州市天河区",
    }  # fmt: skip
    # The older free key (salary) still says the wage; a type chosen at launch wins over the template's.
    old_keys = body(world, monthly_wage="", probation_end_date="", probation_wage="")
    old_keys["term_type"] = "open_ended"
    old_keys["confirm_warnings"] = True
    second = await api.post("/api/v1/contracts", old_keys, expect=201)
    term = (await api.get(f"/api/v1/contracts/{second['contracts'][0]['id']}"))["term"]
    assert (term["type"], term["monthly_wage"], term["probation_end_date"]) == ("open_ended", "6000.00", None)
    bad = await api.post("/api/v1/contracts/check", {**body(world), "term_type": "forever"}, expect=422)
    assert "term_type" in bad["fields"]


async def test_each_illegal_term_is_refused_before_anything_is_sent(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await term_world(api, make_api, client, clock)
    # The issue's case: 2,300 yuan and 1,500 yuan in probation, Guangzhou's minimum is 2,500.
    low = body(world, monthly_wage="2300", probation_wage="1500")
    assert await codes_of(api, low) == ([], ["probation_wage_too_low", "wage_below_minimum"])
    refused = await api.post("/api/v1/contracts", low, expect=409)
    assert refused["error"] == "labor_law_warnings" and refused["message"]
    warned = refused["workers"][0]
    assert warned["employee_id"] == world["employee_id"]
    assert {w["article"] for w in warned["warnings"]} == {"《劳动合同法》第二十条", "《劳动法》第四十八条"}
    assert any("2500" in w["message"] and "广州市" in w["message"] for w in warned["warnings"])
    assert (await api.get("/api/v1/contracts"))["total"] == 0 and await sms_to_worker(api) == []

    # Probation longer than the term allows: under a year → one month at most.
    assert (await codes_of(api, body(world, contract_end_date="2027-09-30")))[1] == ["probation_too_long"]
    assert (await codes_of(api, body(world, contract_end_date="2027-02-15")))[1] == ["probation_too_long"]
    # Probation wage under 80 % of the wage, though above the minimum.
    assert (await codes_of(api, body(world, probation_wage="4700")))[1] == ["probation_wage_too_low"]
    # No probation at all on part-time (Art. 70) or task-based (Art. 19) work.
    part_time = {**body(world, contract_end_date=""), "term_type": "part_time"}
    assert (await codes_of(api, part_time))[1] == ["probation_not_allowed"]
    task = {**body(world, contract_end_date=""), "term_type": "task_based"}
    assert (await codes_of(api, task))[1] == ["probation_not_allowed"]
    # The minimum in force on the start date: Guangzhou was 2,300 before 2025-03-01; Shenzhen's is 2,520.
    assert (await codes_of(api, body(world, contract_start_date="2025-02-01", probation_end_date="", monthly_wage="2400", probation_wage="")))[1] == []  # fmt: skip
    assert (await codes_of(api, body(world, contract_start_date="2025-03-01", probation_end_date="", monthly_wage="2400", probation_wage="")))[1] == ["wage_below_minimum"]  # fmt: skip
    assert (await codes_of(api, body(world, probation_end_date="", monthly_wage="2510", probation_wage="", work_place="深圳市南山区")))[1] == ["wage_below_minimum"]  # fmt: skip
    # Errors make a launch impossible: end before start, a worker under 16.
    assert (await codes_of(api, body(world, contract_end_date="2026-12-01")))[0] == ["end_before_start"]

    # Confirmed, the same launch goes out; then a second probation with the same employer warns.
    confirmed = await api.post("/api/v1/contracts", {**low, "confirm_warnings": True}, expect=201)
    assert len(confirmed["contracts"]) == 1 and len(await sms_to_worker(api)) == 1
    assert (await codes_of(api, body(world)))[1] == ["second_probation"]
    assert (await codes_of(api, body(world, probation_end_date="", probation_wage="")))[1] == []


async def test_reinitiating_checks_the_law_again(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    """重新发起 through the API: the same contract is not sent again until HR confirms what the
    law says of it, as with a launch."""
    world = await term_world(api, make_api, client, clock)
    low = body(world, monthly_wage="2300", probation_wage="", probation_end_date="", salary="2300")
    first = await api.post("/api/v1/contracts", {**low, "confirm_warnings": True}, expect=201)
    cid = first["contracts"][0]["id"]
    await api.post(f"/api/v1/contracts/{cid}/withdraw", {"reason": "工资填写有误"}, expect=200)
    told = len(await sms_to_worker(api))

    refused = await api.post(f"/api/v1/contracts/{cid}/reinitiate", expect=409)
    assert refused["error"] == "labor_law_warnings"
    assert [w["code"] for w in refused["workers"][0]["warnings"]] == ["wage_below_minimum"]
    assert (await api.get("/api/v1/contracts"))["total"] == 1 and len(await sms_to_worker(api)) == told

    again = await api.post(f"/api/v1/contracts/{cid}/reinitiate", {"confirm_warnings": True}, expect=201)
    fresh = await api.get(f"/api/v1/contracts/{again['id']}")
    assert fresh["status"] == "signing" and fresh["reinitiated_from"] == cid
    assert fresh["term"]["monthly_wage"] == "2300.00"


def upload_meta(world: dict[str, Any], **fields: str) -> dict[str, Any]:
    """An upload launch's meta with the same term fields as body() (blank ones left out)."""
    legal = {k: v for k, v in body(world)["fields"].items() if k != "salary"}
    return {
        "name": "上传的劳动合同",
        "employee_ids": [world["employee_id"]],
        "enterprise_party": {"seal_type": "contract"},
        "placements": [
            {"party": "worker", "file": 0, "page": 1, "x": 320, "y": 700, "width": 150, "height": 60},
            {"party": "enterprise", "file": 0, "page": 1, "x": 80, "y": 640, "width": 120, "height": 120},
        ],
        "fields": {k: v for k, v in {**legal, **fields}.items() if v != ""},
    }


async def send_upload(api: Api, meta: dict[str, Any], expect: int) -> Any:
    import json

    import aiohttp

    from tests.pdfs import make_pdf

    form = aiohttp.FormData()
    form.add_field("file", make_pdf(1), filename="合同.pdf", content_type="application/pdf")
    form.add_field("meta", json.dumps(meta, ensure_ascii=False))
    return await api.call("POST", "/api/v1/contracts/upload", data=form, expect=expect)


async def test_an_uploaded_pdf_carries_its_term_and_is_checked_like_a_template(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await term_world(api, make_api, client, clock)
    assert await codes_of(api, upload_meta(world)) == ([], [])
    # The issue's case again, from an upload: refused with the same codes, nothing stored or sent.
    low = upload_meta(world, monthly_wage="2300", probation_wage="1500")
    assert await codes_of(api, low) == ([], ["probation_wage_too_low", "wage_below_minimum"])
    refused = await send_upload(api, low, 409)
    assert refused["error"] == "labor_law_warnings"
    assert sorted(w["code"] for w in refused["workers"][0]["warnings"]) == ["probation_wage_too_low", "wage_below_minimum"]  # fmt: skip
    assert (await api.get("/api/v1/contracts"))["total"] == 0 and await sms_to_worker(api) == []
    # Each kind of illegal term, as for a template launch.
    part_time = {**upload_meta(world, contract_end_date=""), "term_type": "part_time"}
    assert (await codes_of(api, part_time))[1] == ["probation_not_allowed"]
    assert (await codes_of(api, upload_meta(world, contract_end_date="2027-09-30")))[1] == [
        "probation_too_long"
    ]
    bad = await api.post("/api/v1/contracts/check", upload_meta(world, monthly_wage="六千"), expect=422)
    assert "fields.monthly_wage" in bad["fields"] and "数字" in bad["message"]
    bad = await send_upload(api, {**upload_meta(world), "term_type": "forever"}, 422)
    assert "term_type" in bad["fields"]
    # An error blocks the worker's contract: end before start.
    ended = await send_upload(api, upload_meta(world, contract_end_date="2026-12-01"), 201)
    assert ended["contracts"] == [] and ended["failed"][0]["error"] == "end_before_start"
    assert (await api.get("/api/v1/contracts"))["total"] == 0

    confirmed = await send_upload(api, {**low, "confirm_warnings": True}, 201)
    assert len(confirmed["contracts"]) == 1 and len(await sms_to_worker(api)) == 1
    assert {w["code"] for w in confirmed["warnings"]} == {"probation_wage_too_low", "wage_below_minimum"}
    detail = await api.get(f"/api/v1/contracts/{confirmed['contracts'][0]['id']}")
    assert detail["source"] == "upload" and detail["term"] == {
        "type": "fixed", "type_label": "固定期限", "start_date": "2027-01-01", "end_date": "2029-12-31",
        "probation_end_date": "2027-02-28", "monthly_wage": "2300.00", "probation_wage": "1500.00",
        "position": "技工", "work_place": "广州市天河区",
    }  # fmt: skip
    # The platform now knows of the probation: a second one with the same employer warns.
    assert (await codes_of(api, upload_meta(world)))[1] == ["second_probation"]
    # Without any term the PDF goes out as before, its term empty.
    bare = await send_upload(api, {**upload_meta(world), "fields": {}}, 201)
    term = (await api.get(f"/api/v1/contracts/{bare['contracts'][0]['id']}"))["term"]
    assert term["type"] is None and term["start_date"] is None and term["monthly_wage"] is None


def _id_number(birth: str, seq: int) -> str:
    first17 = f"440101{birth.replace('-', '')}{seq * 2 + 1:03d}"  # odd: male, as FORM
    return first17 + resident_id_check_char(first17)


async def hire(
    api: Api, make_api: Any, clock: FakeClock, name: str, phone: str, seq: int, hired: date
) -> str:
    worker = await make_api()
    form = {
        **FORM,
        "name": name,
        "phone": phone,
        "id_number": _id_number("1992-05-06", seq),
        "birth_date": "1992-05-06",
    }
    record = await onboard(api, worker, clock, form)
    approved = await api.post(
        f"/api/v1/onboarding/{record['id']}/approve", {"hire_date": hired.isoformat()}, expect=200
    )
    return str(approved["employee_id"])


async def complete(client: Any, contract_id: str) -> None:
    """Precondition: both parties signed (signing itself is tested in test_contracts)."""
    deps = client.app[DEPS]
    async with deps.uow() as uow:
        now = deps.clock.now()
        await uow.session.execute(
            update(contracts)
            .where(contracts.c.id == contract_id)
            # as the completing transition leaves them: nobody is awaited any more
            .values(status="completed", completed_at=now, awaiting_worker=False, awaiting_enterprise=False)
        )
        await uow.session.execute(
            update(parties).where(parties.c.contract_id == contract_id).values(status="signed", signed_at=now)
        )
        # Written around the domain objects: the tenant's counters and coverage are rebuilt, as
        # after any such write (storage/counters.py).
        tenant = (
            await uow.session.execute(select(contracts.c.enterprise_id).where(contracts.c.id == contract_id))
        ).scalar_one()
        await uow.session.run_sync(lambda session: recount(session, [tenant]))
        await uow.commit()


async def test_deadline_alerts_and_hr_told_once(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await term_world(api, make_api, client, clock)
    today = china_time(clock.now()).date()
    three = await hire(api, make_api, clock, "李三", "13700000003", 3, today - timedelta(days=3))
    twenty_five = await hire(api, make_api, clock, "赵二五", "13700000025", 25, today - timedelta(days=25))
    forty = await hire(api, make_api, clock, "钱四十", "13700000040", 40, today - timedelta(days=40))
    items = (await api.get("/api/v1/alerts?kind=no_written_contract"))["items"]
    by_employee = {a["employee_id"]: a for a in items}
    assert three not in by_employee
    soon, late = by_employee[twenty_five], by_employee[forty]
    hired25 = today - timedelta(days=25)
    due = date.fromisoformat(soon["due_date"])  # the hire date plus one month
    assert 28 <= (due - hired25).days <= 31 and soon["days_left"] == (due - today).days
    assert (
        soon["days_left"] > 0
        and "二倍工资" not in soon["message"]
        and soon["article"] == "《劳动合同法》第十条、第八十二条"
    )
    assert late["days_left"] < 0 and "二倍工资" in late["message"] and late["employee_name"] == "钱四十"

    # A completed fixed-term contract ending in 20 days; a probation ending in 5.
    ending = body(world, contract_start_date=(today - timedelta(days=345)).isoformat(),
                  contract_end_date=(today + timedelta(days=20)).isoformat(),
                  probation_end_date=(today + timedelta(days=5)).isoformat())  # fmt: skip
    launched = await api.post("/api/v1/contracts", {**ending, "confirm_warnings": True}, expect=201)
    cid = launched["contracts"][0]["id"]
    assert not [a for a in (await api.get("/api/v1/alerts?kind=renewal_due"))["items"]], "only once signed"
    await complete(client, cid)
    renewal = (await api.get("/api/v1/alerts?kind=renewal_due"))["items"]
    assert [(a["contract_id"], a["days_left"], a["employee_id"]) for a in renewal] == [
        (cid, 20, world["employee_id"])
    ]
    probation = (await api.get("/api/v1/alerts?kind=probation_ending"))["items"]
    assert [(a["contract_id"], a["days_left"]) for a in probation] == [(cid, 5)]
    assert world["employee_id"] not in {
        a["employee_id"] for a in (await api.get("/api/v1/alerts?kind=no_written_contract"))["items"]
    }

    # Renewal: same worker, same templates, the new term checked like any launch.
    end = today + timedelta(days=20)
    new_term = {"contract_start_date": (end + timedelta(days=1)).isoformat(), "contract_end_date": (end + timedelta(days=3 * 365)).isoformat()}  # fmt: skip
    kept = await api.post(f"/api/v1/contracts/{cid}/renew", {"fields": new_term}, expect=201)
    assert kept["contracts"] == [] and kept["failed"][0]["error"] == "probation_before_start", (
        "the old probation stays"
    )
    again = {**new_term, "probation_end_date": (end + timedelta(days=30)).isoformat()}
    refused = await api.post(f"/api/v1/contracts/{cid}/renew", {"fields": again}, expect=409)
    assert [w["code"] for w in refused["workers"][0]["warnings"]] == ["second_probation"]
    renewed = await api.post(
        f"/api/v1/contracts/{cid}/renew", {"fields": {**new_term, "probation_end_date": ""}}, expect=201
    )
    new_id = renewed["contracts"][0]["id"]
    assert renewed["contracts"][0]["employee_id"] == world["employee_id"]
    new_detail = await api.get(f"/api/v1/contracts/{new_id}")
    assert (
        new_detail["term"]["end_date"] == new_term["contract_end_date"]
        and new_detail["term"]["monthly_wage"] == "6000.00"
    )
    assert [a["contract_id"] for a in (await api.get("/api/v1/alerts?kind=renewal_due"))["items"]] == [cid], (
        "until signed"
    )
    await complete(client, new_id)
    assert (await api.get("/api/v1/alerts?kind=renewal_due"))["items"] == []
    await api.post(f"/api/v1/contracts/{'0' * 32}/renew", {"fields": new_term}, expect=404)

    # Two completed fixed-term contracts: the next must be open-ended when the worker asks.
    earlier = body(world, employee_ids=[forty], contract_start_date=(today - timedelta(days=800)).isoformat(),
                   contract_end_date=(today - timedelta(days=400)).isoformat(), probation_end_date="", probation_wage="")  # fmt: skip
    later = body(world, employee_ids=[forty], contract_start_date=(today - timedelta(days=399)).isoformat(),
                 contract_end_date=(today + timedelta(days=60)).isoformat(), probation_end_date="", probation_wage="")  # fmt: skip
    # Two fixed terms a year apart are not concluded one after the other: no count.
    apart = [
        body(world, employee_ids=[three], contract_start_date=(today - timedelta(days=start)).isoformat(),
             contract_end_date=(today - timedelta(days=end)).isoformat(), probation_end_date="", probation_wage="")
        for start, end in ((1500, 1100), (700, -100))
    ]  # fmt: skip
    for launch in (earlier, later, *apart):
        made = await api.post("/api/v1/contracts", {**launch, "confirm_warnings": True}, expect=201)
        await complete(client, made["contracts"][0]["id"])
    open_ended = (await api.get("/api/v1/alerts?kind=open_ended_due"))["items"]
    # 王五 too: the renewal was his second completed fixed-term contract.
    assert {(a["employee_id"], a["due_date"], a["article"]) for a in open_ended} == {
        (forty, (today + timedelta(days=60)).isoformat(), "《劳动合同法》第十四条"),
        (world["employee_id"], new_term["contract_end_date"], "《劳动合同法》第十四条"),
    }
    await api.get("/api/v1/alerts?kind=whatever", expect=422)
    await api.call("PATCH", f"/api/v1/employees/{three}", {"hire_date": "9999-12-31"}, expect=200)
    assert three not in {a["employee_id"] for a in (await api.get("/api/v1/alerts"))["items"]}

    # The daily job tells HR once per alert, however often (and by however many processes) it runs.
    every = (await api.get("/api/v1/alerts"))["items"]
    deps = client.app[DEPS]
    # Two passes at once (as two processes would run them) tell each alert once between them.
    both = await asyncio.gather(notify_alerts(deps), notify_alerts(deps))
    assert sum(both) == len(every) >= 3
    assert await notify_alerts(deps) == 0
    hr_sms = [
        m
        for m in (await api.get("/api/v1/dev/sms?phone=13800138000"))["items"]
        if "《劳动合同法》" in m["text"]
    ]
    assert len(hr_sms) == len(every) and any(
        "赵二五" in m["text"] and "书面劳动合同" in m["text"] for m in hr_sms
    )


async def test_resignation_issues_a_sealed_certificate(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    world = await term_world(api, make_api, client, clock)
    worker: Api = world["worker"]
    employee_id = world["employee_id"]
    today = china_time(clock.now()).date()
    await api.call("PATCH", f"/api/v1/employees/{employee_id}", {"hire_date": (today - timedelta(days=800)).isoformat()}, expect=200)  # fmt: skip
    first = await api.post("/api/v1/contracts", body(world, probation_end_date="", probation_wage="", contract_start_date=(today - timedelta(days=800)).isoformat(), contract_end_date=(today + timedelta(days=300)).isoformat()), expect=201)  # fmt: skip
    await complete(client, first["contracts"][0]["id"])
    pending = await api.post("/api/v1/contracts", {**body(world), "confirm_warnings": True}, expect=201)
    pending_id = pending["contracts"][0]["id"]

    await api.post(f"/api/v1/employees/{employee_id}/resignation", {"reason": "个人发展"}, expect=200)
    bad = await api.post(f"/api/v1/employees/{employee_id}/resignation/confirm", {"handover_to": "李四", "reason_type": "quit"}, expect=422)  # fmt: skip
    assert "reason_type" in bad["fields"]
    assert (await api.get(f"/api/v1/employees/{employee_id}"))["status"] == "resigning", "nothing changed"
    answer = await api.post(
        f"/api/v1/employees/{employee_id}/resignation/confirm",
        {"handover_to": "李四", "last_day": today.isoformat(), "reason_type": "mutual_agreement"},
        expect=200,
    )
    assert answer["status"] == "resigned"
    cert_id = answer["certificate_contract_id"]
    withdrawn = await api.get(f"/api/v1/contracts/{pending_id}")
    assert (
        withdrawn["status"] == "withdrawn"
        and "离职" in withdrawn["ended_reason"]
        and "协商一致" in withdrawn["ended_reason"]
    )

    cert = await api.get(f"/api/v1/contracts/{cert_id}")
    assert cert["name"] == "解除（终止）劳动合同证明" and cert["status"] == "signing"
    assert [p["role"] for p in cert["parties"]] == ["enterprise"], "only the enterprise seals it"
    text = (
        PdfReader(BytesIO(await api.get(f"/api/v1/contracts/{cert_id}/document.pdf"))).pages[0].extract_text()
    )
    for fact in ("王五", "技工", "协商一致", f"{today.year}年{today.month}月{today.day}日", "工作年限为2年"):
        assert fact in text, fact

    session = await api.post("/api/v1/signing-sessions", {"contract_ids": [cert_id], "seal_id": world["seal"]["id"], "intent_method": "sms"}, expect=201)  # fmt: skip
    code = (await api.get("/api/v1/dev/sms?phone=13800138000"))["items"][0]["code"]
    assert (await api.post(f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": code}, expect=200))["signed"] == [cert_id]  # fmt: skip
    assert (await api.get(f"/api/v1/contracts/{cert_id}"))["status"] == "completed"

    # The worker is told and finds it among their contracts, sealed by the enterprise.
    told = (await api.get(f"/api/v1/dev/sms?phone={FORM['phone']}"))["items"][0]
    assert (
        f"/h5/contracts/{cert_id}" in told["text"]
        and "已为您出具《解除（终止）劳动合同证明》" in told["text"]
    )
    mine = await worker.get("/api/v1/me/contracts?view=completed")
    assert cert_id in [c["id"] for c in mine["items"]]
    pdf = await worker.get(f"/api/v1/contracts/{cert_id}/document.pdf")
    report = await client.app[DEPS].pdf.verify(pdf)
    assert [s.signer for s in report.signatures] == ["广州测试科技有限公司"]
    assert (
        report.signatures[0].intact
        and report.signatures[0].trusted
        and report.signatures[0].covers_whole_document
    )
