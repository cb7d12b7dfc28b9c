"""Real-name verification over HTTP, on SQLite and PostgreSQL: format rules before any provider,
the three personal methods, bank-card limits, signed face callbacks, and the enterprise steps."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from laborsign.core.services.accounts import create_platform_staff
from tests.conftest import Api

ID_A = "440106199003071231"
ID_B = "11010519491231002X"
ID_C = "440304200001010017"
CARD = "6217000000000000004"
CARD_2 = "6228480012345671"


def person(method: str = "carrier3", **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "method": method,
        "consent": True,
        "name": "王小明",
        "id_type": "resident_id",
        "id_number": ID_A,
        "phone": "13700137000",
    }
    if method == "bankcard4":
        body["bank_card"] = CARD
    if method == "face":
        body.pop("phone")
    body.update(kw)
    return body


async def verify_by_carrier(
    api: Api, clock: FakeClock, phone: str, name: str = "王小明", id_number: str = ID_A
) -> Any:
    v = await api.post(
        "/api/v1/me/verifications", person(name=name, id_number=id_number, phone=phone), expect=201
    )
    assert v["status"] == "code_sent", v
    inbox = await api.get(f"/api/v1/dev/sms?phone={phone}")
    done = await api.post(
        f"/api/v1/me/verifications/{v['id']}/confirm", {"code": inbox["items"][0]["code"]}, expect=200
    )
    assert done["status"] == "verified"
    clock.advance(seconds=61)
    return done


async def test_consent_first_and_every_format_rule_before_the_provider(api: Api, clock: FakeClock) -> None:
    await api.login(clock, "13700137000", "worker")
    cases: list[tuple[dict[str, Any], str, str]] = [
        (person(consent=False), "consent", "实名认证服务协议"),
        (person(id_number="440106199003071232"), "id_number", "校验位"),
        (person(id_number="440106199002301231"), "id_number", "出生日期不存在"),
        (person(id_number="440106203003071231"), "id_number", "出生日期"),
        (person(id_number="99010619900307123X"), "id_number", "地区码"),
        (person(id_type="passport", id_number="E12345678"), "id_type", "仅支持中国大陆居民身份证"),
        (person(phone="17012345678"), "phone", "虚拟运营商"),
        (person(phone="12345678901"), "phone", "手机号格式不正确"),
        (person("face", id_type="taiwan_permit", id_number="12345678"), "id_type", "人脸识别认证仅支持"),
        (person("bankcard4", bank_card="6217000000000000005"), "bank_card", "校验失败"),
        (person("bankcard4", bank_card="621700000"), "bank_card", "16-19位"),
        (person("bankcard4", id_type="hk_macau_permit", id_number="X1234567"), "id_number", "H或M开头"),
        (person("bankcard4", id_type="taiwan_permit", id_number="1234567"), "id_number", "8位数字"),
        (person("bankcard4", id_type="passport", id_number="ABCDEFG"), "id_number", "护照号码"),
        (person(method="nfc"), "method", "请选择认证方式"),
        (person(name=""), "name", "请输入姓名"),
    ]
    for body, field, text in cases:
        answer = await api.post("/api/v1/me/verifications", body, expect=422)
        assert text in answer["fields"][field], (body, answer)
    state = await api.get("/api/v1/me/verification")
    assert state["verified"] is False and state["latest"] is None  # nothing was tried
    assert (await api.get("/api/v1/dev/sms?phone=17012345678"))["items"] == []


async def test_carrier_three_factors_then_sms_code(api: Api, client: Any, clock: FakeClock) -> None:
    await api.login(clock, "13600136000", "worker")
    v = await api.post("/api/v1/me/verifications", person(phone="13700137000"), expect=201)
    assert v["status"] == "code_sent" and v["phone_masked"] == "137****7000"
    assert v["id_number_masked"] == "4401**********1231"
    wrong = await api.post(f"/api/v1/me/verifications/{v['id']}/confirm", {"code": "000000"}, expect=422)
    assert wrong["error"] == "bad_code"
    inbox = await api.get("/api/v1/dev/sms?phone=13700137000")
    assert "实名认证" in inbox["items"][0]["text"]
    done = await api.post(
        f"/api/v1/me/verifications/{v['id']}/confirm", {"code": inbox["items"][0]["code"]}, expect=200
    )
    assert done["status"] == "verified"
    me = await api.get("/api/v1/me")
    assert me["user"]["verified"] is True and me["user"]["name"] == "王小明"
    state = await api.get("/api/v1/me/verification")
    assert state["id_number_masked"] == "4401**********1231" and state["method"] == "carrier3"
    # Verified once: never asked again.
    again = await api.post("/api/v1/me/verifications", person("bankcard4"), expect=409)
    assert again["error"] == "already_verified"
    # The consent, its version and time are stored.
    from sqlalchemy import text

    async with client.app[DEPS].db.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT version, accepted_at FROM agreement_acceptances WHERE agreement = 'identity_service'"
                )
            )
        ).all()
        consent = (
            await conn.execute(text("SELECT consent_version, consent_at FROM person_verifications"))
        ).all()
    assert rows and rows[0][0] == "2026-11" and rows[0][1] is not None
    assert consent[0][0] == "2026-11"


async def test_sandbox_failure_trigger_and_a_closed_attempt(api: Api, clock: FakeClock) -> None:
    await api.login(clock, "13600136000", "worker")
    v = await api.post("/api/v1/me/verifications", person(name="测试失败"), expect=201)
    assert v["status"] == "failed" and "不一致" in v["reason"]
    closed = await api.post(f"/api/v1/me/verifications/{v['id']}/confirm", {"code": "123456"}, expect=409)
    assert closed["error"] == "verification_closed"
    assert (await api.get(f"/api/v1/me/verifications/{v['id']}"))["status"] == "failed"


async def test_bank_card_with_each_id_type(api: Api, make_api: Any, clock: FakeClock) -> None:
    documents = [
        ("resident_id", ID_B),
        ("hk_macau_permit", "H12345678"),
        ("taiwan_permit", "87654321"),
        ("passport", "E12345678"),
    ]
    for i, (id_type, number) in enumerate(documents):
        b = await make_api()
        await b.login(clock, f"1390013900{i}", "worker")
        v = await b.post(
            "/api/v1/me/verifications",
            person("bankcard4", id_type=id_type, id_number=number, name="陈大文", bank_card=CARD_2),
            expect=201,
        )
        assert v["status"] == "verified", v
        assert v["bank_card_masked"] == "6228********5671"
        assert (await b.get("/api/v1/me"))["user"]["verified"] is True


async def test_bank_card_limits_two_a_minute_three_a_day(api: Api, clock: FakeClock) -> None:
    await api.login(clock, "13600136000", "worker")
    failing = person("bankcard4", name="测试失败")
    for _ in range(2):
        assert (await api.post("/api/v1/me/verifications", failing, expect=201))["status"] == "failed"
    minute = await api.post("/api/v1/me/verifications", failing, expect=429)
    assert minute["error"] == "bankcard_minute_limit" and 1 <= minute["retry_after"] <= 60
    assert api.last_response.headers["Retry-After"] == str(minute["retry_after"])
    clock.advance(seconds=minute["retry_after"])
    assert (await api.post("/api/v1/me/verifications", failing, expect=201))["status"] == "failed"
    clock.advance(minutes=5)
    daily = await api.post("/api/v1/me/verifications", person("bankcard4"), expect=429)
    assert daily["error"] == "bankcard_daily_limit" and daily["retry_after"] > 60
    # Format errors are reported before the limit and do not count.
    assert await api.post("/api/v1/me/verifications", person("bankcard4", bank_card="1"), expect=422)
    # The other methods are not limited by the bank-card count.
    assert (await api.post("/api/v1/me/verifications", person(), expect=201))["status"] == "code_sent"
    clock.advance(seconds=daily["retry_after"])
    assert (await api.post("/api/v1/me/verifications", person("bankcard4"), expect=201))[
        "status"
    ] == "verified"


async def test_face_redirect_signed_callback_forgery_and_replay(
    api: Api, client: Any, clock: FakeClock
) -> None:
    await api.login(clock, "13600136000", "worker")
    v = await api.post("/api/v1/me/verifications", person("face"), expect=201)
    assert v["status"] == "redirect" and v["redirect_url"].startswith("/sandbox/identity/face/")
    qr = await client.get(v["qr_png"])
    assert qr.status == 200 and (await qr.read()).startswith(b"\x89PNG")
    sandbox = client.app[DEPS].identity.sandbox
    ref = v["redirect_url"].split("/")[-1].split("?")[0]
    body, headers = sandbox.signed_callback(ref, True)

    async def post(data: bytes, hdrs: dict[str, str]) -> Any:
        resp = await client.post("/webhooks/identity/sandbox", data=data, headers=hdrs)
        return resp.status, await resp.json()

    forged_headers = dict(headers, **{"X-Sandbox-Signature": headers["X-Sandbox-Signature"][:-4] + "0000"})
    assert (await post(body, forged_headers))[0] == 403
    assert (await post(body.replace(b'"pass"', b'"fail"'), headers))[0] == 403  # body changed
    assert (await post(body, {"Content-Type": "application/json"}))[0] == 403  # no signature
    assert (await post(b"<xml>", {"X-Sandbox-Signature": "t=x,v1=y"}))[0] == 403
    assert (await api.get(f"/api/v1/me/verifications/{v['id']}"))["status"] == "redirect"
    unknown, unknown_headers = sandbox.signed_callback("sbx_face_unknown", True)
    assert (await post(unknown, unknown_headers))[0] == 403
    clock.advance(minutes=11)
    assert (await post(body, headers))[0] == 403  # stale signature
    assert (await api.get(f"/api/v1/me/verifications/{v['id']}"))["status"] == "redirect"
    clock.advance(minutes=-11)

    status, answer = await post(body, headers)
    assert status == 200 and answer["status"] == "verified"
    assert (await api.get(f"/api/v1/me/verifications/{v['id']}"))["status"] == "verified"
    fail_body, fail_headers = sandbox.signed_callback(ref, False)
    assert (await post(fail_body, fail_headers)) == (
        200,
        {"ok": True, "status": "verified"},
    )  # replay: no change
    assert (await api.get("/api/v1/me"))["user"]["verified"] is True


async def test_face_failure_by_callback(api: Api, client: Any, clock: FakeClock) -> None:
    await api.login(clock, "13600136000", "worker")
    v = await api.post("/api/v1/me/verifications", person("face"), expect=201)
    ref = v["redirect_url"].split("/")[-1].split("?")[0]
    body, headers = client.app[DEPS].identity.sandbox.signed_callback(ref, False, "活体检测未通过")
    resp = await client.post("/webhooks/identity/sandbox", data=body, headers=headers)
    assert resp.status == 200
    got = await api.get(f"/api/v1/me/verifications/{v['id']}")
    assert got["status"] == "failed" and got["reason"] == "活体检测未通过"
    assert (await api.get("/api/v1/me"))["user"]["verified"] is False


async def test_someone_elses_verification_is_404(api: Api, make_api: Any, clock: FakeClock) -> None:
    await api.login(clock, "13600136000", "worker")
    v = await api.post("/api/v1/me/verifications", person(), expect=201)
    other = await make_api()
    await other.login(clock, "13500135000", "worker")
    await other.get(f"/api/v1/me/verifications/{v['id']}", expect=404)
    await other.post(f"/api/v1/me/verifications/{v['id']}/confirm", {"code": "123456"}, expect=404)


# --- enterprises ------------------------------------------------------------------------------------


async def test_enterprise_steps_in_order_and_corporate_payment(
    api: Api, client: Any, clock: FakeClock
) -> None:
    reg = await api.register_enterprise(clock)
    enterprise_id = reg["enterprise"]["id"]
    state = await api.get("/api/v1/enterprise/verification")
    assert state["status"] == "unverified" and state["step"] == "confirm_info"
    payment = {
        "method": "corporate_payment",
        "bank_name": "中国工商银行广州分行",
        "bank_account": "3602000109000012345",
        "account_name": "广州测试科技有限公司",
    }
    refused = await api.post("/api/v1/enterprise/verification", payment, expect=409)
    assert refused["error"] == "operator_not_verified"
    assert (await api.post("/api/v1/enterprise/verification/info", expect=200))["step"] == "operator"
    await verify_by_carrier(api, clock, "13800138000", name="张管理")
    assert (await api.get("/api/v1/enterprise/verification"))["step"] == "organization"

    bad = await api.post(
        "/api/v1/enterprise/verification",
        dict(payment, account_name="别的公司", bank_account="12"),
        expect=422,
    )
    assert set(bad["fields"]) == {"account_name", "bank_account"}
    started = await api.post("/api/v1/enterprise/verification", payment, expect=201)
    assert started["status"] == "pending" and started["bank_account_masked"] == "3602***********2345"
    assert (await api.get("/api/v1/me"))["enterprise"]["verification_status"] == "pending"
    paid = (await api.get(f"/api/v1/dev/payments?enterprise_id={enterprise_id}"))["items"][0]
    amount = paid["amount"]
    assert "0.01" <= amount <= "0.99"
    wrong = "0.01" if amount != "0.01" else "0.02"

    # Contracts are refused with the missing step named.
    from laborsign.core.accounts import Enterprise
    from laborsign.core.errors import WrongState
    from laborsign.core.verification import require_enterprise_verified

    async with client.app[DEPS].uow() as uow:
        stored = await uow.get(Enterprise, enterprise_id)
    try:
        require_enterprise_verified(stored)
        raise AssertionError("should refuse")
    except WrongState as exc:
        assert exc.code == "enterprise_not_verified" and "组织机构核验" in exc.message

    for left in (2, 1):
        answer = await api.post("/api/v1/enterprise/verification/confirm", {"amount": wrong}, expect=422)
        assert answer["attempts_left"] == left and answer["status"] == "pending"
    assert (await api.post("/api/v1/enterprise/verification/confirm", {"amount": "1.50"}, expect=422))[
        "fields"
    ]["amount"]
    third = await api.post("/api/v1/enterprise/verification/confirm", {"amount": wrong}, expect=422)
    assert third["status"] == "failed" and third["attempts_left"] == 0
    state = await api.get("/api/v1/enterprise/verification")
    assert state["status"] == "failed" and "3次" in state["reason"]
    await api.post("/api/v1/enterprise/verification/confirm", {"amount": amount}, expect=409)

    await api.post("/api/v1/enterprise/verification", payment, expect=201)  # restart: a new payment
    amount = (await api.get(f"/api/v1/dev/payments?enterprise_id={enterprise_id}"))["items"][0]["amount"]
    done = await api.post("/api/v1/enterprise/verification/confirm", {"amount": amount + "元"}, expect=200)
    assert done["status"] == "verified"
    me = await api.get("/api/v1/me")
    assert me["enterprise"]["verification_status"] == "verified"
    assert (await api.get("/api/v1/enterprise/verification"))["step"] == "done"
    assert (await api.post("/api/v1/enterprise/verification", payment, expect=409))[
        "error"
    ] == "already_verified"


async def test_legal_representative_by_sms_code(api: Api, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    await verify_by_carrier(api, clock, "13800138000", name="张管理")
    rep = {
        "method": "legal_rep",
        "legal_rep_name": "李法人",
        "legal_rep_id_number": ID_C,
        "legal_rep_phone": "13900139000",
    }
    bad = await api.post(
        "/api/v1/enterprise/verification", dict(rep, legal_rep_phone="17112345678"), expect=422
    )
    assert "虚拟" in bad["fields"]["legal_rep_phone"]
    started = await api.post("/api/v1/enterprise/verification", rep, expect=201)
    assert started["legal_rep_id_masked"] == "4403**********0017"
    assert started["legal_rep_phone_masked"] == "139****9000"
    wrong = await api.post("/api/v1/enterprise/verification/confirm", {"code": "000000"}, expect=422)
    assert wrong["error"] == "bad_code" and wrong["status"] == "pending"
    inbox = await api.get("/api/v1/dev/sms?phone=13900139000")
    assert "法定代表人" in inbox["items"][0]["text"]
    done = await api.post(
        "/api/v1/enterprise/verification/confirm", {"code": inbox["items"][0]["code"]}, expect=200
    )
    assert done["status"] == "verified"


async def test_alipay_redirect_and_signed_callback(api: Api, client: Any, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    await verify_by_carrier(api, clock, "13800138000", name="张管理")
    started = await api.post("/api/v1/enterprise/verification", {"method": "alipay"}, expect=201)
    assert started["redirect_url"].startswith("/sandbox/identity/alipay/")
    ref = started["redirect_url"].split("/")[-1].split("?")[0]
    body, headers = client.app[DEPS].identity.sandbox.signed_callback(ref, True)
    forged = await client.post(
        "/webhooks/identity/sandbox", data=body, headers={"X-Sandbox-Signature": "t=1,v1=00"}
    )
    assert forged.status == 403
    assert (await api.get("/api/v1/enterprise/verification"))["status"] == "pending"
    resp = await client.post("/webhooks/identity/sandbox", data=body, headers=headers)
    assert resp.status == 200
    assert (await api.get("/api/v1/enterprise/verification"))["status"] == "verified"


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def upload_letter(api: Api, data: bytes = PDF, name: str = "授权书.pdf") -> Any:
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("method", "authorization_letter")
    form.add_field("file", data, filename=name, content_type="application/pdf")
    return await api.call("POST", "/api/v1/enterprise/verification", data=form)


async def test_authorization_letter_reviewed_in_the_console(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    await verify_by_carrier(api, clock, "13800138000", name="张管理")
    await upload_letter(api, b"MZ\x90\x00 not a pdf", "x.exe")
    assert api.last_status == 415
    started = await upload_letter(api)
    assert api.last_status == 201 and started["status"] == "pending"
    assert await api.call("GET", "/api/v1/enterprise/verification/letter", expect=200) == PDF

    await create_platform_staff(client.app[DEPS], "13300133000", "审核员甲", "reviewer")
    reviewer = await make_api()
    await reviewer.login(clock, "13300133000", "platform")
    # An enterprise user cannot review.
    await api.get("/api/v1/console/verifications?status=pending", expect=403)
    queue = await reviewer.get("/api/v1/console/verifications?status=pending")
    assert queue["total"] == 1 and queue["items"][0]["enterprise"]["name"] == "广州测试科技有限公司"
    item = queue["items"][0]
    file = await reviewer.call("GET", item["letter_url"], expect=200)
    assert file == PDF
    await reviewer.post(f"/api/v1/console/verifications/{item['id']}/reject", {}, expect=422)
    rejected = await reviewer.post(
        f"/api/v1/console/verifications/{item['id']}/reject", {"reason": "未加盖公章"}, expect=200
    )
    assert rejected["status"] == "failed"
    state = await api.get("/api/v1/enterprise/verification")
    assert state["status"] == "failed" and "未加盖公章" in state["reason"]
    sms = await api.get("/api/v1/dev/sms?phone=13800138000")
    assert "未通过审核" in sms["items"][0]["text"]
    await reviewer.post(f"/api/v1/console/verifications/{item['id']}/approve", expect=409)

    again = await upload_letter(api)
    await reviewer.post(f"/api/v1/console/verifications/{again['id']}/approve", expect=200)
    assert (await api.get("/api/v1/me"))["enterprise"]["verification_status"] == "verified"
    assert (await reviewer.get("/api/v1/console/verifications?status=pending"))["total"] == 0


async def test_api_key_cannot_act_as_operator(api: Api, make_api: Any, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    key = await api.post("/api/v1/api-keys", {"name": "HR"}, expect=201)
    integrator = await make_api()
    integrator.bearer = key["secret"]
    assert (await integrator.get("/api/v1/enterprise/verification"))["status"] == "unverified"
    await integrator.post("/api/v1/enterprise/verification", {"method": "alipay"}, expect=403)


async def test_raw_database_holds_no_plaintext_identity(
    api: Api, make_api: Any, client: Any, config: Any, clock: FakeClock
) -> None:
    """Search the stored bytes (SQLite file and its WAL, or PostgreSQL rows as text)."""
    await api.register_enterprise(clock)
    await verify_by_carrier(api, clock, "13800138000", name="张管理", id_number=ID_A)
    await api.post(
        "/api/v1/enterprise/verification",
        {
            "method": "legal_rep",
            "legal_rep_name": "李法人",
            "legal_rep_id_number": ID_C,
            "legal_rep_phone": "13900139000",
        },
        expect=201,
    )
    worker = await make_api()
    await worker.login(clock, "13600136000", "worker")
    await worker.post(
        "/api/v1/me/verifications", person("bankcard4", id_number=ID_B, bank_card=CARD_2), expect=201
    )
    secrets = [ID_A, ID_B, ID_C, CARD_2, "3602000109000012345"]
    deps = client.app[DEPS]
    if deps.db.dialect == "sqlite":
        path = config.database_url.split("///", 1)[1]
        raw = await asyncio.to_thread(_read_files, path, path + "-wal")
        assert b"4401**********1231" in raw  # the masked copy is there: the search works
        for value in secrets:
            assert value.encode() not in raw, value
    else:
        from sqlalchemy import text

        from laborsign.storage.schema import metadata

        dump = []
        async with deps.db.engine.connect() as conn:
            for table in metadata.sorted_tables:
                rows = await conn.execute(text(f'SELECT * FROM "{table.name}"'))
                dump.extend(str(tuple(r)) for r in rows)
        everything = "\n".join(dump)
        assert "4401**********1231" in everything
        for value in secrets:
            assert value not in everything, value
    # The person still reads their own masked identity, and lookups by number work by keyed hash.
    from laborsign.core.services.verification import users_with_id_number, verified_identity

    me = await api.get("/api/v1/me")
    assert (await verified_identity(deps, me["user"]["id"])).id_number == ID_A  # type: ignore[union-attr]
    assert await users_with_id_number(deps, "resident_id", ID_A) == [me["user"]["id"]]


def _read_files(*paths: str) -> bytes:
    return b"".join(Path(p).read_bytes() for p in paths if Path(p).exists())


async def test_concurrent_bank_card_attempts_cannot_pass_the_limit(api: Api, clock: FakeClock) -> None:
    await api.login(clock, "13600136000", "worker")
    failing = person("bankcard4", name="测试失败")
    answers = await asyncio.gather(
        *(
            api.client.request("POST", "/api/v1/me/verifications", json=failing, headers=api._headers())
            for _ in range(5)
        )
    )
    statuses = sorted(r.status for r in answers)
    assert statuses == [201, 201, 429, 429, 429], statuses
