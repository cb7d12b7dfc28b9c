"""Exports over HTTP (issue 14), on SQLite and PostgreSQL: the roster and contract ledger
opened with openpyxl row by row, the MOHRSS information elements read line by line, and every
PDF of the zip verified; each export is in the enterprise audit log."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from tests.conftest import Api
from tests.test_contracts import signature_png, verify_for_real
from tests.test_onboarding import FORM, onboard
from tests.test_templates import upload

EXPORT_CONTROLS = [
    {"key": "contract_start_date", "label": "合同起始日期", "kind": "date", "file": 0, "page": 1, "x": 100,
     "y": 100, "width": 120, "height": 20, "required": True, "filled_by": "initiator"},
    {"key": "contract_end_date", "label": "合同终止日期", "kind": "date", "file": 0, "page": 1, "x": 100,
     "y": 130, "width": 120, "height": 20, "required": True, "filled_by": "initiator"},
    {"key": "probation_months", "label": "试用期（月）", "kind": "number", "file": 0, "page": 1, "x": 100,
     "y": 160, "width": 120, "height": 20, "required": True, "filled_by": "initiator"},
    {"key": "monthly_wage", "label": "月工资", "kind": "number", "file": 0, "page": 1, "x": 100, "y": 190,
     "width": 120, "height": 20, "required": True, "filled_by": "initiator"},
    {"key": "position", "label": "岗位", "kind": "text", "file": 0, "page": 1, "x": 100, "y": 220,
     "width": 120, "height": 20, "required": True, "filled_by": "initiator"},
    {"key": "work_place", "label": "工作地点", "kind": "text", "file": 0, "page": 1, "x": 100, "y": 250,
     "width": 200, "height": 20, "required": True, "filled_by": "initiator"},
    {"key": "worker_sign", "label": "乙方签名", "kind": "signature", "file": 0, "page": 2, "x": 300, "y": 650,
     "width": 150, "height": 60, "required": True, "filled_by": "worker"},
    {"key": "company_seal", "label": "甲方盖章", "kind": "seal", "file": 0, "page": 2, "x": 80, "y": 620,
     "width": 120, "height": 120, "required": True, "filled_by": "enterprise"},
]  # fmt: skip
FIELDS = {
    "contract_start_date": "2026-12-01",
    "contract_end_date": "2029-11-30",
    "probation_months": "2",  # a term of 1-3 years allows at most 2 (Labor Contract Law Art. 19)
    "monthly_wage": "6500",
    "position": "装配工",
    "work_place": "广州市黄埔区开发大道1号",
}
CREDIT = "91350100M000100Y43"


async def contract_world(api: Api, make_api: Any, clock: FakeClock) -> dict[str, Any]:
    ent = await api.register_enterprise(clock)
    template = await upload(api, name="固定期限劳动合同", type_="fixed_term")
    await api.call(
        "PUT", f"/api/v1/templates/{template['id']}/controls", {"controls": EXPORT_CONTROLS}, expect=200
    )
    await api.post(f"/api/v1/templates/{template['id']}/enable", expect=200)
    worker = await make_api()
    record = await onboard(api, worker, clock)
    approved = await api.post(
        f"/api/v1/onboarding/{record['id']}/approve", {"hire_date": "2026-11-20"}, expect=200
    )
    seal = await api.post("/api/v1/seals", {"type": "contract"}, expect=201)
    await verify_for_real(api, worker, clock, ent["enterprise"]["id"])
    return {"template": template, "worker": worker, "employee_id": approved["employee_id"], "seal": seal}


async def launch(api: Api, world: dict[str, Any], **extra: Any) -> str:
    body = {
        "template_ids": [world["template"]["id"]],
        "employee_ids": [world["employee_id"]],
        "enterprise_party": {"seal_type": "contract"},
        "fields": FIELDS,
        # the same worker's later contracts repeat the probation: HR has read the warning
        "confirm_warnings": True,
        **extra,
    }
    launched = await api.post("/api/v1/contracts", body, expect=201)
    return str(launched["contracts"][0]["id"])


async def worker_signs(worker: Api, cid: str) -> None:
    started = await worker.post(
        f"/api/v1/me/contracts/{cid}/signature", {"signature_png": signature_png()}, expect=201
    )
    code = (await worker.get(f"/api/v1/dev/sms?phone={FORM['phone']}"))["items"][0]["code"]
    await worker.post(f"/api/v1/signing-sessions/{started['id']}/confirm", {"code": code}, expect=200)


async def enterprise_signs(api: Api, world: dict[str, Any], cid: str, expect: int = 201) -> Any:
    session = await api.post(
        "/api/v1/signing-sessions", {"contract_ids": [cid], "seal_id": world["seal"]["id"], "intent_method": "sms"},
        expect=expect,
    )  # fmt: skip
    if expect != 201:
        return session
    code = (await api.get("/api/v1/dev/sms?phone=13800138000"))["items"][0]["code"]
    return await api.post(f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": code}, expect=200)


def sheet_rows(data: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    sheet = book.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def as_dicts(rows: list[list[Any]]) -> list[dict[str, Any]]:
    header = rows[0]  # a row read back ends at its last filled cell
    return [dict(zip(header, row + [None] * (len(header) - len(row)), strict=True)) for row in rows[1:]]


async def test_exports_row_by_row(api: Api, make_api: Any, client: Any, clock: FakeClock) -> None:
    world = await contract_world(api, make_api, clock)
    done = await launch(api, world)
    await worker_signs(world["worker"], done)
    await enterprise_signs(api, world, done)
    waiting = await launch(api, world, name="待签合同")
    detail = await api.get(f"/api/v1/contracts/{done}")
    assert detail["status"] == "completed"

    roster = as_dicts(sheet_rows(await api.get("/api/v1/employees/export.xlsx")))
    assert (
        api.last_response.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert len(roster) == 1
    assert (
        roster[0]["姓名"] == "王五" and roster[0]["手机号"] == FORM["phone"] and roster[0]["状态"] == "在职"
    )
    assert roster[0]["出生日期"] == datetime(1990, 3, 7) and roster[0]["入职日期"] == datetime(2026, 11, 20)
    assert roster[0]["证件号码"] == "4401**********123X", "the roster export keeps the ID masked"
    assert sheet_rows(await api.get("/api/v1/employees/export.xlsx?status=resigned")) == [
        list(roster[0].keys())
    ]

    ledger = as_dicts(sheet_rows(await api.get("/api/v1/contracts/export.xlsx")))
    assert sorted(r["合同编号"] for r in ledger) == sorted([done, waiting])
    row = next(r for r in ledger if r["合同编号"] == done)
    assert (
        row["劳动者姓名"] == "王五"
        and row["证件号码"] == FORM["id_number"]
        and row["证件类型"] == "居民身份证"
    )
    assert row["用人单位名称"] == "广州测试科技有限公司" and row["统一社会信用代码"] == CREDIT
    assert row["合同期限类型"] == "固定期限" and row["合同状态"] == "已完成"
    assert row["合同起始日期"] == datetime(2026, 12, 1) and row["合同终止日期"] == datetime(2029, 11, 30)
    assert row["试用期（月）"] == 2 and row["劳动报酬（元/月）"] == 6500
    assert row["工作岗位"] == "装配工" and row["工作地点"] == "广州市黄埔区开发大道1号"
    assert isinstance(row["劳动者签署时间"], datetime) and isinstance(row["用人单位签署时间"], datetime)
    assert row["合同文件SHA-256"] == detail["document_sha256"]
    other = next(r for r in ledger if r["合同编号"] == waiting)
    assert other["合同状态"] == "签署中" and other["用人单位签署时间"] is None
    completed = as_dicts(sheet_rows(await api.get("/api/v1/contracts/export.xlsx?view=completed")))
    assert [r["合同编号"] for r in completed] == [done]

    raw = await api.get("/api/v1/contracts/export.jsonl")
    lines = [json.loads(line) for line in raw.decode().splitlines()]
    assert len(lines) == 2 and {line["contract_no"] for line in lines} == {done, waiting}
    element = next(line for line in lines if line["contract_no"] == done)
    pdf = await api.get(f"/api/v1/contracts/{done}/document.pdf")
    assert element["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert element["worker_id_type"] == "resident_id" and element["worker_id_number"] == FORM["id_number"]
    assert element["employer_credit_code"] == CREDIT and element["term_type"] == "fixed_term"
    assert element["start_date"] == "2026-12-01" and element["end_date"] == "2029-11-30"
    assert element["probation_months"] == 2 and element["monthly_wage"] == "6500"
    assert element["probation_end_date"] is None, "unknown facts stay null"
    assert element["status"] == "completed" and element["worker_signed_at"].endswith("+08:00")
    assert date.fromisoformat(element["employer_signed_at"][:10])

    archive = zipfile.ZipFile(io.BytesIO(await api.get("/api/v1/contracts/export.zip")))
    assert archive.testzip() is None
    names = archive.namelist()
    assert len(names) == 1 and names[0].startswith("王五-固定期限劳动合同") and names[0].endswith(".pdf")
    for name in names:
        report = await client.app[DEPS].pdf.verify(archive.read(name))
        assert len(report.signatures) == 2
        assert (
            all(s.intact and s.trusted for s in report.signatures)
            and report.signatures[-1].covers_whole_document
        )
    empty = zipfile.ZipFile(io.BytesIO(await api.get("/api/v1/contracts/export.zip?view=awaiting_me")))
    assert empty.namelist() == []

    events = await api.get("/api/v1/enterprise/events")
    kinds = [e["kind"] for e in events["items"]]
    assert kinds.count("export_contracts_xlsx") == 2 and kinds.count("export_employees_xlsx") == 2
    assert kinds.count("export_contracts_jsonl") == 1 and kinds.count("export_contracts_zip") == 2
    latest = events["items"][0]
    assert latest["kind"] == "export_contracts_zip" and latest["actor_name"] == "张管理"
    assert (
        latest["details"]["filters"] == {"view": "awaiting_me"}
        and latest["label"] == "批量下载已签合同（ZIP）"
    )


async def test_exports_need_the_permission_and_good_filters(
    api: Api, make_api: Any, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    await api.post(
        "/api/v1/members", {"name": "李四", "phone": "13900139000", "permissions": ["templates"]}, expect=201
    )
    li = await make_api()
    await li.login(clock, "13900139000")
    for path in (
        "employees/export.xlsx",
        "contracts/export.xlsx",
        "contracts/export.jsonl",
        "contracts/export.zip",
    ):
        refused = await li.get(f"/api/v1/{path}", expect=403)
        assert refused["error"] == "permission_denied", path
    bad = await api.get("/api/v1/contracts/export.jsonl?view=nonsense", expect=422)
    assert "视图" in bad["message"]
    bad = await api.get("/api/v1/employees/export.xlsx?status=nonsense", expect=422)
    assert "状态" in bad["message"]
    assert (await api.get("/api/v1/enterprise/events"))["total"] == 0, "refused exports are not recorded"
    empty = sheet_rows(await api.get("/api/v1/contracts/export.xlsx"))
    assert len(empty) == 1 and empty[0][0] == "合同编号", "a header row even when nothing matches"
    stranger = await make_api()
    await stranger.get("/api/v1/contracts/export.xlsx", expect=401)


async def test_exports_walk_every_page_once(
    api: Api, make_api: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exports read keyset pages: with pages of one row, every contract is still there once."""
    from laborsign.core.services import exports

    world = await contract_world(api, make_api, clock)
    ids = {await launch(api, world, name=f"合同{i}") for i in range(3)}
    monkeypatch.setattr(exports, "PAGE", 1)
    lines = (await api.get("/api/v1/contracts/export.jsonl")).decode().splitlines()
    assert sorted(json.loads(line)["contract_no"] for line in lines) == sorted(ids)
    ledger = as_dicts(sheet_rows(await api.get("/api/v1/contracts/export.xlsx")))
    assert len(ledger) == 3
