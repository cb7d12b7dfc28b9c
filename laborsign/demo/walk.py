"""The demo's first part: a person's walk through the real product over HTTP (registration,
real-name checks, departments, template, seal, onboarding, one contract signed by both parties
and one left to sign) against an in-process server with the development providers. What the
bulk part copies — above all the signed PDFs — is made here by the real signing code."""

from __future__ import annotations

import base64
import io
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from ..core.identity_rules import resident_id_check_char
from ..core.standard_contract import NAME, build_template_pdf
from ..core.values import credit_code_check_char

# The enterprise's own copy, named apart from the public template every install ships.
ENTERPRISE_COPY = NAME.replace("（全日制）", "（全日制·本企业）")


class DemoError(Exception):
    """A step of the walk was refused; the message says which (in Chinese)."""


class ShiftedClock:
    """Real time, moved on by the walk between SMS codes (one a minute per phone) so the
    walk need not wait. It starts in the past so nothing it stamps lies in the future."""

    def __init__(self) -> None:
        self.shift = timedelta(minutes=-30)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift

    def step(self) -> None:
        self.shift += timedelta(seconds=61)


@dataclass
class Walked:
    enterprise_id: str
    enterprise_name: str
    credit_code: str
    hr_phone: str
    hr_name: str
    worker_phone: str
    user_ids: dict[str, str]  # hr, worker
    department_ids: list[str]
    template_id: str
    controls: list[dict[str, Any]]
    fields: dict[str, str]
    seal_id: str
    completed_id: str
    pending_id: str
    # document versions (blob keys): of the completed contract (launched, worker signed,
    # both signed), of the pending one (launched, enterprise signed)
    versions: list[list[str]] = field(default_factory=list)


def random_phone(prefix: str) -> str:
    return prefix + "".join(secrets.choice("0123456789") for _ in range(11 - len(prefix)))


def random_credit_code() -> str:
    body = "91440101" + "".join(secrets.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return body + credit_code_check_char(body)


def resident_id(region: str, born: str, serial: int) -> str:
    first = f"{region}{born}{serial % 1000:03d}"
    return first + resident_id_check_char(first)


def signature_png() -> str:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (400, 160), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.line([(30, 110), (110, 40), (170, 120), (260, 50), (370, 100)], fill=(20, 20, 20, 255), width=9)
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


class Person:
    """One browser: a cookie session plus the CSRF header, like the pages."""

    def __init__(self, client: TestClient, clock: ShiftedClock) -> None:
        self.client, self.clock, self.csrf = client, clock, ""

    async def call(self, method: str, path: str, body: Any = None, expect: int = 200, **kw: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf} if self.csrf else {}
        resp = await self.client.request(method, path, json=body, headers=headers, **kw)
        data = await resp.json() if resp.content_type == "application/json" else await resp.read()
        if resp.status != expect:
            message = data.get("message") if isinstance(data, dict) else ""
            raise DemoError(f"{method} {path} 失败（{resp.status}）：{message or data!r}")
        if isinstance(data, dict) and data.get("csrf"):
            self.csrf = data["csrf"]
        return data

    async def code(self, phone: str, purpose: str | None = None) -> str:
        if purpose:
            await self.call("POST", "/api/v1/sms/codes", {"phone": phone, "purpose": purpose}, expect=202)
        inbox = await self.call("GET", f"/api/v1/dev/sms?phone={phone}")
        self.clock.step()
        return str(inbox["items"][0]["code"])

    async def verify_carrier(self, name: str, id_number: str, phone: str) -> None:
        body = {"method": "carrier3", "consent": True, "name": name, "id_type": "resident_id",
                "id_number": id_number, "phone": phone}  # fmt: skip
        started = await self.call("POST", "/api/v1/me/verifications", body, expect=201)
        code = await self.code(phone)
        await self.call("POST", f"/api/v1/me/verifications/{started['id']}/confirm", {"code": code})


DEPARTMENTS = (("总部", None), ("人力资源部", 0), ("财务部", 0), ("生产中心", 0), ("一车间", 3), ("二车间", 3),
               ("销售部", 0), ("华南区", 6))  # fmt: skip


def contract_fields(walk_name: str, credit_code: str) -> dict[str, str]:
    """Values of the template's initiator blanks not taken from the roster."""
    start = datetime.now(UTC).date()
    return {
        "enterprise_name": walk_name, "enterprise_credit_code": credit_code,
        "enterprise_address": "广州市天河区珠江新城华夏路10号", "enterprise_legal_rep": "陈建国",
        "contract_start_date": start.isoformat(),
        "contract_end_date": start.replace(year=start.year + 3).isoformat(),
        "probation_months": "3", "position": "技工", "work_place": "广州市黄埔区开发大道1号厂区",
        "monthly_wage": "6500", "probation_wage": "5200", "pay_day": "15",
    }  # fmt: skip


async def _versions(hr: Person, contract_id: str) -> list[str]:
    events = (await hr.call("GET", f"/api/v1/contracts/{contract_id}/events"))["items"]
    versions: list[str] = []
    for e in events:
        if e["kind"] in ("launched", "signed") and e["document_sha256"] not in versions:
            versions.append(e["document_sha256"])
    return versions


async def walk(app: Any, clock: ShiftedClock, enterprise_name: str) -> Walked:
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        return await _walk(client, clock, enterprise_name)


async def _walk(client: TestClient, clock: ShiftedClock, enterprise_name: str) -> Walked:
    hr, worker = Person(client, clock), Person(TestClient(client.server), clock)
    await worker.client.start_server()
    try:
        return await _steps(hr, worker, clock, enterprise_name)
    finally:
        await worker.client.close()


async def _steps(hr: Person, worker: Person, clock: ShiftedClock, enterprise_name: str) -> Walked:
    hr_phone, worker_phone, credit = random_phone("138"), random_phone("139"), random_credit_code()
    hr_name, hr_id = "张敏", resident_id("440106", "19880512", secrets.randbelow(1000))
    code = await hr.code(hr_phone, "register")
    made = await hr.call("POST", "/api/v1/enterprises", {
        "name": enterprise_name, "credit_code": credit, "org_type": "enterprise", "admin_name": hr_name,
        "admin_phone": hr_phone, "code": code, "agree_terms": True}, expect=201)  # fmt: skip
    enterprise_id = made["enterprise"]["id"]
    await hr.call("POST", "/api/v1/enterprise/verification/info")
    await hr.verify_carrier(hr_name, hr_id, hr_phone)
    await hr.call("POST", "/api/v1/enterprise/verification", {
        "method": "corporate_payment", "bank_name": "中国工商银行广州天河支行",
        "bank_account": "3602000109000" + str(secrets.randbelow(10**6)).zfill(6),
        "account_name": enterprise_name}, expect=201)  # fmt: skip
    paid = await hr.call("GET", f"/api/v1/dev/payments?enterprise_id={enterprise_id}")
    await hr.call("POST", "/api/v1/enterprise/verification/confirm", {"amount": paid["items"][0]["amount"]})

    department_ids: list[str] = []
    for name, parent in DEPARTMENTS:
        body = {"name": name, "parent_id": department_ids[parent] if parent is not None else None}
        department_ids.append((await hr.call("POST", "/api/v1/departments", body, expect=201))["id"])

    pdf, controls = build_template_pdf()
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("name", ENTERPRISE_COPY)
    form.add_field("type", "labor_contract")
    form.add_field("files", pdf, filename="标准劳动合同.pdf", content_type="application/pdf")
    template = await hr.call("POST", "/api/v1/templates", data=form, expect=201)
    await hr.call("PUT", f"/api/v1/templates/{template['id']}/controls", {"controls": controls})
    await hr.call("POST", f"/api/v1/templates/{template['id']}/enable")
    seal = await hr.call("POST", "/api/v1/seals", {"type": "contract"}, expect=201)

    worker_name, worker_id = (
        "李娜",
        resident_id("440111", "19950820", 2 * secrets.randbelow(500)),
    )  # even: female
    code = await worker.code(worker_phone, "login")
    await worker.call("POST", "/api/v1/auth/login",
                      {"side": "worker", "phone": worker_phone, "code": code, "agree_terms": True})  # fmt: skip
    link = await hr.call("GET", "/api/v1/invite-link")
    record = await worker.call("POST", f"/api/v1/join/{link['token']}/onboarding", {
        "name": worker_name, "gender": "female", "id_type": "resident_id", "id_number": worker_id,
        "birth_date": "1995-08-20", "phone": worker_phone, "address": "广州市白云区机场路88号",
        "emergency_contact": {"name": "李强", "relation": "父母", "phone": random_phone("136")}}, expect=201)  # fmt: skip
    approved = await hr.call(
        "POST", f"/api/v1/onboarding/{record['id']}/approve", {"department_id": department_ids[4]}
    )
    await worker.verify_carrier(worker_name, worker_id, worker_phone)

    fields = contract_fields(enterprise_name, credit)
    launch = {"name": "劳动合同", "template_ids": [template["id"]], "employee_ids": [approved["employee_id"]],
              "enterprise_party": {"seal_type": "contract"}, "fields": fields, "confirm_warnings": True}  # fmt: skip
    completed = (await hr.call("POST", "/api/v1/contracts", launch, expect=201))["contracts"][0]["id"]
    started = await worker.call(
        "POST", f"/api/v1/me/contracts/{completed}/signature", {"signature_png": signature_png()}, expect=201
    )
    code = await worker.code(worker_phone)
    await worker.call("POST", f"/api/v1/signing-sessions/{started['id']}/confirm", {"code": code})
    session = await hr.call("POST", "/api/v1/signing-sessions", {
        "contract_ids": [completed], "seal_id": seal["id"], "intent_method": "sms"}, expect=201)  # fmt: skip
    code = await hr.code(hr_phone)
    signed = await hr.call("POST", f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": code})
    if signed["signed"] != [completed]:
        raise DemoError(f"示例合同签署失败：{json.dumps(signed, ensure_ascii=False)}")
    # The second is sealed by the enterprise first and waits for the worker.
    pending = (await hr.call("POST", "/api/v1/contracts", launch, expect=201))["contracts"][0]["id"]
    session = await hr.call("POST", "/api/v1/signing-sessions", {
        "contract_ids": [pending], "seal_id": seal["id"], "intent_method": "sms"}, expect=201)  # fmt: skip
    code = await hr.code(hr_phone)
    await hr.call("POST", f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": code})
    versions = [await _versions(hr, completed), await _versions(hr, pending)]
    me_hr = await hr.call("GET", "/api/v1/me")
    me_worker = await worker.call("GET", "/api/v1/me")
    return Walked(
        enterprise_id=enterprise_id, enterprise_name=enterprise_name, credit_code=credit, hr_phone=hr_phone,
        hr_name=hr_name, worker_phone=worker_phone,
        user_ids={"hr": me_hr["user"]["id"], "worker": me_worker["user"]["id"]},
        department_ids=department_ids, template_id=template["id"], controls=controls, fields=fields,
        seal_id=seal["id"], completed_id=completed, pending_id=pending, versions=versions,
    )  # fmt: skip
