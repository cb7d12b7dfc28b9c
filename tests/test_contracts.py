"""Contracts end to end over HTTP: initiate from a template, remind, withdraw, re-initiate,
sign by both parties with SMS intent codes, download, audit trail, verification."""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from laborsign.api.http import DEPS
from laborsign.core.accounts import User
from laborsign.core.clock import FakeClock
from laborsign.core.roster import Employee
from laborsign.storage.accounts import enterprises
from laborsign.storage.roster import employees
from tests.conftest import Api
from tests.test_onboarding import FORM, onboard
from tests.test_templates import CONTROLS, upload

SIGNATURE = None


def signature_png() -> str:
    import base64
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (400, 160), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.line([(20, 120), (120, 30), (200, 130), (300, 40), (380, 110)], fill=(0, 0, 0, 255), width=8)
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


OPERATOR_ID = "11010519491231002X"


async def mark_verified(client: Any, *, enterprise_id: str | None = None, phone: str | None = None) -> None:
    """Preconditions for contract tests; verification itself is tested in test_verification.
    The enterprise's members get a verified identity under their own name; the worker with
    `phone` gets the identity the roster holds for them (so they are the contract's employee)."""
    deps = client.app[DEPS]
    async with deps.uow() as uow:
        if enterprise_id:
            await uow.session.execute(
                update(enterprises)
                .where(enterprises.c.id == enterprise_id)
                .values(verification_status="verified")
            )
            members, _ = await uow.accounts.members_of(enterprise_id, 0, 100)
            for member in members:
                user = await uow.get(User, member.user_id)
                if user is not None:
                    await give_identity(deps, uow, user, user.name or "张管理", OPERATOR_ID)
        if phone:
            user = await uow.accounts.user_by_phone(phone)
            employee = (
                (await uow.session.execute(select(Employee).where(employees.c.phone == phone)))
                .scalars()
                .first()
            )
            if user is not None:
                name, number = FORM["name"], FORM["id_number"]
                if employee is not None and employee.id_number_enc:
                    name = employee.name
                    number = deps.cipher.decrypt(employee.id_number_enc, "employees.id_number")
                await give_identity(deps, uow, user, name, number)
        await uow.commit()


async def give_identity(deps: Any, uow: Any, user: User, name: str, number: str) -> None:
    """What a passed real-name verification leaves behind (the user's flag and identity)."""
    from laborsign.core.identity_rules import mask_id_number
    from laborsign.core.services.verification import ID_CTX, IDENTITY_CTX
    from laborsign.core.verification import PersonIdentity, PersonVerification

    if await uow.verification.identity_of(user.id) is not None:
        user.verified = True
        return
    now = deps.clock.now()
    index = deps.cipher.blind_index(f"resident_id:{number}", "id_number")
    v = PersonVerification(
        user_id=user.id, method="carrier3", name=name, id_type="resident_id",
        id_number_enc=deps.cipher.encrypt(number, ID_CTX), id_number_index=index,
        id_number_masked=mask_id_number(number), consent_version="test", consent_at=now, created_at=now,
        status="verified", provider="sandbox", completed_at=now,
    )  # fmt: skip
    uow.add(v)
    await uow.flush()
    uow.add(
        PersonIdentity(
            user_id=user.id, name=name, id_type="resident_id", id_number_enc=deps.cipher.encrypt(number, IDENTITY_CTX),
            id_number_index=index, id_number_masked=mask_id_number(number), method="carrier3",
            verification_id=v.id, verified_at=now,
        )
    )  # fmt: skip
    user.verified = True
    user.name = name


async def setup_contract_world(api: Api, make_api: Any, client: Any, clock: FakeClock) -> dict[str, Any]:
    ent = await api.register_enterprise(clock)
    template = await upload(api)
    await api.call("PUT", f"/api/v1/templates/{template['id']}/controls", {"controls": [*CONTROLS, {"key": "worker_name", "label": "乙方姓名", "kind": "text", "file": 0, "page": 1, "x": 300, "y": 200, "width": 120, "height": 20, "required": True, "filled_by": "initiator"}, {"key": "worker_sign_date", "label": "乙方签署日期", "kind": "sign_date", "file": 0, "page": 2, "x": 300, "y": 720, "width": 120, "height": 20, "required": True, "filled_by": "worker"}, {"key": "bank_account", "label": "工资卡号", "kind": "text", "file": 0, "page": 1, "x": 100, "y": 300, "width": 200, "height": 20, "required": True, "filled_by": "worker"}]}, expect=200)  # fmt: skip
    await api.post(f"/api/v1/templates/{template['id']}/enable", expect=200)
    worker = await make_api()
    record = await onboard(api, worker, clock)
    approved = await api.post(f"/api/v1/onboarding/{record['id']}/approve", {}, expect=200)
    seal = await api.post("/api/v1/seals", {"type": "contract"}, expect=201)
    return {
        "enterprise": ent["enterprise"],
        "template": template,
        "worker": worker,
        "employee_id": approved["employee_id"],
        "seal": seal,
    }


def launch_body(world: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "template_ids": [world["template"]["id"]],
        "employee_ids": [world["employee_id"]],
        "enterprise_party": {"seal_type": "contract"},
        "fields": {"salary": "6000", "position": "技工"},
        **extra,
    }


async def test_unverified_enterprise_cannot_initiate(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await setup_contract_world(api, make_api, client, clock)
    refused = await api.post("/api/v1/contracts", launch_body(world), expect=409)
    assert refused["error"] == "enterprise_not_verified" and "实名认证" in refused["message"]


async def verify_for_real(api: Api, worker: Api, clock: FakeClock, enterprise_id: str) -> None:
    """The enterprise by corporate payment after the operator's carrier check; the worker by
    carrier check — all through the API and the sandbox provider."""
    from tests.test_verification import verify_by_carrier

    await api.post("/api/v1/enterprise/verification/info", expect=200)
    await verify_by_carrier(api, clock, "13800138000", name="张管理", id_number="11010519491231002X")
    await api.post(
        "/api/v1/enterprise/verification",
        {"method": "corporate_payment", "bank_name": "中国工商银行广州分行", "bank_account": "3602000109000012345",
         "account_name": "广州测试科技有限公司"},
        expect=201,
    )  # fmt: skip
    amount = (await api.get(f"/api/v1/dev/payments?enterprise_id={enterprise_id}"))["items"][0]["amount"]
    await api.post("/api/v1/enterprise/verification/confirm", {"amount": amount}, expect=200)
    await verify_by_carrier(worker, clock, FORM["phone"], name=FORM["name"], id_number=FORM["id_number"])


async def test_full_journey(api: Api, make_api: Any, client: Any, clock: FakeClock) -> None:
    world = await setup_contract_world(api, make_api, client, clock)
    worker: Api = world["worker"]
    await worker.post(f"/api/v1/me/contracts/{'0' * 32}/signature", {}, expect=404)
    refused = await api.post("/api/v1/contracts", launch_body(world), expect=409)
    assert refused["error"] == "enterprise_not_verified"
    await verify_for_real(api, worker, clock, world["enterprise"]["id"])
    bad = await api.post(
        "/api/v1/contracts", launch_body(world, fields={"salary": "六千", "position": "厨师"}), expect=422
    )
    assert "fields.salary" in bad["fields"] and "fields.position" in bad["fields"]
    await api.post("/api/v1/contracts", launch_body(world, name="合" * 51), expect=422)
    launched = await api.post("/api/v1/contracts", launch_body(world), expect=201)
    assert launched["failed"] == [] and len(launched["contracts"]) == 1
    cid = launched["contracts"][0]["id"]
    assert launched["contracts"][0]["status"] == "signing"
    detail = await api.get(f"/api/v1/contracts/{cid}")
    assert detail["name"] == "标准劳动合同" and [p["status"] for p in detail["parties"]] == [
        "pending",
        "pending",
    ]
    assert {c["key"]: c["value"] for c in detail["controls"]}["worker_name"] == "王五", (
        "prefilled from the roster"
    )
    counts = await api.get("/api/v1/contracts/counts")
    assert (
        counts == {"all": 1, "awaiting_me": 1, "awaiting_others": 1, "completed": 0}
        or counts["awaiting_me"] == 1
    )

    sms = await api.get(f"/api/v1/dev/sms?phone={FORM['phone']}")
    assert f"/h5/contracts/{cid}" in sms["items"][0]["text"]

    # Reminders: not before 6 hours, then at most every 30 minutes.
    early = await api.post(f"/api/v1/contracts/{cid}/remind", expect=409)
    assert early["error"] == "remind_too_early" and early["next_allowed_at"]
    clock.advance(hours=6)
    reminded = await api.post(f"/api/v1/contracts/{cid}/remind", expect=200)
    assert reminded["reminded_at"]
    again = await api.post(f"/api/v1/contracts/{cid}/remind", expect=409)
    assert again["error"] == "remind_too_frequent"

    mine = await worker.get("/api/v1/me/contracts/counts")
    assert mine["awaiting_me"] == 1
    seen = await worker.get(f"/api/v1/me/contracts/{cid}")
    stranger = await make_api()
    await stranger.login(clock, "13900000001", side="worker")
    await stranger.get(f"/api/v1/me/contracts/{cid}", expect=404)
    await stranger.get(f"/api/v1/contracts/{cid}/document.pdf", expect=404)

    assert seen["awaiting_me"] is True
    refused = await worker.post(
        f"/api/v1/me/contracts/{cid}/signature", {"signature_png": signature_png()}, expect=422
    )
    assert "fields.bank_account" in refused["fields"]
    await worker.post(
        f"/api/v1/me/contracts/{cid}/signature",
        {
            "signature_png": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
            "fields": {"bank_account": "6222020000000000"},
        },
    )
    assert worker.last_status in (415, 422)
    started = await worker.post(
        f"/api/v1/me/contracts/{cid}/signature",
        {
            "signature_png": signature_png(),
            "fields": {"bank_account": "6222020000000000"},
            "save_signature": True,
        },
        expect=201,
    )
    assert started["intent"]["method"] == "sms" and started["intent"]["phone_masked"] == "137****7000"
    code = (await worker.get(f"/api/v1/dev/sms?phone={FORM['phone']}"))["items"][0]["code"]
    wrong = "000000" if code != "000000" else "111111"
    await worker.post(f"/api/v1/signing-sessions/{started['id']}/confirm", {"code": wrong}, expect=422)
    # Two confirmations at once sign once.
    first, second = await asyncio.gather(
        worker.call("POST", f"/api/v1/signing-sessions/{started['id']}/confirm", {"code": code}),
        worker.call("POST", f"/api/v1/signing-sessions/{started['id']}/confirm", {"code": code}),
    )
    results = [r for r in (first, second) if isinstance(r, dict) and "signed" in r]
    assert len(results) == 1 and results[0]["signed"] == [cid]
    after = await api.get(f"/api/v1/contracts/{cid}")
    assert [p["status"] for p in after["parties"]] == ["signed", "pending"]
    assert (await api.get("/api/v1/contracts?view=awaiting_me"))["total"] == 1

    # The enterprise signs with its seal.
    session = await api.post(
        "/api/v1/signing-sessions", {"contract_ids": [cid], "seal_id": world["seal"]["id"], "intent_method": "sms"},
        expect=201,
    )  # fmt: skip
    code = (await api.get("/api/v1/dev/sms?phone=13800138000"))["items"][0]["code"]
    done = await api.post(f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": code}, expect=200)
    assert done == {"signed": [cid], "failed": []}
    final = await api.get(f"/api/v1/contracts/{cid}")
    assert final["status"] == "completed" and final["completed_at"]
    await api.post(f"/api/v1/contracts/{cid}/withdraw", {"reason": "x"}, expect=409)

    pdf = await worker.get(f"/api/v1/contracts/{cid}/document.pdf")
    report = await client.app[DEPS].pdf.verify(pdf)
    assert [s.signer for s in report.signatures] == ["王五", "广州测试科技有限公司"]
    # The enterprise's certificate names the operator who signed, as they proved who they are.
    assert "经办人 张管理" in report.signatures[1].signer_subject
    assert (
        all(s.intact and s.trusted for s in report.signatures) and report.signatures[-1].covers_whole_document
    )
    await _independent_verifiers(api, client, pdf)
    events = await api.get(f"/api/v1/contracts/{cid}/events")
    kinds = [e["kind"] for e in events["items"]]
    assert events["chain_intact"] is True
    for kind in ("created", "launched", "reminded", "viewed", "intent_verified", "signed", "completed"):
        assert kind in kinds, kind
    evidence = await api.get(f"/api/v1/contracts/{cid}/evidence.pdf")
    from io import BytesIO

    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(BytesIO(evidence)).pages)
    assert "出证报告" in text and cid in text and final["document_sha256"][:16] in text
    assert "完整" in text
    assert "经办人：张管理" in text.replace("\n", "")
    # The worker's row names how they proved who they are (carrier check), not a generic phrase.
    assert "手机认证（运营商三要素）" in text.replace("\n", "") and "平台实名认证" not in text
    signed_report = await client.app[DEPS].pdf.verify(evidence)
    assert signed_report.signatures[0].intact and signed_report.signatures[0].trusted
    done_sms = await api.get(f"/api/v1/dev/sms?phone={FORM['phone']}")
    assert "签署完成" in done_sms["items"][0]["text"]


async def test_withdraw_reinitiate_decline_expire(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=FORM["phone"])
    cid = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    await api.post(f"/api/v1/contracts/{cid}/reinitiate", expect=409)
    await api.post(f"/api/v1/contracts/{cid}/withdraw", {"reason": ""}, expect=422)
    withdrawn = await api.post(f"/api/v1/contracts/{cid}/withdraw", {"reason": "岗位调整"}, expect=200)
    assert withdrawn["status"] == "withdrawn"
    # Nobody waits for the parties of a withdrawn contract: they read 未签署, not 待签署.
    for seen in (
        await api.get(f"/api/v1/contracts/{cid}"),
        (await world["worker"].get("/api/v1/me/contracts?view=all"))["items"][0],
    ):
        assert [p["status_label"] for p in seen["parties"]] == ["未签署", "未签署"]
    await api.post(f"/api/v1/contracts/{cid}/remind", expect=409)
    fresh = await api.post(f"/api/v1/contracts/{cid}/reinitiate", expect=201)
    assert fresh["id"] != cid and fresh["status"] == "signing"

    worker: Api = world["worker"]
    await worker.post(f"/api/v1/me/contracts/{fresh['id']}/decline", {"reason": "薪资与约定不符"}, expect=200)
    assert (await api.get(f"/api/v1/contracts/{fresh['id']}"))["status"] == "rejected"

    deadline = (clock.now() + timedelta(days=1)).isoformat()
    third = (await api.post("/api/v1/contracts", launch_body(world, sign_deadline=deadline), expect=201))[
        "contracts"
    ][0]
    from laborsign.core.services.contracts.lifecycle import expire_due

    assert await expire_due(client.app[DEPS]) == 0
    clock.advance(days=1, seconds=1)
    assert await expire_due(client.app[DEPS]) == 1
    assert (await api.get(f"/api/v1/contracts/{third['id']}"))["status"] == "expired"


async def test_verify_endpoint(api: Api, make_api: Any, client: Any, clock: FakeClock) -> None:
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("file", b"not a pdf", filename="x.pdf")
    answer = await api.call("POST", "/api/v1/verify", data=form)
    assert api.last_status == 415 and answer["message"]


async def test_labor_law_warnings_and_underage_worker(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"])
    extra = [
        {"key": k, "label": label, "kind": kind, "file": 0, "page": 2, "x": 60, "y": 100 + 30 * i, "width": 150,
         "height": 20, "required": True, "filled_by": "initiator"}
        for i, (k, label, kind) in enumerate([
            ("contract_start_date", "合同开始", "date"), ("contract_end_date", "合同结束", "date"),
            ("probation_months", "试用期（月）", "number"), ("wage", "月工资", "number"),
            ("probation_wage", "试用期工资", "number"),
        ])
    ]  # fmt: skip
    template = await upload(api, name="固定期限合同")
    await api.call(
        "PUT", f"/api/v1/templates/{template['id']}/controls", {"controls": CONTROLS + extra}, expect=200
    )
    await api.post(f"/api/v1/templates/{template['id']}/enable", expect=200)
    body = launch_body(
        {**world, "template": template},
        fields={
            "salary": "6000", "position": "技工", "contract_start_date": "2027-01-01",
            "contract_end_date": "2027-11-30", "probation_months": "3", "wage": "5000", "probation_wage": "2000",
        },
    )  # fmt: skip
    refused = await api.post("/api/v1/contracts", body, expect=409)
    assert refused["error"] == "labor_law_warnings"
    assert {w["code"] for w in refused["workers"][0]["warnings"]} == {
        "probation_too_long",
        "probation_wage_too_low",
    }
    assert (await api.get("/api/v1/contracts"))["total"] == 0
    body["confirm_warnings"] = True
    launched = await api.post("/api/v1/contracts", body, expect=201)
    codes = {w["code"] for w in launched["warnings"]}
    assert codes == {"probation_too_long", "probation_wage_too_low"}
    assert any("2500" in w["message"] and "广州市" in w["message"] for w in launched["warnings"])

    # A worker under 16 on the start date gets no contract; the others do.
    young = await make_api()
    from tests.test_onboarding import onboard

    record = await onboard(
        api, young, clock,
        {**FORM, "name": "小明", "phone": "13500135001", "id_number": "440101201106015011", "birth_date": "2011-06-01"},
    )  # fmt: skip
    young_id = (await api.post(f"/api/v1/onboarding/{record['id']}/approve", {}, expect=200))["employee_id"]
    body["employee_ids"] = [world["employee_id"], young_id]
    both = await api.post("/api/v1/contracts", body, expect=201)
    assert [c["employee_id"] for c in both["contracts"]] == [world["employee_id"]]
    assert both["failed"][0]["employee_id"] == young_id and "16" in both["failed"][0]["message"]


async def test_initiate_from_an_uploaded_pdf(api: Api, make_api: Any, client: Any, clock: FakeClock) -> None:
    import json

    import aiohttp

    from tests.pdfs import make_pdf

    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=FORM["phone"])

    async def send(meta: dict[str, Any], data: bytes) -> Any:
        form = aiohttp.FormData()
        form.add_field("file", data, filename="合同.pdf", content_type="application/pdf")
        form.add_field("meta", json.dumps(meta, ensure_ascii=False))
        return await api.call("POST", "/api/v1/contracts/upload", data=form)

    meta = {
        "name": "上传的劳动合同",
        "employee_ids": [world["employee_id"]],
        "enterprise_party": {"seal_type": "official"},
        "placements": [
            {"party": "worker", "file": 0, "page": 1, "x": 320, "y": 700, "width": 150, "height": 60},
            {"party": "enterprise", "file": 0, "page": 1, "x": 80, "y": 640, "width": 120, "height": 120},
        ],
    }
    only_worker = await send({**meta, "placements": meta["placements"][:1]}, make_pdf(1))
    assert api.last_status == 422 and "placements" in only_worker["fields"]
    outside = await send(
        {**meta, "placements": [{**meta["placements"][0], "x": 590}, meta["placements"][1]]}, make_pdf(1)
    )
    assert api.last_status == 422 and "placements[0].x" in outside["fields"]
    not_pdf = await send(meta, b"hello")
    assert api.last_status == 415 and not_pdf["message"]
    launched = await send(meta, make_pdf(1))
    assert api.last_status == 201 and len(launched["contracts"]) == 1
    detail = await api.get(f"/api/v1/contracts/{launched['contracts'][0]['id']}")
    assert detail["status"] == "signing" and {c["kind"] for c in detail["controls"]} == {"signature", "seal"}


async def _independent_verifiers(api: Api, client: Any, pdf: bytes) -> None:
    """poppler's pdfsig (platform root in a throw-away NSS database) and the public verify API
    accept the final contract, and both catch one changed byte."""
    import shutil
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from tests.pdf.test_signing import _nss_db, _pdfsig

    form = aiohttp.FormData()
    form.add_field("file", pdf, filename="contract.pdf", content_type="application/pdf")
    clean = await api.call("POST", "/api/v1/verify", data=form, expect=200)
    assert clean["known_to_platform"] is True
    assert [(s["intact"], s["trusted"], s["problem"]) for s in clean["signatures"]] == [(True, True, "")] * 2
    # pyHanko's own verdict, not only ours: the worker's signature is followed by form filling
    # (the enterprise's marks in their prepared fields), which an approval signature allows.
    from io import BytesIO

    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    with tempfile.NamedTemporaryFile(suffix=".pem") as root_file:
        root_file.write(await api.get("/api/v1/pki/root.pem"))
        root_file.flush()
        roots = [load_cert_from_pemder(root_file.name)]
    for embedded in PdfFileReader(BytesIO(pdf)).embedded_signatures:
        status = await async_validate_pdf_signature(
            embedded, ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
        )
        assert status.bottom_line and status.docmdp_ok, status.pretty_print_details()
        assert status.modification_level.name in ("NONE", "FORM_FILLING")

    at = pdf.index(b"stream\n") + 20  # inside the first content stream, under every signature
    tampered = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]
    form = aiohttp.FormData()
    form.add_field("file", tampered, filename="contract.pdf", content_type="application/pdf")
    report = await api.call("POST", "/api/v1/verify", data=form, expect=200)
    assert report["signatures"] and not any(s["intact"] for s in report["signatures"])
    if shutil.which("pdfsig") is None or shutil.which("certutil") is None:
        assert os.environ.get("CI") != "true", "CI installs poppler-utils and libnss3-tools"
        return
    root = x509.load_pem_x509_certificate(await api.get("/api/v1/pki/root.pem")).public_bytes(Encoding.DER)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        nss = _nss_db(folder, root)
        (folder / "good.pdf").write_bytes(pdf)
        (folder / "bad.pdf").write_bytes(tampered)
        good = _pdfsig(nss, folder / "good.pdf")
        assert good.count("Signature is Valid.") == 2 and good.count("Certificate is Trusted.") == 2, good
        assert "Total document signed" in good
        bad = _pdfsig(nss, folder / "bad.pdf")
        assert "Signature is Valid." not in bad and "Digest Mismatch" in bad, bad


async def test_page_pictures_are_kept_only_for_the_version_they_show(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"])
    cid = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    before = (await api.get(f"/api/v1/contracts/{cid}"))["document_sha256"]
    picture = await api.get(f"/api/v1/contracts/{cid}/pages/1.png?v={before[:12]}")
    assert picture.startswith(b"\x89PNG")
    assert api.last_response.headers["Cache-Control"] == "private, max-age=604800, immutable"
    await api.get(f"/api/v1/contracts/{cid}/pages/1.png")
    assert api.last_response.headers["Cache-Control"] == "private, no-cache"
    session = await api.post(
        "/api/v1/signing-sessions", {"contract_ids": [cid], "seal_id": world["seal"]["id"]}, expect=201
    )
    code = (await api.get("/api/v1/dev/sms?phone=13800138000"))["items"][0]["code"]
    await api.post(f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": code}, expect=200)
    # The seal is on the page now: a picture asked for by the old version is not kept.
    stale = await api.get(f"/api/v1/contracts/{cid}/pages/2.png?v={before[:12]}")
    assert stale.startswith(b"\x89PNG") and api.last_response.headers["Cache-Control"] == "private, no-cache"


async def test_an_expiry_committed_first_by_another_process_wins_whole(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    """Two processes expire the same contract at once: the mapper's version check lets one
    commit; the other's transaction fails whole (Conflict), leaving no second audit row and no
    second notice to the worker."""
    from laborsign.core.contracts import Contract
    from laborsign.core.errors import Conflict
    from laborsign.core.events import ContractExpired, contract_facts
    from laborsign.core.services.contracts.audit import Context, audit_entry
    from laborsign.core.services.contracts.lifecycle import expire_due

    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=FORM["phone"])
    deadline = (clock.now() + timedelta(days=1)).isoformat()
    body = launch_body(world, sign_deadline=deadline)
    cid = (await api.post("/api/v1/contracts", body, expect=201))["contracts"][0]["id"]
    clock.advance(days=1, seconds=1)
    deps = client.app[DEPS]
    now = clock.now()
    with pytest.raises(Conflict):
        async with deps.uow() as other:  # the other process has read the contract and expires it
            contract = await other.get(Contract, cid)
            assert contract is not None and contract.expire(now)
            entry = audit_entry(
                contract, "expired", Context(), actor_type="system", actor_id=None, actor_name="平台"
            )
            other.record(ContractExpired(at=now, audit=entry, **contract_facts(contract)))
            assert await expire_due(deps) == 1  # this one commits first
            await other.commit()
    events = (await api.get(f"/api/v1/contracts/{cid}/events"))["items"]
    assert [e["kind"] for e in events].count("expired") == 1
    sms = (await api.get(f"/api/v1/dev/sms?phone={FORM['phone']}"))["items"]
    assert sum("已过期" in s["text"] for s in sms) == 1
    assert (await api.get(f"/api/v1/contracts/{cid}"))["status"] == "expired"
