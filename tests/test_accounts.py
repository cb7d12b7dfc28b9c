"""Accounts over HTTP, as API.md describes them, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from laborsign.core.clock import FakeClock
from tests.conftest import Api

PHONE = "13800138000"
CREDIT = "91350100M000100Y43"


async def test_sms_code_rules(api: Api, clock: FakeClock) -> None:
    first = await api.post("/api/v1/sms/codes", {"phone": PHONE, "purpose": "login"}, expect=202)
    assert first == {"expires_in": 300, "resend_after": 60}
    again = await api.post("/api/v1/sms/codes", {"phone": PHONE, "purpose": "login"}, expect=429)
    assert again["error"] == "rate_limited" and 1 <= again["retry_after"] <= 60
    assert api.last_response.headers["Retry-After"] == str(again["retry_after"])
    # Another purpose is its own 60 s window.
    await api.post("/api/v1/sms/codes", {"phone": PHONE, "purpose": "register"}, expect=202)
    clock.advance(seconds=60)
    await api.post("/api/v1/sms/codes", {"phone": PHONE, "purpose": "login"}, expect=202)
    inbox = await api.get(f"/api/v1/dev/sms?phone={PHONE}")
    assert len(inbox["items"]) == 3
    code = inbox["items"][0]["code"]
    assert len(code) == 6 and code.isdigit() and code in inbox["items"][0]["text"]


async def test_sms_daily_limit(api: Api, clock: FakeClock) -> None:
    clock.set(clock.now().replace(hour=1))  # 09:00 in China
    for _ in range(10):
        await api.post("/api/v1/sms/codes", {"phone": PHONE, "purpose": "login"}, expect=202)
        clock.advance(seconds=61)
    refused = await api.post("/api/v1/sms/codes", {"phone": PHONE, "purpose": "bind"}, expect=429)
    assert "今日" in refused["message"] and refused["retry_after"] > 3600
    clock.advance(hours=16)  # past midnight in China
    await api.post("/api/v1/sms/codes", {"phone": PHONE, "purpose": "login"}, expect=202)


async def test_bad_sms_requests(api: Api) -> None:
    bad = await api.post("/api/v1/sms/codes", {"phone": "1234", "purpose": "login"}, expect=422)
    assert bad["error"] == "validation_failed" and "phone" in bad["fields"]
    bad = await api.post("/api/v1/sms/codes", {"phone": PHONE, "purpose": "spam"}, expect=422)
    assert "purpose" in bad["fields"]
    bad = await api.post("/api/v1/sms/codes", {"phone": PHONE}, expect=422)
    assert bad["fields"]["purpose"] == "此项为必填项"
    resp = await api.client.request(
        "POST", "/api/v1/sms/codes", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400 and (await resp.json())["error"] == "malformed_json"


async def _login(api: Api, code: str, side: str = "worker", **extra: object) -> dict:
    return await api.post(
        "/api/v1/auth/login", {"side": side, "phone": PHONE, "code": code, "agree_terms": True, **extra}
    )


async def test_code_login_single_use_and_expiry(api: Api, clock: FakeClock) -> None:
    code = await api.sms_code(PHONE, "login")
    wrong = "000000" if code != "000000" else "111111"
    refused = await _login(api, wrong)
    assert api.last_status == 401 and refused["error"] == "bad_credentials"
    # A typo says so, and the same code still works: nothing to fetch again.
    assert refused["message"] == "验证码不正确，请核对后重新输入"
    ok = await _login(api, code)
    assert api.last_status == 200
    assert ok["user"]["phone_masked"] == "138****8000" and ok["enterprises"] == [] and ok["csrf"]
    assert api.last_response.cookies["laborsign_session"]["httponly"]
    used = await _login(api, code)
    assert api.last_status == 401, "a code is single use"
    assert used["message"] == "验证码已失效，请重新获取"
    clock.advance(seconds=61)
    code = await api.sms_code(PHONE, "login")
    clock.advance(minutes=5)
    await _login(api, code)
    assert api.last_status == 401, "a code expires after 5 minutes"


async def test_five_wrong_tries_invalidate_the_code(api: Api) -> None:
    code = await api.sms_code(PHONE, "login")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        await _login(api, wrong)
        assert api.last_status == 401
    await _login(api, code)
    assert api.last_status == 401


async def test_agreement_is_required_and_recorded(api: Api, client) -> None:  # type: ignore[no-untyped-def]
    code = await api.sms_code(PHONE, "login")
    refused = await api.post(
        "/api/v1/auth/login", {"side": "worker", "phone": PHONE, "code": code}, expect=422
    )
    assert refused["error"] == "agreement_required" and "agree_terms" in refused["fields"]
    await _login(api, code)
    assert api.last_status == 200
    from sqlalchemy import select

    from laborsign.api.http import DEPS
    from laborsign.storage.accounts import agreement_acceptances

    async with client.app[DEPS].uow() as uow:
        rows = (await uow.session.execute(select(agreement_acceptances))).all()
    assert len(rows) == 1 and rows[0].version and rows[0].ip == "127.0.0.1"


async def test_password_login_and_lockout(api: Api, clock: FakeClock) -> None:
    await api.login(clock, PHONE, side="worker")
    await api.call("PUT", "/api/v1/me/password", {"password": "short"}, expect=422)
    await api.call("PUT", "/api/v1/me/password", {"password": "abcd1234"}, expect=204)
    # Changing an existing password needs an SMS code.
    await api.call("PUT", "/api/v1/me/password", {"password": "abcd12345"}, expect=422)
    await api.post("/api/v1/auth/logout", expect=204)
    await api.get("/api/v1/me", expect=401)
    ok = await api.post(
        "/api/v1/auth/login",
        {"side": "worker", "phone": PHONE, "password": "abcd1234", "agree_terms": True},
        expect=200,
    )
    assert ok["user"]["has_password"] is True
    for _ in range(5):
        await api.post(
            "/api/v1/auth/login",
            {"side": "worker", "phone": PHONE, "password": "wrong1234", "agree_terms": True},
            expect=401,
        )
    locked = await api.post(
        "/api/v1/auth/login",
        {"side": "worker", "phone": PHONE, "password": "abcd1234", "agree_terms": True},
        expect=429,
    )
    assert locked["retry_after"] > 0
    clock.advance(minutes=16)
    await api.post(
        "/api/v1/auth/login",
        {"side": "worker", "phone": PHONE, "password": "abcd1234", "agree_terms": True},
        expect=200,
    )


async def test_create_enterprise(api: Api, clock: FakeClock) -> None:
    data = await api.register_enterprise(clock)
    assert data["enterprise"]["credit_code"] == CREDIT
    assert data["enterprise"]["verification_status"] == "unverified"
    me = await api.get("/api/v1/me")
    assert me["enterprise"]["id"] == data["enterprise"]["id"]
    assert me["member"]["role"] == "admin"
    assert me["enterprises"][0]["role"] == "admin"


async def test_create_enterprise_refusals(api: Api, make_api, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    code = await api.sms_code(PHONE, "register")
    base = {
        "name": "广州测试科技有限公司",
        "credit_code": CREDIT,
        "org_type": "enterprise",
        "admin_name": "张管理",
        "admin_phone": PHONE,
        "code": code,
        "agree_terms": True,
    }
    bad = await api.post("/api/v1/enterprises", {**base, "credit_code": "91350100M000100Y44"}, expect=422)
    assert "校验位" in bad["fields"]["credit_code"]
    bad = await api.post("/api/v1/enterprises", {**base, "agree_terms": False, "org_type": "x"}, expect=422)
    assert {"agree_terms", "org_type"} <= set(bad["fields"])
    # A list where a code belongs is refused like any other wrong code (it was a 500).
    bad = await api.post("/api/v1/enterprises", {**base, "org_type": ["enterprise"]}, expect=422)
    assert "组织类型" in bad["fields"]["org_type"]
    bad = await api.post(
        "/api/v1/enterprises", {**base, "code": "999999" if code != "999999" else "888888"}, expect=422
    )
    assert "code" in bad["fields"]
    await api.post("/api/v1/enterprises", base, expect=201)
    other = await make_api()
    clock.advance(seconds=61)
    code2 = await other.sms_code("13900139000", "register")
    taken = await other.post(
        "/api/v1/enterprises", {**base, "admin_phone": "13900139000", "code": code2}, expect=409
    )
    assert taken["error"] == "credit_code_taken"


async def test_csrf_is_required_for_cookie_sessions(api: Api, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    csrf = api.csrf
    api.csrf = None
    refused = await api.post("/api/v1/members", {"name": "李四", "phone": "13900139000"}, expect=403)
    assert refused["error"] == "csrf_failed"
    api.csrf = "wrong"
    await api.post("/api/v1/members", {"name": "李四", "phone": "13900139000"}, expect=403)
    api.csrf = csrf
    await api.post("/api/v1/members", {"name": "李四", "phone": "13900139000"}, expect=201)


async def test_several_enterprises_choose_and_switch(api: Api, clock: FakeClock) -> None:
    first = await api.register_enterprise(clock)
    second = await api.register_enterprise(clock, name="广州第二有限公司", credit_code="91440101MA59ABCD0A")
    login = await api.login(clock, PHONE)
    assert {e["id"] for e in login["enterprises"]} == {first["enterprise"]["id"], second["enterprise"]["id"]}
    me = await api.get("/api/v1/me")
    assert me["enterprise"] is None, "with several enterprises the user picks one"
    no = await api.get("/api/v1/members", expect=403)
    assert no["error"] == "no_enterprise"
    chosen = await api.post(
        "/api/v1/session/enterprise", {"enterprise_id": second["enterprise"]["id"]}, expect=200
    )
    assert chosen["enterprise"]["name"] == "广州第二有限公司"
    await api.post("/api/v1/session/enterprise", {"enterprise_id": "0" * 32}, expect=404)


async def test_members_and_admin_transfer(api: Api, make_api, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    ent = await api.register_enterprise(clock)
    member = await api.post(
        "/api/v1/members", {"name": "李四", "phone": "13900139000", "permissions": ["templates"]}, expect=201
    )
    assert member["phone_masked"] == "139****9000" and member["permissions"] == ["templates"]
    dup = await api.post("/api/v1/members", {"name": "李四", "phone": "13900139000"}, expect=409)
    assert dup["error"] == "member_exists"
    await api.post(
        "/api/v1/members", {"name": "王五", "phone": "13700137000", "permissions": ["root"]}, expect=422
    )

    li = await make_api()
    await li.login(clock, "13900139000")
    refused = await li.post("/api/v1/members", {"name": "赵六", "phone": "13600136000"}, expect=403)
    assert refused["error"] == "admin_only"
    listed = await li.get("/api/v1/members")
    assert listed["total"] == 2 and listed["page"] == 1 and listed["per_page"] == 20

    await api.post("/api/v1/enterprise/admin-transfer", {"member_id": member["id"]}, expect=200)
    # The old admin's open session loses the enterprise at once.
    gone = await api.get("/api/v1/members", expect=403)
    assert gone["error"] == "no_enterprise"
    me = await api.get("/api/v1/me")
    assert me["enterprise"] is None and me["enterprises"] == []
    relogin = await api.login(clock, PHONE)
    assert relogin["enterprises"] == [], "the old admin is not offered the enterprise at login"
    await api.post("/api/v1/session/enterprise", {"enterprise_id": ent["enterprise"]["id"]}, expect=404)
    # The new admin has every right.
    me = await li.get("/api/v1/me")
    assert me["member"]["role"] == "admin"
    await li.post("/api/v1/members", {"name": "赵六", "phone": "13600136000"}, expect=201)


async def test_api_keys(api: Api, make_api, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    await api.register_enterprise(clock)
    key = await api.post("/api/v1/api-keys", {"name": "HR系统"}, expect=201)
    assert key["secret"].startswith("lsk_")
    listed = await api.get("/api/v1/api-keys")
    assert "secret" not in listed["items"][0]
    integrator = await make_api()
    integrator.bearer = key["secret"]
    members = await integrator.get("/api/v1/members")  # no CSRF needed with a bearer key
    assert members["total"] == 1
    await integrator.post("/api/v1/members", {"name": "李四", "phone": "13900139000"}, expect=201)
    integrator.bearer = key["secret"][:-2] + "xx"
    bad = await integrator.get("/api/v1/members", expect=401)
    assert bad["error"] == "bad_api_key"
    await api.call("DELETE", f"/api/v1/api-keys/{key['id']}", expect=204)
    integrator.bearer = key["secret"]
    await integrator.get("/api/v1/members", expect=401)


async def test_session_expiry(api: Api, clock: FakeClock) -> None:
    await api.login(clock, PHONE, side="worker")
    await api.get("/api/v1/me", expect=200)
    clock.advance(timedelta(days=8))
    await api.get("/api/v1/me", expect=401)


async def test_health_metrics_openapi(api: Api) -> None:
    assert await api.get("/healthz") == {"status": "ok"}
    await api.get("/api/v1/nope", expect=404)
    metrics = await api.get("/metrics")
    assert b"laborsign_http_requests_total" in metrics and b"/healthz" in metrics
    doc = await api.get("/api/v1/openapi.json")
    assert doc["openapi"].startswith("3.")
    for path in (
        "/api/v1/sms/codes",
        "/api/v1/enterprises",
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/session/enterprise",
        "/api/v1/members",
        "/api/v1/enterprise/admin-transfer",
        "/api/v1/api-keys",
        "/api/v1/me/password",
        "/api/v1/auth/logout",
    ):
        assert path in doc["paths"], path


async def test_platform_staff_login(api: Api, client, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    from laborsign.api.http import DEPS
    from laborsign.core.services.accounts import create_platform_staff

    await create_platform_staff(client.app[DEPS], "13500135000", "监管员", "regulator", "regul8tor")
    code = await api.sms_code(PHONE, "login")
    refused = await api.post(
        "/api/v1/auth/login",
        {"side": "platform", "phone": PHONE, "code": code, "agree_terms": True},
        expect=403,
    )
    assert refused["error"] == "not_platform_staff"
    ok = await api.post(
        "/api/v1/auth/login",
        {"side": "platform", "phone": "13500135000", "password": "regul8tor", "agree_terms": True},
        expect=200,
    )
    assert ok["user"]["name"] == "监管员"
    me = await api.get("/api/v1/me")
    assert me["side"] == "platform" and me["user"]["platform_role"] == "regulator"


async def test_openapi_describes_every_api_route(api: Api, client) -> None:  # type: ignore[no-untyped-def]
    doc = await api.get("/api/v1/openapi.json")
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    missing = []
    for route in client.app.router.routes():
        info = route.resource.canonical if route.resource is not None else ""
        if not info.startswith(("/api/", "/webhooks/")) or route.method == "HEAD":
            continue
        if (info, route.method.lower()) not in documented:
            missing.append(f"{route.method} {info}")
    assert not missing, f"routes missing from the OpenAPI document: {missing}"
    for path in (
        "/api/v1/contracts",
        "/api/v1/templates",
        "/api/v1/invitations/batch",
        "/api/v1/verify",
        "/api/v1/me/verifications",
        "/webhooks/wechat",
    ):
        assert path in doc["paths"], path
