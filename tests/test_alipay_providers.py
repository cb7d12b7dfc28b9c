"""Alipay through alipay-sdk-python against a local fake gateway that checks each request's RSA2
signature and signs its answers: personal face verification (alipay.user.certify.open.*) and
enterprise Alipay (zhima.customer.ep.certification.*), the result always fetched from Alipay,
never taken from the browser's return."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from laborsign.bootstrap import create_app
from laborsign.config import load_config
from laborsign.core.clock import FakeClock
from tests.conftest import Api
from tests.fakes.alipay_gateway import FakeAlipay, private_pem, public_pem
from tests.test_verification import ID_A, ID_C, person
from tests.test_verification_providers import _operator_verified, _provider_of

WORKER = "13600136000"


@pytest.fixture
async def alipay() -> AsyncIterator[FakeAlipay]:
    fake = FakeAlipay()
    try:
        async with fake.serve():
            yield fake
    except PermissionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("the fake Alipay gateway needs port 80 (root), as the SDK ignores other ports")


def alipay_env(fake: FakeAlipay, *, gateway_key: str | None = None) -> dict[str, str]:
    return {
        "LABORSIGN_SERVER__PUBLIC_URL": "https://sign.example.cn",
        "LABORSIGN_IDENTITY__FACE_PROVIDER": "alipay",
        "LABORSIGN_IDENTITY__ENTERPRISE_ALIPAY_PROVIDER": "alipay",
        "LABORSIGN_IDENTITY__ALIPAY_APP_ID": fake.app_id,
        "LABORSIGN_IDENTITY__ALIPAY_PRIVATE_KEY": private_pem(fake.app_key, pkcs8=True),
        "LABORSIGN_IDENTITY__ALIPAY_PUBLIC_KEY": gateway_key or public_pem(fake.gateway_key),
        "LABORSIGN_IDENTITY__ALIPAY_GATEWAY_URL": fake.gateway_url,
        "LABORSIGN_IDENTITY__TIMEOUT": "2",
    }


@pytest.fixture
async def alipay_api(aiohttp_client: Any, config_env: dict[str, str], clock: FakeClock, alipay: FakeAlipay) -> Api:
    app = create_app(load_config(environ={**config_env, **alipay_env(alipay)}), clock=clock, migrate=False)
    return Api(await aiohttp_client(app))


async def test_alipay_face_result_is_queried_from_alipay(alipay_api: Api, alipay: FakeAlipay, clock: FakeClock) -> None:
    api = alipay_api
    await api.login(clock, WORKER, "worker")
    v = await api.post("/api/v1/me/verifications", person("face"), expect=201)
    assert v["status"] == "redirect" and v["redirect_url"].startswith(alipay.gateway_url + "?")
    assert "method=alipay.user.certify.open.certify" in v["redirect_url"]
    (init,) = alipay.calls
    assert init["identity_param"]["cert_no"] == ID_A and init["outer_order_no"] == v["id"]
    assert init["merchant_config"]["return_url"] == f"https://sign.example.cn/webhooks/identity/alipay?order={v['id']}"
    assert alipay.refused_signatures == 0

    # The browser's return proves nothing: before the person finished Alipay says not passed.
    await api.call("GET", "/webhooks/identity/alipay?order=unknown", allow_redirects=False)
    assert api.last_status == 403
    certify_id = next(iter(alipay.sessions))
    alipay.complete(certify_id, True)
    await api.call("GET", f"/webhooks/identity/alipay?order={v['id']}", allow_redirects=False)
    assert api.last_status == 302 and api.last_response.headers["Location"] == f"/h5/verify?vid={v['id']}"
    assert (await api.get(f"/api/v1/me/verifications/{v['id']}"))["status"] == "verified"
    assert await _provider_of(api, v["id"]) == "alipay"


async def test_enterprise_alipay_and_a_failed_check(alipay_api: Api, alipay: FakeAlipay, clock: FakeClock) -> None:
    api = alipay_api
    await _operator_verified(api, clock)
    started = await api.post("/api/v1/enterprise/verification", {"method": "alipay"}, expect=201)
    assert started["status"] == "pending" and "zhima.customer.ep.certification.certify" in started["redirect_url"]
    biz_no = next(k for k, s in alipay.sessions.items() if "ep_cert_no" in s["biz"]["identity_param"])
    assert alipay.sessions[biz_no]["biz"]["identity_param"]["ep_cert_no"] == "91350100M000100Y43"
    alipay.complete(biz_no, False, "企业信息与工商登记不一致")
    order = started["id"]
    await api.call("GET", f"/webhooks/identity/alipay-enterprise?order={order}", allow_redirects=False)
    assert api.last_status == 302 and api.last_response.headers["Location"] == "/dashboard/verification"
    state = await api.get("/api/v1/enterprise/verification")
    assert state["status"] == "failed" and "工商登记不一致" in state["reason"]

    again = await api.post("/api/v1/enterprise/verification", {"method": "alipay"}, expect=201)
    alipay.complete(next(reversed(alipay.sessions)), True)
    await api.call("GET", f"/webhooks/identity/alipay-enterprise?order={again['id']}", allow_redirects=False)
    assert (await api.get("/api/v1/enterprise/verification"))["status"] == "verified"


async def test_forged_answers_and_wrong_keys_are_refused(
    aiohttp_client: Any, config_env: dict[str, str], clock: FakeClock, alipay: FakeAlipay
) -> None:
    """An answer not signed by Alipay's key fails the SDK's check; a request signed with a
    key Alipay does not know is refused by the gateway. Either way: busy, nothing recorded."""
    stranger = FakeAlipay()
    env = {**config_env, **alipay_env(alipay, gateway_key=public_pem(stranger.gateway_key))}
    api = Api(await aiohttp_client(create_app(load_config(environ=env), clock=clock, migrate=False)))
    await api.login(clock, WORKER, "worker")
    answer = await api.post("/api/v1/me/verifications", person("face", id_number=ID_C), expect=503)
    assert "服务繁忙请稍后再试" in answer["message"]
    assert alipay.refused_signatures == 0 and len(alipay.calls) == 1, "Alipay answered; the answer was not trusted"
    alipay.calls.clear()
    env = {**config_env, **alipay_env(alipay), "LABORSIGN_IDENTITY__ALIPAY_PRIVATE_KEY": private_pem(stranger.app_key)}
    api2 = Api(await aiohttp_client(create_app(load_config(environ=env), clock=clock, migrate=False)))
    await api2.login(clock, "13700137000", "worker")
    await api2.post("/api/v1/me/verifications", person("face", id_number=ID_C), expect=503)
    assert alipay.refused_signatures == 1 and alipay.calls == []
