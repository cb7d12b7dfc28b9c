"""Intent verification by face at signing (SPEC §2.8): the signer is sent to the identity
provider (here the sandbox, which calls back exactly like a provider), and the signatures are
applied once its signed result arrives — never on a forged, failed, replayed or late one."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import update

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from laborsign.core.services import signing
from laborsign.storage.contracts import signing_sessions
from tests.conftest import Api
from tests.test_contracts import launch_body, setup_contract_world, signature_png, verify_for_real
from tests.test_onboarding import FORM
from tests.test_verification import CARD, person


def sandbox_ref(session: dict[str, Any]) -> str:
    url = session["intent"]["redirect_url"]
    return str(urlsplit(url).path.rsplit("/", 1)[1])


async def provider_answers(client: Any, ref: str, passed: bool, reason: str = "") -> tuple[int, Any]:
    """What the provider does: a signed callback to the webhook."""
    body, headers = client.app[DEPS].identity.sandbox.signed_callback(ref, passed, reason)
    resp = await client.post("/webhooks/identity/sandbox", data=body, headers=headers)
    return resp.status, await resp.json()


async def settled(party: Api, session_id: str) -> dict[str, Any]:
    """The signer's page follows the session until it is no longer being applied."""
    for _ in range(400):
        state = await party.get(f"/api/v1/signing-sessions/{session_id}")
        if state["status"] in ("done", "expired") or state["intent"]["status"] == "failed":
            return dict(state)
        await asyncio.sleep(0.05)
    raise AssertionError(f"signing session {session_id} never settled: {state}")


async def launched_world(
    api: Api, make_api: Any, client: Any, clock: FakeClock, n: int = 1
) -> dict[str, Any]:
    world = await setup_contract_world(api, make_api, client, clock)
    await verify_for_real(api, world["worker"], clock, world["enterprise"]["id"])
    world["ids"] = [
        (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
        for _ in range(n)
    ]
    return world


async def test_worker_and_enterprise_sign_by_face(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await launched_world(api, make_api, client, clock, n=2)
    worker: Api = world["worker"]
    first, second = world["ids"]

    # The worker: handwritten signature, then the face check instead of an SMS code.
    started = await worker.post(
        f"/api/v1/me/contracts/{first}/signature",
        {"signature_png": signature_png(), "fields": {"bank_account": "6222020000000000"}, "intent_method": "face"},
        expect=201,
    )  # fmt: skip
    intent = started["intent"]
    assert intent["method"] == "face" and intent["status"] == "redirect" and "phone_masked" not in intent
    assert intent["redirect_url"].startswith("/sandbox/identity/face/")
    assert parse_qs(urlsplit(intent["redirect_url"]).query)["return"] == [f"/h5/intent/{started['id']}"]
    assert not any(
        m["purpose"] == "intent"
        for m in (await worker.get(f"/api/v1/dev/sms?phone={FORM['phone']}"))["items"]
    ), "no SMS code for a face check"
    page = await client.get(intent["redirect_url"])
    assert page.status == 200 and "人脸识别" in await page.text()
    qr = await worker.get(intent["qr_png"])
    assert qr.startswith(b"\x89PNG")
    early = await worker.post(f"/api/v1/signing-sessions/{started['id']}/confirm", {}, expect=409)
    assert early["error"] == "intent_pending" and "人脸识别" in early["message"]
    waiting = await client.get(f"/h5/intent/{started['id']}")
    assert "等待人脸识别结果" in await waiting.text()

    status, answer = await provider_answers(client, sandbox_ref(started), True)
    assert (status, answer) == (200, {"ok": True, "status": "passed"})
    done = await settled(worker, started["id"])
    assert done["status"] == "done" and done["result"] == {"signed": [first], "failed": []}
    assert done["intent"]["status"] == "passed"
    page = await client.get(f"/h5/intent/{started['id']}")
    assert "签署完成" in await page.text()
    detail = await api.get(f"/api/v1/contracts/{first}")
    assert [p["status"] for p in detail["parties"]] == ["signed", "pending"]
    # A replayed result changes nothing, and the session cannot be confirmed again.
    version = (await api.get(f"/api/v1/contracts/{first}"))["document_sha256"]
    assert (await provider_answers(client, sandbox_ref(started), True)) == (
        200,
        {"ok": True, "status": "passed"},
    )
    again = await worker.post(f"/api/v1/signing-sessions/{started['id']}/confirm", {}, expect=409)
    assert again["error"] == "session_used"
    assert (await api.get(f"/api/v1/contracts/{first}"))["document_sha256"] == version

    # The enterprise: one face check for a batch; a failed check signs nothing.
    body = {"contract_ids": [first, second], "seal_id": world["seal"]["id"], "intent_method": "face"}
    failing = await api.post("/api/v1/signing-sessions", body, expect=201)
    await worker.get(f"/api/v1/signing-sessions/{failing['id']}", expect=404)  # not the worker's
    assert (await provider_answers(client, sandbox_ref(failing), False, "活体检测未通过"))[0] == 200
    failed = await settled(api, failing["id"])
    assert failed["intent"]["status"] == "failed" and failed["intent"]["reason"] == "活体检测未通过"
    refused = await api.post(f"/api/v1/signing-sessions/{failing['id']}/confirm", {}, expect=409)
    assert refused["error"] == "intent_failed" and "活体检测未通过" in refused["message"]
    page = await client.get(f"/h5/intent/{failing['id']}")
    assert "人脸识别未通过" in await page.text()
    for cid in (first, second):
        parties = (await api.get(f"/api/v1/contracts/{cid}"))["parties"]
        assert parties[1]["status"] == "pending"
        trail = await api.get(f"/api/v1/contracts/{cid}/events")
        failed_try = [e for e in trail["items"] if e["kind"] == "intent_failed"]
        assert len(failed_try) == 1 and failed_try[0]["label"] == "意愿认证未通过"
        assert failed_try[0]["method"] == "face" and trail["chain_intact"] is True

    passing = await api.post("/api/v1/signing-sessions", body, expect=201)
    assert (await provider_answers(client, sandbox_ref(passing), True))[0] == 200
    assert (await settled(api, passing["id"]))["result"] == {"signed": [first, second], "failed": []}
    final = await api.get(f"/api/v1/contracts/{first}")
    assert final["status"] == "completed"
    assert (await api.get(f"/api/v1/contracts/{second}"))["status"] == "signing"  # the worker has not signed

    pdf = await worker.get(f"/api/v1/contracts/{first}/document.pdf")
    report = await client.app[DEPS].pdf.verify(pdf)
    assert [s.signer for s in report.signatures] == ["王五", "广州测试科技有限公司"]
    assert all(s.intact and s.trusted for s in report.signatures)
    # The worker's certificate names the verified identity, masked.
    masked = FORM["id_number"][:4] + "*" * 10 + FORM["id_number"][-4:]
    assert (
        masked in report.signatures[0].signer_subject
        and FORM["id_number"] not in report.signatures[0].signer_subject
    )
    events = (await api.get(f"/api/v1/contracts/{first}/events"))["items"]
    intents = [e for e in events if e["kind"] == "intent_verified"]
    assert [e["method"] for e in intents] == ["face", "face"]
    assert events[-1]["kind"] == "completed"
    evidence = await api.get(f"/api/v1/contracts/{first}/evidence.pdf")
    from io import BytesIO

    from pypdf import PdfReader

    assert "人脸识别" in "".join(p.extract_text() for p in PdfReader(BytesIO(evidence)).pages)


async def test_face_needs_a_resident_id_identity(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await launched_world(api, make_api, client, clock)
    # Another member of the enterprise, verified with a passport: the face provider cannot check it.
    member = await make_api()
    await api.post(
        "/api/v1/members",
        {"name": "李经办", "phone": "13900139000", "permissions": ["contracts"]},
        expect=201,
    )
    await member.login(clock, "13900139000")
    v = await member.post(
        "/api/v1/me/verifications",
        person("bankcard4", name="李经办", id_type="passport", id_number="E12345678", bank_card=CARD,
               phone="13900139000"),
        expect=201,
    )  # fmt: skip
    assert v["status"] == "verified"
    body = {"contract_ids": world["ids"], "seal_id": world["seal"]["id"], "intent_method": "face"}
    refused = await member.post("/api/v1/signing-sessions", body, expect=409)
    assert refused["error"] == "face_unavailable" and "短信验证码" in refused["message"]
    bad = await member.post("/api/v1/signing-sessions", dict(body, intent_method="fingerprint"), expect=422)
    assert "intent_method" in bad["fields"]
    # SMS stays available to the same member.
    await member.post("/api/v1/signing-sessions", dict(body, intent_method="sms"), expect=201)


async def test_a_face_result_after_the_session_expired_signs_nothing(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await launched_world(api, make_api, client, clock)
    cid = world["ids"][0]
    session = await api.post(
        "/api/v1/signing-sessions", {"contract_ids": [cid], "seal_id": world["seal"]["id"], "intent_method": "face"},
        expect=201,
    )  # fmt: skip
    clock.advance(minutes=11)
    assert (await api.get(f"/api/v1/signing-sessions/{session['id']}"))["status"] == "expired"
    assert (await provider_answers(client, sandbox_ref(session), True))[0] == 200
    state = await settled(api, session["id"])
    assert state["intent"]["status"] == "failed" and "超时" in state["intent"]["reason"]
    assert (await api.get(f"/api/v1/contracts/{cid}"))["parties"][1]["status"] == "pending"
    # Forged and foreign results are refused before anything is looked up.
    forged_body, headers = client.app[DEPS].identity.sandbox.signed_callback(sandbox_ref(session), True)
    resp = await client.post("/webhooks/identity/sandbox", data=forged_body + b" ", headers=headers)
    assert resp.status == 403


async def test_a_verified_face_is_applied_once_by_whoever_comes_first(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    """The process that received the result stopped before applying it: the resume job and the
    signer's confirmation race for it, and the contract is signed exactly once."""
    world = await launched_world(api, make_api, client, clock)
    cid = world["ids"][0]
    session = await api.post(
        "/api/v1/signing-sessions", {"contract_ids": [cid], "seal_id": world["seal"]["id"], "intent_method": "face"},
        expect=201,
    )  # fmt: skip
    deps = client.app[DEPS]
    async with deps.uow() as uow:  # the result recorded, the work it spawned lost
        await uow.session.execute(
            update(signing_sessions)
            .where(signing_sessions.c.id == session["id"])
            .values(intent_status="passed")
        )
        await uow.commit()
    one, confirmed, other = await asyncio.gather(
        signing.resume_signing(deps),
        api.call("POST", f"/api/v1/signing-sessions/{session['id']}/confirm", {}),
        signing.resume_signing(deps),
    )
    state = await settled(api, session["id"])
    assert state["result"] == {"signed": [cid], "failed": []}
    by_confirm = isinstance(confirmed, dict) and confirmed.get("signed") == [cid]
    assert one + other + by_confirm == 1, (one, confirmed, other)
    events = (await api.get(f"/api/v1/contracts/{cid}/events"))["items"]
    assert [e["kind"] for e in events].count("signed") == 1
    pdf = await api.get(f"/api/v1/contracts/{cid}/document.pdf")
    assert len((await deps.pdf.verify(pdf)).signatures) == 1
    assert await signing.resume_signing(deps) == 0


async def test_only_the_contracts_employee_signs_and_the_certificate_names_the_verified_person(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    """HR retyped the roster's name: the verified person is no longer the employee the contract
    names, so nothing is signed, the refusal is in the audit trail and HR sees why. Once the
    roster is right again the worker signs, and the certificate states who proved their identity."""
    world = await setup_contract_world(api, make_api, client, clock)
    await verify_for_real(api, world["worker"], clock, world["enterprise"]["id"])
    await api.call("PATCH", f"/api/v1/employees/{world['employee_id']}", {"name": "王伍"}, expect=200)
    cid = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    worker: Api = world["worker"]
    body = {"signature_png": signature_png(), "fields": {"bank_account": "6222020000000000"}}
    refused = await worker.post(f"/api/v1/me/contracts/{cid}/signature", body, expect=409)
    assert refused["error"] == "identity_mismatch" and "姓名" in refused["message"]
    detail = await api.get(f"/api/v1/contracts/{cid}")
    assert detail["parties"][1]["status"] == "pending" and detail["status"] == "signing"
    assert detail["signer_refusal"]["reason"] == "实名认证姓名与花名册姓名不一致"
    assert detail["signer_refusal"]["verified_name"] == "王五" and detail["signer_refusal"]["roster_name"] == "王伍"
    events = await api.get(f"/api/v1/contracts/{cid}/events")
    assert [e["kind"] for e in events["items"]][-1] == "identity_mismatch"
    inbox = await worker.get(f"/api/v1/dev/sms?phone={FORM['phone']}")
    assert all(m["purpose"] != "intent" for m in inbox["items"]), "no intent code for a refused signer"

    await api.call("PATCH", f"/api/v1/employees/{world['employee_id']}", {"name": "王五"}, expect=200)
    session = await worker.post(f"/api/v1/me/contracts/{cid}/signature", body, expect=201)
    code = (await worker.get(f"/api/v1/dev/sms?phone={FORM['phone']}"))["items"][0]["code"]
    await worker.post(f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": code}, expect=200)
    pdf = await worker.get(f"/api/v1/contracts/{cid}/document.pdf")
    (signature,) = (await client.app[DEPS].pdf.verify(pdf)).signatures
    assert signature.signer == "王五" and signature.intact
    assert "signer_refusal" not in await api.get(f"/api/v1/contracts/{cid}")


async def test_a_batch_cut_short_by_shutdown_is_finished_later_each_contract_signed_once(
    api: Api, make_api: Any, client: Any, clock: FakeClock, monkeypatch: Any
) -> None:
    world = await launched_world(api, make_api, client, clock, n=2)
    first, second = world["ids"]
    deps = client.app[DEPS]
    real_sign = deps.pdf.sign
    calls: list[int] = []
    second_started = asyncio.Event()

    async def stalls_on_the_second(data: bytes, spec: Any) -> bytes:
        calls.append(1)
        if len(calls) == 2:
            second_started.set()
            await asyncio.Event().wait()  # never finishes: the process is stopped here
        return await real_sign(data, spec)

    monkeypatch.setattr(signing, "LAUNCH_CONCURRENCY", 1)  # one contract at a time
    monkeypatch.setattr(deps.pdf, "sign", stalls_on_the_second)
    session = await api.post(
        "/api/v1/signing-sessions",
        {"contract_ids": [first, second], "seal_id": world["seal"]["id"], "intent_method": "face"},
        expect=201,
    )
    assert (await provider_answers(client, sandbox_ref(session), True))[0] == 200
    await asyncio.wait_for(second_started.wait(), 30)
    await deps.tasks.drain(grace=0)  # shutdown: the applying task is cancelled
    state = await api.get(f"/api/v1/signing-sessions/{session['id']}")
    # Handed back half applied: still confirming, its lease ended so any process resumes it.
    assert state["status"] == "confirming" and state["intent"]["status"] == "passed"
    assert (await api.get(f"/api/v1/contracts/{first}"))["parties"][1]["status"] == "signed"
    assert (await api.get(f"/api/v1/contracts/{second}"))["parties"][1]["status"] == "pending"

    monkeypatch.setattr(deps.pdf, "sign", real_sign)
    assert await signing.resume_signing(deps) == 1  # the next process's job
    state = await settled(api, session["id"])
    assert state["result"] == {"signed": [first, second], "failed": []}
    for cid in (first, second):
        events = (await api.get(f"/api/v1/contracts/{cid}/events"))["items"]
        assert [e["kind"] for e in events].count("signed") == 1
