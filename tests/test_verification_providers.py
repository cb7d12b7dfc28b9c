"""The real provider adapters against local fake servers speaking their protocols: Tencent Cloud
FaceID (TC3-HMAC-SHA256, DetectAuth + GetDetectInfoEnhanced) and an APPCODE carrier check."""

from __future__ import annotations

from typing import Any

import pytest

from laborsign.bootstrap import create_app
from laborsign.config import load_config
from laborsign.core.clock import FakeClock
from tests.conftest import Api
from tests.fakes.carrier_appcode import FakeCarrier
from tests.fakes.tencent_faceid import FakeFaceId
from tests.test_verification import ID_A, person


@pytest.fixture
def faceid() -> FakeFaceId:
    return FakeFaceId()


@pytest.fixture
def carrier() -> FakeCarrier:
    return FakeCarrier(records={"13700137000": ("王小明", ID_A)})


@pytest.fixture
async def real_api(
    aiohttp_client: Any,
    aiohttp_server: Any,
    config_env: dict[str, str],
    clock: FakeClock,
    faceid: FakeFaceId,
    carrier: FakeCarrier,
) -> Api:
    face_server = await aiohttp_server(faceid.app())
    carrier_server = await aiohttp_server(carrier.app())
    env = dict(
        config_env,
        LABORSIGN_SERVER__PUBLIC_URL="https://sign.example.cn",
        LABORSIGN_IDENTITY__FACE_PROVIDER="tencent",
        LABORSIGN_IDENTITY__TENCENT_SECRET_ID=faceid.secret_id,
        LABORSIGN_IDENTITY__TENCENT_SECRET_KEY=faceid.secret_key,
        LABORSIGN_IDENTITY__TENCENT_RULE_ID=faceid.rule_id,
        LABORSIGN_IDENTITY__TENCENT_API_BASE_URL=str(face_server.make_url("/")),
        LABORSIGN_IDENTITY__CARRIER_PROVIDER="appcode",
        LABORSIGN_IDENTITY__CARRIER_APPCODE=carrier.appcode,
        LABORSIGN_IDENTITY__CARRIER_API_BASE_URL=str(carrier_server.make_url("/")),
    )
    app = create_app(load_config(environ=env), clock=clock, migrate=False)
    return Api(await aiohttp_client(app))


async def test_tencent_face_session_and_result_fetched_from_the_api(
    real_api: Api, faceid: FakeFaceId, clock: FakeClock
) -> None:
    api = real_api
    await api.login(clock, "13600136000", "worker")
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

    faceid.complete(token, True)
    await api.call("GET", f"/webhooks/identity/tencent?order={v['id']}&token={token}", allow_redirects=False)
    assert api.last_status == 302
    assert api.last_response.headers["Location"] == f"/h5/verify?vid={v['id']}"
    assert (await api.get(f"/api/v1/me/verifications/{v['id']}"))["status"] == "verified"
    assert (await api.get("/api/v1/me"))["user"]["verified"] is True


async def test_tencent_failed_liveness(real_api: Api, faceid: FakeFaceId, clock: FakeClock) -> None:
    api = real_api
    await api.login(clock, "13600136000", "worker")
    v = await api.post("/api/v1/me/verifications", person("face"), expect=201)
    token = v["redirect_url"].rsplit("/", 1)[1]
    faceid.complete(token, False)
    await api.call("POST", "/webhooks/identity/tencent", json={"BizToken": token}, expect=200)
    got = await api.get(f"/api/v1/me/verifications/{v['id']}")
    assert got["status"] == "failed" and "活体检测不通过" in got["reason"]


async def test_tencent_wrong_credentials_is_unavailable(
    real_api: Api, faceid: FakeFaceId, clock: FakeClock
) -> None:
    faceid.secret_key = "rotated"
    await real_api.login(clock, "13600136000", "worker")
    answer = await real_api.post("/api/v1/me/verifications", person("face"), expect=503)
    assert answer["error"] == "provider_unavailable"
    assert (await real_api.get("/api/v1/me/verification"))["latest"] is None


async def test_carrier_appcode_consistent_inconsistent_and_no_record(
    real_api: Api, carrier: FakeCarrier, clock: FakeClock
) -> None:
    api = real_api
    await api.login(clock, "13600136000", "worker")
    mismatch = await api.post("/api/v1/me/verifications", person(name="王大明"), expect=201)
    assert mismatch["status"] == "failed" and mismatch["reason"] == "姓名、身份证号与手机号不一致"
    none = await api.post("/api/v1/me/verifications", person(phone="13900139000"), expect=201)
    assert none["status"] == "failed" and "无该手机号" in none["reason"]
    calls = carrier.calls
    await api.post("/api/v1/me/verifications", person(phone="17012345678"), expect=422)
    assert carrier.calls == calls  # the virtual segment never reaches the provider
    ok = await api.post("/api/v1/me/verifications", person(), expect=201)
    assert ok["status"] == "code_sent"
    carrier.appcode = "changed"
    clock.advance(seconds=61)
    await api.post("/api/v1/me/verifications", person(), expect=503)
