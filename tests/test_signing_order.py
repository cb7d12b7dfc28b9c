"""Signing order chosen at launch (issue 14), over HTTP on SQLite and PostgreSQL: each order
refuses the party whose turn it is not (409 not_your_turn), the lists and detail say whose
turn it is, and the worker is invited only when their turn comes."""

from __future__ import annotations

from typing import Any

from laborsign.core.clock import FakeClock
from tests.conftest import Api
from tests.test_contracts import signature_png
from tests.test_exports import contract_world, enterprise_signs, launch, worker_signs
from tests.test_onboarding import FORM


async def invitations(api: Api, cid: str) -> list[str]:
    inbox = await api.get(f"/api/v1/dev/sms?phone={FORM['phone']}")
    return [
        m["text"] for m in inbox["items"] if f"/h5/contracts/{cid}" in m["text"] and "邀请您签署" in m["text"]
    ]


async def counts(api: Api, worker: Api) -> tuple[dict[str, int], dict[str, int]]:
    return await api.get("/api/v1/contracts/counts"), await worker.get("/api/v1/me/contracts/counts")


async def test_the_default_is_as_before_either_party_first(api: Api, make_api: Any, clock: FakeClock) -> None:
    world = await contract_world(api, make_api, clock)
    cid = await launch(api, world)
    detail = await api.get(f"/api/v1/contracts/{cid}")
    assert detail["signing_order"] == "parallel" and detail["signing_order_label"] == "不限顺序"
    assert len(await invitations(api, cid)) == 1, "the worker is invited at launch"
    hr, mine = await counts(api, world["worker"])
    assert hr["awaiting_me"] == 1 and mine["awaiting_me"] == 1
    await enterprise_signs(api, world, cid)
    await worker_signs(world["worker"], cid)
    assert (await api.get(f"/api/v1/contracts/{cid}"))["status"] == "completed"


async def test_worker_first(api: Api, make_api: Any, clock: FakeClock) -> None:
    world = await contract_world(api, make_api, clock)
    worker: Api = world["worker"]
    cid = await launch(api, world, signing_order="worker_first")
    listed = (await api.get("/api/v1/contracts"))["items"][0]
    assert listed["signing_order"] == "worker_first" and listed["signing_order_label"] == "劳动者先签"
    assert listed["awaiting_me"] is False
    hr, mine = await counts(api, worker)
    assert hr["awaiting_me"] == 0 and hr["awaiting_others"] == 1 and mine["awaiting_me"] == 1
    refused = await enterprise_signs(api, world, cid, expect=409)
    assert refused["error"] == "not_your_turn" and "劳动者先签署" in refused["message"]
    assert len(await invitations(api, cid)) == 1

    await worker_signs(worker, cid)
    hr, mine = await counts(api, worker)
    assert hr["awaiting_me"] == 1 and mine["awaiting_me"] == 0
    await enterprise_signs(api, world, cid)
    assert (await api.get(f"/api/v1/contracts/{cid}"))["status"] == "completed"


async def test_enterprise_first(api: Api, make_api: Any, clock: FakeClock) -> None:
    world = await contract_world(api, make_api, clock)
    worker: Api = world["worker"]
    cid = await launch(api, world, signing_order="enterprise_first")
    assert await invitations(api, cid) == [], "not the worker's turn: no invitation yet"
    seen = await worker.get(f"/api/v1/me/contracts/{cid}")
    assert seen["awaiting_me"] is False and seen["signing_order"] == "enterprise_first"
    hr, mine = await counts(api, worker)
    assert hr["awaiting_me"] == 1 and mine["awaiting_me"] == 0 and mine["awaiting_others"] == 1
    refused = await worker.post(
        f"/api/v1/me/contracts/{cid}/signature", {"signature_png": signature_png()}, expect=409
    )
    assert refused["error"] == "not_your_turn" and "企业先签署" in refused["message"]
    clock.advance(hours=6)
    early = await api.post(f"/api/v1/contracts/{cid}/remind", expect=409)
    assert early["error"] == "not_your_turn"

    await enterprise_signs(api, world, cid)
    assert len(await invitations(api, cid)) == 1, "the worker is invited once the enterprise has signed"
    hr, mine = await counts(api, worker)
    assert hr["awaiting_others"] == 1 and mine["awaiting_me"] == 1
    await worker_signs(worker, cid)
    done = await api.get(f"/api/v1/contracts/{cid}")
    assert done["status"] == "completed" and [p["status"] for p in done["parties"]] == ["signed", "signed"]


async def test_a_bad_order_is_refused(api: Api, make_api: Any, clock: FakeClock) -> None:
    world = await contract_world(api, make_api, clock)
    body = {
        "template_ids": [world["template"]["id"]],
        "employee_ids": [world["employee_id"]],
        "enterprise_party": {"seal_type": "contract"},
        "fields": {},
        "signing_order": "whoever",
    }
    bad = await api.post("/api/v1/contracts", body, expect=422)
    assert "signing_order" in bad["fields"] and "签署顺序" in bad["message"]
