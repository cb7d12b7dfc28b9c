"""An SMS intent code confirms the signing it was sent for: not an earlier one the same person
left open, and a refused code request leaves no session behind."""

from __future__ import annotations

from typing import Any

from laborsign.core.clock import FakeClock
from tests.conftest import Api
from tests.test_signing_face import launched_world

OPERATOR = "13800138000"


async def _latest_code(api: Api) -> str:
    return str((await api.get(f"/api/v1/dev/sms?phone={OPERATOR}"))["items"][0]["code"])


async def test_a_code_confirms_only_the_signing_it_was_sent_for(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await launched_world(api, make_api, client, clock, n=2)
    first, second = world["ids"]
    seal = world["seal"]["id"]
    older = await api.post(
        "/api/v1/signing-sessions",
        {"contract_ids": [first], "seal_id": seal, "intent_method": "sms"},
        expect=201,
    )
    code_for_older = await _latest_code(api)
    # Within the minute no new code can be sent: the new signing is refused and not kept.
    refused = await api.post(
        "/api/v1/signing-sessions", {"contract_ids": [first, second], "seal_id": seal}, expect=429
    )
    assert refused["error"] == "rate_limited"
    clock.advance(seconds=61)
    newer = await api.post(
        "/api/v1/signing-sessions", {"contract_ids": [first, second], "seal_id": seal}, expect=201
    )
    code_for_newer = await _latest_code(api)
    superseded = await api.post(
        f"/api/v1/signing-sessions/{older['id']}/confirm", {"code": code_for_newer}, expect=409
    )
    assert superseded["error"] == "session_superseded" and "新的签署" in superseded["message"]
    await api.post(f"/api/v1/signing-sessions/{newer['id']}/confirm", {"code": code_for_older}, expect=422)

    # A code sent again for the open signing (POST /sms/codes, purpose intent) replaces the last.
    clock.advance(seconds=61)
    resent = await api.sms_code(OPERATOR, "intent")
    await api.post(f"/api/v1/signing-sessions/{newer['id']}/confirm", {"code": code_for_newer}, expect=422)
    done = await api.post(f"/api/v1/signing-sessions/{newer['id']}/confirm", {"code": resent}, expect=200)
    assert done == {"signed": [first, second], "failed": []}
    for cid in (first, second):
        assert (await api.get(f"/api/v1/contracts/{cid}"))["parties"][1]["status"] == "signed"


async def test_the_intent_code_is_resent_for_the_open_signing(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await launched_world(api, make_api, client, clock, n=1)
    session = await api.post(
        "/api/v1/signing-sessions", {"contract_ids": world["ids"], "seal_id": world["seal"]["id"]}, expect=201
    )
    first = await _latest_code(api)
    typo = "000000" if first != "000000" else "111111"
    wrong = await api.post(f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": typo}, expect=422)
    assert wrong["fields"]["code"] == "验证码不正确，请核对后重新输入"
    too_soon = await api.post(f"/api/v1/signing-sessions/{session['id']}/code", expect=429)
    assert too_soon["error"] == "rate_limited"
    stranger = await make_api()
    await stranger.login(clock, "13900139000", side="worker")
    await stranger.post(f"/api/v1/signing-sessions/{session['id']}/code", expect=404)
    clock.advance(seconds=61)
    sent = await api.post(f"/api/v1/signing-sessions/{session['id']}/code", expect=202)
    assert sent == {"expires_in": 300, "resend_after": 60}
    again = await _latest_code(api)
    gone = await api.post(f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": first}, expect=422)
    assert gone["fields"]["code"] == "验证码不正确，请核对后重新输入", "the code sent last counts"
    done = await api.post(f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": again}, expect=200)
    assert done == {"signed": world["ids"], "failed": []}
    await api.post(f"/api/v1/signing-sessions/{session['id']}/code", expect=409)
