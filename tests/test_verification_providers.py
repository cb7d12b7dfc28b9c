"""The real identity adapters against local fake vendors speaking their protocols: Tencent Cloud
FaceID through its SDK (TC3-HMAC-SHA256; face, carrier, bank card), an APPCODE carrier check,
an APPCODE enterprise four-factor check for the legal representative, the manual corporate
payment a platform reviewer makes, and capabilities switched off (`disabled`)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from laborsign.api.http import DEPS
from laborsign.bootstrap import create_app
from laborsign.config import load_config
from laborsign.core.clock import FakeClock
from laborsign.core.services.accounts import create_platform_staff
from laborsign.core.verification import PersonVerification
from tests.conftest import Api, _Browser
from tests.fakes.carrier_appcode import FakeCarrier
from tests.fakes.legal_rep_appcode import FakeLegalRep
from tests.fakes.tencent_faceid import FakeFaceId
from tests.test_verification import CARD, ID_A, ID_C, person

WORKER = "13600136000"
ENTERPRISE = ("广州测试科技有限公司", "91350100M000100Y43")


@pytest.fixture
def faceid() -> FakeFaceId:
    return FakeFaceId(
        carrier_records={WORKER: ("王小明", ID_A), "13800138000": ("张管理", ID_C)},
        bank_records={CARD: ("王小明", ID_A, WORKER, ""), "6228480012345671": ("王小明", ID_A, WORKER, "-13")},
    )


@pytest.fixture
def legal_rep() -> FakeLegalRep:
    return FakeLegalRep(registry={ENTERPRISE[1]: (ENTERPRISE[0], "李法人", ID_C)})


@pytest.fixture
async def real_api(
    aiohttp_client: Any,
    aiohttp_server: Any,
    config_env: dict[str, str],
    clock: FakeClock,
    faceid: FakeFaceId,
    legal_rep: FakeLegalRep,
) -> Api:
    face_server = await aiohttp_server(faceid.app())
    rep_server = await aiohttp_server(legal_rep.app())
    env = dict(
        config_env,
        LABORSIGN_SERVER__PUBLIC_URL="https://sign.example.cn",
        LABORSIGN_IDENTITY__CARRIER_PROVIDER="tencent",
        LABORSIGN_IDENTITY__BANKCARD_PROVIDER="tencent",
        LABORSIGN_IDENTITY__FACE_PROVIDER="tencent",
        LABORSIGN_IDENTITY__LEGAL_REP_PROVIDER="appcode",
        LABORSIGN_IDENTITY__CORPORATE_PAYMENT_PROVIDER="manual",
        LABORSIGN_IDENTITY__ENTERPRISE_ALIPAY_PROVIDER="disabled",
        LABORSIGN_IDENTITY__TENCENT_SECRET_ID=faceid.secret_id,
        LABORSIGN_IDENTITY__TENCENT_SECRET_KEY=faceid.secret_key,
        LABORSIGN_IDENTITY__TENCENT_RULE_ID=faceid.rule_id,
        LABORSIGN_IDENTITY__TENCENT_API_BASE_URL=str(face_server.make_url("/")),
        LABORSIGN_IDENTITY__LEGAL_REP_APPCODE=legal_rep.appcode,
        LABORSIGN_IDENTITY__LEGAL_REP_API_BASE_URL=str(rep_server.make_url("/")),
        LABORSIGN_IDENTITY__TIMEOUT="1",
    )
    app = create_app(load_config(environ=env), clock=clock, migrate=False)
    return Api(await aiohttp_client(app))


@pytest.fixture
async def browsers(real_api: Api) -> Any:
    """More browsers (own cookie jars) against the same app."""
    sessions: list[aiohttp.ClientSession] = []

    def make() -> Api:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(session)
        return Api(_Browser(real_api.client, session))

    yield make
    for s in sessions:
        await s.close()


async def _provider_of(api: Api, verification_id: str) -> str:
    async with api.client.app[DEPS].uow() as uow:
        v = await uow.get(PersonVerification, verification_id)
    return v.provider


async def test_tencent_face_session_and_result_fetched_from_the_api(
    real_api: Api, faceid: FakeFaceId, clock: FakeClock
) -> None:
    api = real_api
    await api.login(clock, WORKER, "worker")
    v = await api.post("/api/v1/me/verifications", person("face"), expect=201)
    assert v["status"] == "redirect" and v["redirect_url"].startswith("https://faceid.qq.com/api/auth/h5/")
    sent = faceid.requests[0]
    assert sent["action"] == "DetectAuth" and sent["IdCard"] == ID_A and sent["Name"] == "王小明"
    assert sent["RedirectUrl"] == f"https://sign.example.cn/webhooks/identity/tencent?order={v['id']}"
    token = v["redirect_url"].rsplit("/", 1)[1]

    # Forged: an invented token, or a real one before the person finished.
    forged = await api.call("GET", "/webhooks/identity/tencent?token=FORGED", allow_redirects=False)
    assert api.last_status == 403, forged
    await api.call("POST", "/webhooks/identity/tencent", json={"BizToken": "FORGED", "Result": "pass"})
    assert api.last_status == 403
    await api.call("GET", f"/webhooks/identity/tencent?order={v['id']}&token={token}", allow_redirects=False)
    assert api.last_status == 409
    assert (await api.get(f"/api/v1/me/verifications/{v['id']}"))["status"] == "redirect"
    await api.call("GET", "/webhooks/identity/sandbox", allow_redirects=False)
    assert api.last_status == 404, "no sandbox callback while Tencent plays face"
    await api.get("/sandbox/identity/face/sbx_face_x", expect=404)

    faceid.complete(token, True)
    await api.call("GET", f"/webhooks/identity/tencent?order={v['id']}&token={token}", allow_redirects=False)
    assert api.last_status == 302
    assert api.last_response.headers["Location"] == f"/h5/verify?vid={v['id']}"
    assert (await api.get(f"/api/v1/me/verifications/{v['id']}"))["status"] == "verified"
    assert (await api.get("/api/v1/me"))["user"]["verified"] is True
    assert await _provider_of(api, v["id"]) == "tencent"
    assert faceid.refused_signatures == 0


async def test_tencent_failed_liveness(real_api: Api, faceid: FakeFaceId, clock: FakeClock) -> None:
    api = real_api
    await api.login(clock, WORKER, "worker")
    v = await api.post("/api/v1/me/verifications", person("face"), expect=201)
    token = v["redirect_url"].rsplit("/", 1)[1]
    faceid.complete(token, False)
    await api.call("POST", "/webhooks/identity/tencent", json={"BizToken": token}, expect=200)
    got = await api.get(f"/api/v1/me/verifications/{v['id']}")
    assert got["status"] == "failed" and "活体检测不通过" in got["reason"]


async def test_tencent_wrong_credentials_timeouts_and_garbage_are_busy(
    real_api: Api, faceid: FakeFaceId, clock: FakeClock
) -> None:
    api = real_api
    await api.login(clock, WORKER, "worker")
    faceid.secret_key = "rotated"
    answer = await api.post("/api/v1/me/verifications", person("face"), expect=503)
    assert answer["error"] == "provider_unavailable" and "服务繁忙请稍后再试" in answer["message"]
    assert faceid.refused_signatures == 1 and faceid.requests == []
    faceid.secret_key = FakeFaceId().secret_key
    faceid.garble = True
    await api.post("/api/v1/me/verifications", person(phone=WORKER), expect=503)
    faceid.garble, faceid.hang = False, True
    await api.post("/api/v1/me/verifications", person(phone=WORKER), expect=503)
    assert (await api.get("/api/v1/me/verification"))["latest"] is None, "nothing recorded"


async def test_tencent_carrier_three_factors(real_api: Api, faceid: FakeFaceId, clock: FakeClock) -> None:
    api = real_api
    await api.login(clock, WORKER, "worker")
    mismatch = await api.post("/api/v1/me/verifications", person(name="王大明", phone=WORKER), expect=201)
    assert mismatch["status"] == "failed" and "三要素不一致" in mismatch["reason"]
    assert await _provider_of(api, mismatch["id"]) == "tencent"
    none = await api.post("/api/v1/me/verifications", person(phone="13900139000"), expect=201)
    assert none["status"] == "failed" and "无该手机号" in none["reason"]
    faceid.next_results = ["-11"]
    busy = await api.post("/api/v1/me/verifications", person(phone=WORKER), expect=503)
    assert busy["message"] == "运营商核验服务繁忙请稍后再试"
    faceid.next_results = ["-12"]
    limited = await api.post("/api/v1/me/verifications", person(phone=WORKER), expect=429)
    assert "次日" in limited["message"] and limited["retry_after"] > 0
    ok = await api.post("/api/v1/me/verifications", person(phone=WORKER), expect=201)
    assert ok["status"] == "code_sent" and await _provider_of(api, ok["id"]) == "tencent"
    code = (await api.get(f"/api/v1/dev/sms?phone={WORKER}"))["items"][0]["code"]
    done = await api.post(f"/api/v1/me/verifications/{ok['id']}/confirm", {"code": code}, expect=200)
    assert done["status"] == "verified"
    checked = [r for r in faceid.requests if r["action"] == "PhoneVerification"]
    assert checked[-1] == {"action": "PhoneVerification", "IdCard": ID_A, "Name": "王小明", "Phone": WORKER}


async def test_tencent_bank_card_counts_only_what_was_checked(
    real_api: Api, faceid: FakeFaceId, clock: FakeClock
) -> None:
    api = real_api
    await api.login(clock, WORKER, "worker")
    card = person("bankcard4", phone=WORKER)
    passport = await api.post("/api/v1/me/verifications", dict(card, id_type="passport", id_number="E12345678"), expect=422)
    assert "居民身份证" in passport["fields"]["id_type"] and faceid.requests == []
    for result in ("-18", "-18", "-18", "-19"):  # busy, then Tencent's own daily limit: never checked
        faceid.next_results = [result]
        await api.post("/api/v1/me/verifications", card, expect=503 if result == "-18" else 429)
        clock.advance(seconds=31)
    assert faceid.billed == 0
    lost = await api.post("/api/v1/me/verifications", dict(card, bank_card="6228480012345671"), expect=201)
    assert lost["status"] == "failed" and lost["reason"] == "银行卡状态异常：此卡已挂失"
    clock.advance(seconds=61)
    wrong = await api.post("/api/v1/me/verifications", dict(card, name="王大明"), expect=201)
    assert wrong["status"] == "failed" and "四要素不一致" in wrong["reason"]
    clock.advance(seconds=61)
    ok = await api.post("/api/v1/me/verifications", card, expect=201)
    assert ok["status"] == "verified" and await _provider_of(api, ok["id"]) == "tencent"
    assert faceid.billed == 3, "the three checks Tencent made are the three that counted"


async def _operator_verified(api: Api, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    await api.post("/api/v1/enterprise/verification/info", expect=200)
    v = await api.post("/api/v1/me/verifications", person(name="张管理", id_number=ID_C, phone="13800138000"), expect=201)
    code = (await api.get("/api/v1/dev/sms?phone=13800138000"))["items"][0]["code"]
    await api.post(f"/api/v1/me/verifications/{v['id']}/confirm", {"code": code}, expect=200)
    clock.advance(seconds=61)


async def test_legal_rep_by_enterprise_four_factors_then_sms_code(
    real_api: Api, legal_rep: FakeLegalRep, clock: FakeClock
) -> None:
    api = real_api
    await _operator_verified(api, clock)
    rep = {"method": "legal_rep", "legal_rep_name": "李法人", "legal_rep_id_number": ID_C, "legal_rep_phone": "13900139000"}
    wrong = await api.post("/api/v1/enterprise/verification", dict(rep, legal_rep_name="王法人"), expect=201)
    assert wrong["status"] == "failed" and "不一致" in wrong["reason"]
    legal_rep.quota_left = 0
    busy = await api.post("/api/v1/enterprise/verification", rep, expect=503)
    assert "服务繁忙请稍后再试" in busy["message"]
    assert (await api.get("/api/v1/enterprise/verification"))["attempt"]["status"] == "failed", "nothing new"
    legal_rep.quota_left = 10
    started = await api.post("/api/v1/enterprise/verification", rep, expect=201)
    assert started["status"] == "pending"
    code = (await api.get("/api/v1/dev/sms?phone=13900139000"))["items"][0]["code"]
    done = await api.post("/api/v1/enterprise/verification/confirm", {"code": code}, expect=200)
    assert done["status"] == "verified"


async def test_manual_corporate_payment_recorded_by_a_reviewer(
    real_api: Api, browsers: Any, clock: FakeClock
) -> None:
    api = real_api
    await _operator_verified(api, clock)
    me = await api.get("/api/v1/me")
    await api.get(f"/api/v1/dev/payments?enterprise_id={me['enterprise']['id']}", expect=404)
    payment = {"method": "corporate_payment", "bank_name": "中国工商银行广州分行",
               "bank_account": "3602000109000012345", "account_name": ENTERPRISE[0]}  # fmt: skip
    started = await api.post("/api/v1/enterprise/verification", payment, expect=201)
    assert started["status"] == "pending" and started["payment_made"] is False
    early = await api.post("/api/v1/enterprise/verification/confirm", {"amount": "0.35"}, expect=409)
    assert early["error"] == "payment_not_made"

    await create_platform_staff(api.client.app[DEPS], "13300133000", "审核员甲", "reviewer")
    reviewer = browsers()
    await reviewer.login(clock, "13300133000", "platform")
    await api.get("/api/v1/console/payments", expect=403)
    (row,) = (await reviewer.get("/api/v1/console/payments?paid=false"))["items"]
    assert row["bank_account"] == "3602000109000012345" and row["enterprise"]["name"] == ENTERPRISE[0]
    await reviewer.post(f"/api/v1/console/payments/{row['id']}/paid", {"amount": "1.20"}, expect=422)
    await reviewer.post(f"/api/v1/console/payments/{row['id']}/paid", {"amount": "0.37"}, expect=200)
    await reviewer.post(f"/api/v1/console/payments/{row['id']}/paid", {"amount": "0.38"}, expect=409)
    assert (await reviewer.get("/api/v1/console/payments?paid=false"))["items"] == []
    told = (await api.get("/api/v1/dev/sms?phone=13800138000"))["items"][0]
    assert "汇出" in told["text"] and "0.37" not in told["text"]

    state = await api.get("/api/v1/enterprise/verification")
    assert state["attempt"]["payment_made"] is True and "0.37" not in str(state)
    page = await api.call("GET", "/dashboard/verification")
    assert "0.37" not in page.decode()
    wrong = await api.post("/api/v1/enterprise/verification/confirm", {"amount": "0.36"}, expect=422)
    assert wrong["attempts_left"] == 2
    done = await api.post("/api/v1/enterprise/verification/confirm", {"amount": "0.37"}, expect=200)
    assert done["status"] == "verified"


async def test_a_disabled_method_is_not_offered(real_api: Api, clock: FakeClock) -> None:
    api = real_api
    await _operator_verified(api, clock)
    refused = await api.post("/api/v1/enterprise/verification", {"method": "alipay"}, expect=409)
    assert refused["error"] == "method_disabled" and "企业支付宝认证" in refused["message"]
    state = await api.get("/api/v1/enterprise/verification")
    assert "alipay" not in state["methods"] and "authorization_letter" in state["methods"]
    page = (await api.call("GET", "/dashboard/verification")).decode()
    assert 'data-tab="alipay"' not in page and 'data-tab="corporate_payment"' in page
    await api.get("/sandbox/identity/alipay/sbx_alipay_x", expect=404)


@pytest.fixture
async def appcode_api(aiohttp_client: Any, aiohttp_server: Any, config_env: dict[str, str], clock: FakeClock) -> Any:
    carrier = FakeCarrier(records={WORKER: ("王小明", ID_A)})
    server = await aiohttp_server(carrier.app())
    env = dict(
        config_env,
        LABORSIGN_IDENTITY__PROVIDER="disabled",
        LABORSIGN_IDENTITY__CARRIER_PROVIDER="appcode",
        LABORSIGN_IDENTITY__CARRIER_APPCODE=carrier.appcode,
        LABORSIGN_IDENTITY__CARRIER_API_BASE_URL=str(server.make_url("/")),
    )
    app = create_app(load_config(environ=env), clock=clock, migrate=False)
    return Api(await aiohttp_client(app)), carrier


async def test_carrier_appcode_and_everything_else_disabled(appcode_api: Any, clock: FakeClock) -> None:
    api, carrier = appcode_api
    await api.login(clock, WORKER, "worker")
    mismatch = await api.post("/api/v1/me/verifications", person(name="王大明", phone=WORKER), expect=201)
    assert mismatch["status"] == "failed" and mismatch["reason"] == "姓名、身份证号与手机号不一致"
    assert await _provider_of(api, mismatch["id"]) == "appcode"
    none = await api.post("/api/v1/me/verifications", person(phone="13900139000"), expect=201)
    assert none["status"] == "failed" and "无该手机号" in none["reason"]
    calls = carrier.calls
    await api.post("/api/v1/me/verifications", person(phone="17012345678"), expect=422)
    assert carrier.calls == calls  # the virtual segment never reaches the provider
    for method in ("face", "bankcard4"):
        refused = await api.post("/api/v1/me/verifications", person(method, bank_card=CARD, phone=WORKER), expect=409)
        assert refused["error"] == "method_disabled"
    assert (await api.get("/api/v1/me/verification"))["methods"] == ["carrier3"]
    page = (await api.call("GET", "/h5/verify")).decode()
    assert 'data-methods="carrier3"' in page and 'data-default-method="carrier3"' in page
    assert 'data-face-intent="off"' in page, "no face intent offered at signing either"
    await api.get("/api/v1/dev/payments?enterprise_id=x", expect=404)
    ok = await api.post("/api/v1/me/verifications", person(phone=WORKER), expect=201)
    assert ok["status"] == "code_sent"
    carrier.appcode = "changed"
    clock.advance(seconds=61)
    await api.post("/api/v1/me/verifications", person(phone=WORKER), expect=503)
