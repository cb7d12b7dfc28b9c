"""Face intent at signing through the real Tencent Cloud FaceID adapter (against the local fake
API): the signer's verified identity is sent to DetectAuth, and Tencent's browser redirect makes
the platform fetch the result and sign, then lands the signer on the return page."""

from __future__ import annotations

from typing import Any

import pytest

from laborsign.core.clock import FakeClock
from tests.conftest import Api
from tests.fakes.tencent_faceid import FakeFaceId
from tests.test_contracts import launch_body, setup_contract_world, verify_for_real
from tests.test_signing_face import settled


@pytest.fixture
def faceid() -> FakeFaceId:
    return FakeFaceId()


@pytest.fixture
async def config_env(config_env: dict[str, str], aiohttp_server: Any, faceid: FakeFaceId) -> dict[str, str]:
    server = await aiohttp_server(faceid.app())
    return dict(
        config_env,
        LABORSIGN_SERVER__PUBLIC_URL="https://sign.example.cn",
        LABORSIGN_IDENTITY__FACE_PROVIDER="tencent",
        LABORSIGN_IDENTITY__TENCENT_SECRET_ID=faceid.secret_id,
        LABORSIGN_IDENTITY__TENCENT_SECRET_KEY=faceid.secret_key,
        LABORSIGN_IDENTITY__TENCENT_RULE_ID=faceid.rule_id,
        LABORSIGN_IDENTITY__TENCENT_API_BASE_URL=str(server.make_url("/")),
    )


async def test_enterprise_signs_after_a_tencent_face_check(
    api: Api, make_api: Any, client: Any, clock: FakeClock, faceid: FakeFaceId
) -> None:
    world = await setup_contract_world(api, make_api, client, clock)
    await verify_for_real(api, world["worker"], clock, world["enterprise"]["id"])
    cid = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    session = await api.post(
        "/api/v1/signing-sessions", {"contract_ids": [cid], "seal_id": world["seal"]["id"], "intent_method": "face"},
        expect=201,
    )  # fmt: skip
    sent = faceid.requests[-1]
    assert sent["action"] == "DetectAuth"
    assert (sent["Name"], sent["IdCard"]) == ("张管理", "11010519491231002X"), (
        "the operator's verified identity"
    )
    assert sent["RedirectUrl"] == f"https://sign.example.cn/webhooks/identity/tencent?order={session['id']}"
    assert session["intent"]["redirect_url"].startswith("https://faceid.qq.com/")
    token = session["intent"]["redirect_url"].rsplit("/", 1)[1]

    # Tencent redirects the browser back before the person finished: nothing is decided.
    back = f"/webhooks/identity/tencent?order={session['id']}&token={token}"
    await api.call("GET", back, allow_redirects=False)
    assert api.last_status == 409
    assert (await api.get(f"/api/v1/signing-sessions/{session['id']}"))["intent"]["status"] == "redirect"

    faceid.complete(token, True)
    await api.call("GET", back, allow_redirects=False)
    assert api.last_status == 302 and api.last_response.headers["Location"] == f"/h5/intent/{session['id']}"
    assert (await settled(api, session["id"]))["result"] == {"signed": [cid], "failed": []}
    assert (await api.get(f"/api/v1/contracts/{cid}"))["parties"][1]["status"] == "signed"
    # The browser coming back again (a reload) signs nothing more.
    await api.call("GET", back, allow_redirects=False)
    assert api.last_status == 302
    events = (await api.get(f"/api/v1/contracts/{cid}/events"))["items"]
    assert [e["kind"] for e in events].count("signed") == 1
    assert next(e for e in events if e["kind"] == "intent_verified")["method"] == "face"
