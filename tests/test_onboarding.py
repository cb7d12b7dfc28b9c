"""Invitations, the worker's onboarding form, HR review and the roster, over HTTP."""

from __future__ import annotations

import io
from typing import Any

import aiohttp
from openpyxl import Workbook, load_workbook

from laborsign.core.clock import FakeClock
from tests.conftest import Api

WORKER = "13700137000"
FORM = {
    "name": "王五",
    "gender": "male",
    "id_type": "resident_id",
    "id_number": "44010119900307123X",
    "birth_date": "1990-03-07",
    "phone": WORKER,
    "address": "广州市天河区体育西路100号",
    "emergency_contact": {"name": "王大", "relation": "父母", "phone": "13600136000"},
}


async def onboard(
    hr: Api, worker: Api, clock: FakeClock, form: dict[str, Any] | None = None
) -> dict[str, Any]:
    """HR shares the link; the worker logs in, submits; returns the record answer."""
    link = await hr.get("/api/v1/invite-link")
    info = await worker.get(f"/api/v1/join/{link['token']}")
    assert info["enterprise"]["name"]
    if worker.csrf is None:
        await worker.login(clock, (form or FORM)["phone"], side="worker")
    return await worker.post(f"/api/v1/join/{link['token']}/onboarding", form or FORM, expect=201)


async def test_invite_form_review_roster(api: Api, make_api: Any, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    dept = await api.post("/api/v1/departments", {"name": "生产部"}, expect=201)
    link = await api.get("/api/v1/invite-link")
    assert link["url"].endswith(f"/h5/join/{link['token']}")
    qr = await api.get(link["qr_png"])
    assert qr[:8] == b"\x89PNG\r\n\x1a\n"

    worker = await make_api()
    await worker.login(clock, WORKER, side="worker")
    bad = await worker.post(
        f"/api/v1/join/{link['token']}/onboarding",
        {**FORM, "birth_date": "1991-01-01", "address": ""},
        expect=422,
    )
    assert bad["fields"]["birth_date"] == "出生日期与身份证号码不一致" and "address" in bad["fields"]
    record = await worker.post(f"/api/v1/join/{link['token']}/onboarding", FORM, expect=201)
    assert record["status"] == "pending_review"
    again = await worker.post(f"/api/v1/join/{link['token']}/onboarding", FORM, expect=409)
    assert again["error"] == "onboarding_pending"
    mine = await worker.get("/api/v1/me/onboarding")
    assert mine["items"][0]["status_label"] == "待审核" and mine["items"][0]["enterprise_name"]
    detail = await worker.get(f"/api/v1/me/onboarding/{record['id']}")
    assert detail["id_number"] == FORM["id_number"], "the owner reads the full record"

    listed = await api.get("/api/v1/onboarding?status=pending_review")
    assert listed["total"] == 1 and listed["items"][0]["id_number_masked"] == "4401**********123X"
    assert "id_number" not in listed["items"][0]
    await api.call(
        "PATCH", f"/api/v1/onboarding/{record['id']}", {"address": "广州市海珠区新港中路1号"}, expect=200
    )
    await api.call(
        "PATCH", f"/api/v1/onboarding/{record['id']}", {"name": "改名"}, expect=200
    )  # ignored: not correctable
    approved = await api.post(
        f"/api/v1/onboarding/{record['id']}/approve",
        {"department_id": dept["id"], "hire_date": "2026-12-01"},
        expect=200,
    )
    assert approved["status"] == "approved"
    await api.call("PATCH", f"/api/v1/onboarding/{record['id']}", {"address": "x市y区z路"}, expect=409)
    await api.post(f"/api/v1/onboarding/{record['id']}/reject", {"reason": "迟了"}, expect=409)
    inbox = await api.get(f"/api/v1/dev/sms?phone={WORKER}")
    assert "审核通过" in inbox["items"][0]["text"]

    roster = await api.get(f"/api/v1/employees?status=active&department_id={dept['id']}")
    assert roster["total"] == 1
    employee = roster["items"][0]
    assert employee["id"] == approved["employee_id"] and employee["department_name"] == "生产部"
    assert employee["hire_date"] == "2026-12-01" and employee["phone_masked"] == "137****7000"
    full = await api.get(f"/api/v1/employees/{employee['id']}")
    assert full["address"] == "广州市海珠区新港中路1号"


async def test_reject_and_resubmit(api: Api, make_api: Any, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    worker = await make_api()
    record = await onboard(api, worker, clock)
    await api.post(f"/api/v1/onboarding/{record['id']}/reject", {"reason": ""}, expect=422)
    await api.post(f"/api/v1/onboarding/{record['id']}/reject", {"reason": "身份证照片不清晰"}, expect=200)
    inbox = await api.get(f"/api/v1/dev/sms?phone={WORKER}")
    assert "身份证照片不清晰" in inbox["items"][0]["text"]
    link = await api.get("/api/v1/invite-link")
    await worker.post(f"/api/v1/join/{link['token']}/onboarding", FORM, expect=201)


async def test_departments_and_resignation(api: Api, make_api: Any, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    root = await api.post("/api/v1/departments", {"name": "制造中心"}, expect=201)
    child = await api.post("/api/v1/departments", {"name": "一车间", "parent_id": root["id"]}, expect=201)
    await api.call("PATCH", f"/api/v1/departments/{root['id']}", {"parent_id": child["id"]}, expect=422)
    await api.call("PATCH", f"/api/v1/departments/{child['id']}", {"name": "冲压车间"}, expect=200)
    refused = await api.call("DELETE", f"/api/v1/departments/{root['id']}", expect=409)
    assert refused["error"] == "department_not_empty"
    worker = await make_api()
    record = await onboard(api, worker, clock)
    approved = await api.post(
        f"/api/v1/onboarding/{record['id']}/approve", {"department_id": child["id"]}, expect=200
    )
    eid = approved["employee_id"]
    in_tree = await api.get(f"/api/v1/employees?department_id={root['id']}")
    assert in_tree["total"] == 1, "filtering by a department includes its sub-departments"
    await api.post(f"/api/v1/employees/{eid}/department", {"department_id": root["id"]}, expect=200)
    await api.post(f"/api/v1/employees/{eid}/resignation/confirm", {"handover_to": "李四"}, expect=409)
    await api.post(f"/api/v1/employees/{eid}/resignation", {"remark": "无"}, expect=422)
    resigning = await api.post(f"/api/v1/employees/{eid}/resignation", {"reason": "个人原因"}, expect=200)
    assert resigning["status"] == "resigning" and resigning["status_label"] == "待确认离职"
    await api.post(f"/api/v1/employees/{eid}/resignation", {"reason": "个人原因"}, expect=409)
    done = await api.post(
        f"/api/v1/employees/{eid}/resignation/confirm",
        {"handover_to": "李四", "remark": "已交接"},
        expect=200,
    )
    assert done["status"] == "resigned" and done["handover_to"] == "李四"
    assert (await api.get("/api/v1/employees?status=active"))["total"] == 0
    await api.call("DELETE", f"/api/v1/departments/{child['id']}", expect=204)


async def test_sms_invitation(api: Api, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    invitation = await api.post("/api/v1/invitations", {"name": "赵六", "phone": "13500135000"}, expect=201)
    assert invitation["status"] == "sent"
    sms = await api.get("/api/v1/dev/sms?phone=13500135000")
    assert "/h5/join/" in sms["items"][0]["text"] and "赵六" in sms["items"][0]["text"]
    again = await api.post("/api/v1/invitations", {"name": "赵六", "phone": "13500135000"}, expect=409)
    assert again["error"] == "already_invited"
    await api.post("/api/v1/invitations", {"name": "", "phone": "123"}, expect=422)


def xlsx(rows: list[list[Any]], header: list[str] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header or ["姓名", "手机号", "部门"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def upload(api: Api, data: bytes, filename: str = "邀请.xlsx") -> Any:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=filename)
    return await api.call("POST", "/api/v1/invitations/batch", data=form)


async def test_bulk_invitations(api: Api, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    await api.post("/api/v1/departments", {"name": "生产部"}, expect=201)
    await api.post("/api/v1/invitations", {"name": "已邀请", "phone": "13500135000"}, expect=201)
    template = await api.get("/api/v1/invitations/template.xlsx")
    sheet = load_workbook(io.BytesIO(template)).active
    assert [c.value for c in sheet[1]][:3] == ["姓名", "手机号", "部门"]

    bad = await upload(api, xlsx([
        ["张三", "13800138001", "生产部"], ["", "13800138002", ""], ["李四", "1380013", ""],
        ["王五", "13800138001", ""], ["赵六", "13500135000", ""], ["钱七", 13800138009, "不存在的部门"],
    ]))  # fmt: skip
    assert api.last_status == 422 and bad["error"] == "invalid_rows"
    problems = {(r["row"], r["column"]) for r in bad["rows"]}
    assert problems == {(3, "姓名"), (4, "手机号"), (5, "手机号"), (6, "手机号"), (7, "部门")}
    assert any("与第2行手机号重复" in r["message"] for r in bad["rows"])
    assert (await api.get("/api/v1/dev/sms?phone=13800138001"))["items"] == [], "nothing sent from a bad file"

    ok = await upload(api, xlsx([["张三", "13800138001", "生产部"], ["李四", 13800138002, ""]]))
    assert api.last_status == 201 and ok == {"sent": 2}
    assert "/h5/join/" in (await api.get("/api/v1/dev/sms?phone=13800138002"))["items"][0]["text"]


async def test_hostile_spreadsheets(api: Api, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    cases = [
        (b"just text", 415),
        (b"PK\x03\x04broken zip", 415),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, 415),  # encrypted/legacy OLE container
        (xlsx([["张三", "13800138001"]], header=["name", "phone"]), 422),
        (xlsx([]), 422),
    ]
    for data, status in cases:
        answer = await upload(api, data)
        assert api.last_status == status, (status, answer)
        assert answer["message"]
    import zipfile

    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", b"<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * (80 * 1024 * 1024))
    answer = await upload(api, bomb.getvalue())
    assert api.last_status == 413
    answer = await upload(api, b"PK" + b"0" * (5 * 1024 * 1024 + 1))
    assert api.last_status == 413 and "5MB" in answer["message"]


async def test_one_invite_link_even_when_asked_twice_at_once(api: Api, clock: FakeClock) -> None:
    import asyncio

    await api.register_enterprise(clock)
    first, second = await asyncio.gather(api.get("/api/v1/invite-link"), api.get("/api/v1/invite-link"))
    assert first["token"] == second["token"]
    reset = await api.post("/api/v1/invite-link/reset", expect=200)
    assert reset["token"] != first["token"]
    await api.get(f"/api/v1/join/{first['token']}", expect=404)
    assert (await api.get(f"/api/v1/join/{reset['token']}"))["enterprise"]["name"]


async def test_reopening_the_join_link_finds_my_record_and_my_identity(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    from laborsign.api.http import DEPS
    from laborsign.core.accounts import User
    from tests.test_contracts import give_identity

    await api.register_enterprise(clock)
    token = (await api.get("/api/v1/invite-link"))["token"]
    worker = await make_api()
    await worker.login(clock, FORM["phone"], side="worker")
    assert await worker.get(f"/api/v1/join/{token}/mine") == {"record": None, "prefill": None}
    # A verified worker gets their name and full ID number to fill in (their own, nobody else's).
    deps = client.app[DEPS]
    async with deps.uow() as uow:
        user = await uow.accounts.user_by_phone(FORM["phone"])
        assert isinstance(user, User)
        await give_identity(deps, uow, user, FORM["name"], FORM["id_number"])
        await uow.commit()
    mine = await worker.get(f"/api/v1/join/{token}/mine")
    assert mine == {
        "record": None,
        "prefill": {"name": FORM["name"], "id_type": "resident_id", "id_number": FORM["id_number"]},
    }
    record = await onboard(api, worker, clock)
    mine = await worker.get(f"/api/v1/join/{token}/mine")
    assert mine["record"]["id"] == record["id"] and mine["record"]["status"] == "pending_review"
    # The link's public answer carries the same for a logged-in person, nothing for anyone else.
    assert (await worker.get(f"/api/v1/join/{token}"))["mine"] == mine
    assert "mine" not in await (await make_api()).get(f"/api/v1/join/{token}")
    assert mine["record"]["id_number"] == FORM["id_number"] and mine["record"]["address"] == FORM["address"]
    # Another worker of the same enterprise sees only their own (none).
    other = await make_api()
    await other.login(clock, "13500135000", side="worker")
    assert (await other.get(f"/api/v1/join/{token}/mine"))["record"] is None
    await other.get("/api/v1/join/nosuchtoken/mine", expect=404)
