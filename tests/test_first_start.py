"""A fresh installation offers the standard 劳动合同 as a public template: made on the first
start, once, however many processes start together, and not again once the regulator removed
it; a new enterprise launches from it and both parties sign."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from pypdf import PdfReader

from laborsign.api.http import DEPS
from laborsign.bootstrap import build_deps
from laborsign.core.clock import FakeClock, china_time
from laborsign.core.labor_law import add_months
from laborsign.core.services.accounts import create_platform_staff
from laborsign.core.standard_contract import NAME
from tests.conftest import Api
from tests.test_contracts import mark_verified, signature_png
from tests.test_onboarding import FORM, onboard

PRESET_KEYS = {
    "worker_name", "worker_id_number", "contract_start_date", "contract_end_date", "probation_months",
    "monthly_wage", "position", "work_place", "worker_sign", "company_seal",
}  # fmt: skip


@pytest.fixture
def config_env(config_env: dict[str, str]) -> dict[str, str]:
    return {**config_env, "LABORSIGN_TEMPLATES__STANDARD_PUBLIC": "true"}


async def test_new_enterprise_launches_from_the_shipped_template(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    ent = await api.register_enterprise(clock)
    # What the launch wizard lists: enabled templates, the enterprise's and the public ones.
    offered = await api.get("/api/v1/templates?scope=all&status=enabled&per_page=100")
    assert [(t["name"], t["scope"], t["type_label"]) for t in offered["items"]] == [
        (NAME, "public", "劳动合同")
    ]
    template = await api.get(f"/api/v1/templates/{offered['items'][0]['id']}")
    assert PRESET_KEYS <= {c["key"] for c in template["controls"]}
    steps = {s["key"]: s["done"] for s in (await api.get("/api/v1/setup-progress"))["steps"]}
    assert steps["template"] is True

    worker = await make_api()
    record = await onboard(api, worker, clock)
    approved = await api.post(f"/api/v1/onboarding/{record['id']}/approve", {}, expect=200)
    seal = await api.post("/api/v1/seals", {"type": "contract"}, expect=201)
    await mark_verified(client, enterprise_id=ent["enterprise"]["id"], phone=FORM["phone"])
    start = china_time(clock.now()).date()
    # 甲方's name and unified credit code are not typed: they come from the enterprise.
    fields = {
        "enterprise_address": "广州市天河区天河路385号", "enterprise_legal_rep": "张管理",
        "contract_start_date": start.isoformat(), "contract_end_date": add_months(start, 36).isoformat(),
        "probation_months": "3", "position": "技工", "work_place": "广州市黄埔区开发大道1号",
        "monthly_wage": "6500", "probation_wage": "5200", "pay_day": "15",
    }  # fmt: skip
    launch = {"template_ids": [template["id"]], "employee_ids": [approved["employee_id"]],
              "enterprise_party": {"seal_type": "contract"}, "fields": fields, "confirm_warnings": True}  # fmt: skip
    checked = await api.post("/api/v1/contracts/check", launch, expect=200)
    assert checked["workers"][0]["errors"] == []
    launched = await api.post("/api/v1/contracts", launch, expect=201)
    assert launched["failed"] == []
    cid = launched["contracts"][0]["id"]
    values = {c["key"]: c["value"] for c in (await api.get(f"/api/v1/contracts/{cid}"))["controls"]}
    assert (values["enterprise_name"], values["enterprise_credit_code"]) == (
        ent["enterprise"]["name"], ent["enterprise"]["credit_code"],
    )  # fmt: skip
    typed = {**launch, "fields": {**fields, "enterprise_name": "广州测试科技有限公司（总部）"}}
    other = (await api.post("/api/v1/contracts", typed, expect=201))["contracts"][0]["id"]
    values = {c["key"]: c["value"] for c in (await api.get(f"/api/v1/contracts/{other}"))["controls"]}
    assert values["enterprise_name"] == "广州测试科技有限公司（总部）", "what HR types stands"

    started = await worker.post(
        f"/api/v1/me/contracts/{cid}/signature", {"signature_png": signature_png()}, expect=201
    )
    code = (await worker.get(f"/api/v1/dev/sms?phone={FORM['phone']}"))["items"][0]["code"]
    await worker.post(f"/api/v1/signing-sessions/{started['id']}/confirm", {"code": code}, expect=200)
    session = await api.post(
        "/api/v1/signing-sessions", {"contract_ids": [cid], "seal_id": seal["id"], "intent_method": "sms"},
        expect=201,
    )  # fmt: skip
    code = (await api.get("/api/v1/dev/sms?phone=13800138000"))["items"][0]["code"]
    await api.post(f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": code}, expect=200)
    final = await api.get(f"/api/v1/contracts/{cid}")
    assert final["status"] == "completed"
    document = await api.get(f"/api/v1/contracts/{cid}/document.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(document)).pages).replace("\n", "")
    for expected in ("劳动合同书", "第四条 劳动报酬", FORM["name"], "6500", "广州市黄埔区开发大道1号",
                     ent["enterprise"]["name"], ent["enterprise"]["credit_code"]):  # fmt: skip
        assert expected in text, expected


async def _start_host(config: Any, clock: FakeClock) -> None:
    deps = build_deps(config, clock)
    try:
        await deps.start(migrate=False)
    finally:
        await deps.stop()


async def test_shipped_once_and_removal_sticks(
    api: Api, make_api: Any, client: Any, config: Any, clock: FakeClock
) -> None:
    # Two more hosts start on the same database at once.
    await asyncio.gather(_start_host(config, clock), _start_host(config, clock))
    await api.register_enterprise(clock)
    public = (await api.get("/api/v1/templates?scope=public"))["items"]
    assert [t["name"] for t in public] == [NAME]

    await create_platform_staff(client.app[DEPS], "13500135000", "监管员", "regulator", "regul8tor")
    regulator = await make_api()
    await regulator.post(
        "/api/v1/auth/login",
        {"side": "platform", "phone": "13500135000", "password": "regul8tor", "agree_terms": True},
        expect=200,
    )
    await regulator.call("DELETE", f"/api/v1/templates/{public[0]['id']}", expect=204)
    await _start_host(config, clock)
    assert (await api.get("/api/v1/templates?scope=public"))["total"] == 0
