"""Integrator webhooks end to end: a real endpoint on loopback (allowed by
`integrations.allow_private_targets`) receives the signed events of a scripted journey —
onboarding submitted, approved and rejected, contracts launched, signed by both parties,
completed, withdrawn, declined and expired, an employee resigned — with retries after a 500,
a dead letter after the outbox's tries, and a redelivery that keeps the event id."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from laborsign.core.outbox import MAX_ATTEMPTS
from laborsign.core.services.contracts.lifecycle import expire_due
from tests.chat_helpers import deliver
from tests.conftest import Api
from tests.test_contracts import launch_body, mark_verified, signature_png
from tests.test_onboarding import FORM, onboard
from tests.test_templates import enabled_template
from tests.webhook_receiver import Receiver, receiver

ALL_EVENTS = [
    "onboarding.submitted", "onboarding.approved", "onboarding.rejected", "employee.resigned",
    "contract.launched", "contract.signed", "contract.completed", "contract.withdrawn",
    "contract.declined", "contract.expired",
]  # fmt: skip


@pytest.fixture
def config_env(config_env: dict[str, str]) -> dict[str, str]:
    return {**config_env, "LABORSIGN_INTEGRATIONS__ALLOW_PRIVATE_TARGETS": "true"}


async def _sign_as_worker(worker: Api, cid: str) -> None:
    started = await worker.post(
        f"/api/v1/me/contracts/{cid}/signature", {"signature_png": signature_png()}, expect=201
    )
    code = (await worker.get(f"/api/v1/dev/sms?phone={FORM['phone']}"))["items"][0]["code"]
    await worker.post(f"/api/v1/signing-sessions/{started['id']}/confirm", {"code": code}, expect=200)


async def _seal_as_enterprise(api: Api, cid: str, seal_id: str) -> None:
    session = await api.post(
        "/api/v1/signing-sessions",
        {"contract_ids": [cid], "seal_id": seal_id, "intent_method": "sms"},
        expect=201,
    )
    code = (await api.get("/api/v1/dev/sms?phone=13800138000"))["items"][0]["code"]
    await api.post(f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": code}, expect=200)


async def _deliveries(api: Api, endpoint_id: str) -> list[dict[str, Any]]:
    page = await api.get(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries?per_page=100")
    items: list[dict[str, Any]] = page["items"]
    return items


async def _journey(api: Api, make_api: Any, client: Any, clock: FakeClock, recv: Receiver) -> dict[str, Any]:
    ent = await api.register_enterprise(clock)
    every = await api.post(
        "/api/v1/webhook-endpoints", {"url": recv.base + "/all", "events": ALL_EVENTS}, expect=201
    )
    done_only = await api.post(
        "/api/v1/webhook-endpoints",
        {"url": recv.base + "/done", "events": ["contract.completed"]},
        expect=201,
    )
    assert every["secret"] != done_only["secret"] and every["events"] == ALL_EVENTS

    template = await enabled_template(api)
    seal = await api.post("/api/v1/seals", {"type": "contract"}, expect=201)

    worker = await make_api()
    record = await onboard(api, worker, clock)
    # The endpoint is busy the first time: the delivery is tried again after the backoff.
    recv.answers = [500]
    await deliver(client)
    assert [r.event["type"] for r in recv.on("/all")] == ["onboarding.submitted"]
    first = (await _deliveries(api, every["id"]))[0]
    assert first["status"] == "pending" and first["attempts"] == 1
    assert [h["status_code"] for h in first["history"]] == [500] and "500" in first["last_error"]
    await deliver(client)
    assert len(recv.on("/all")) == 1, "not before the backoff"
    clock.advance(seconds=11)
    await deliver(client)
    tries = recv.on("/all")
    assert len(tries) == 2 and tries[0].event["id"] == tries[1].event["id"] == first["event_id"]
    sent = (await _deliveries(api, every["id"]))[0]
    assert sent["status"] == "sent" and [h["status_code"] for h in sent["history"]] == [500, 200]

    approved = await api.post(f"/api/v1/onboarding/{record['id']}/approve", {}, expect=200)
    other = await make_api()
    second = await onboard(api, other, clock, {**FORM, "phone": "13711112222"})
    await api.post(f"/api/v1/onboarding/{second['id']}/reject", {"reason": "证件照片不清晰"}, expect=200)

    await mark_verified(client, enterprise_id=ent["enterprise"]["id"], phone=FORM["phone"])
    world = {"template": template, "employee_id": approved["employee_id"]}
    completed = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    await _sign_as_worker(worker, completed)
    await _seal_as_enterprise(api, completed, seal["id"])
    withdrawn = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    await api.post(f"/api/v1/contracts/{withdrawn}/withdraw", {"reason": "岗位调整"}, expect=200)
    declined = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    await worker.post(f"/api/v1/me/contracts/{declined}/decline", {"reason": "薪资与约定不符"}, expect=200)
    deadline = (clock.now() + timedelta(days=1)).isoformat()
    expired = (await api.post("/api/v1/contracts", launch_body(world, sign_deadline=deadline), expect=201))[
        "contracts"
    ][0]["id"]
    clock.advance(days=1, seconds=1)
    assert await expire_due(client.app[DEPS]) == 1
    employee = approved["employee_id"]
    await api.post(f"/api/v1/employees/{employee}/resignation", {"reason": "个人原因"}, expect=200)
    await api.post(f"/api/v1/employees/{employee}/resignation/confirm", {"handover_to": "李四"}, expect=200)
    await deliver(client)
    return {
        "enterprise_id": ent["enterprise"]["id"], "every": every, "done_only": done_only, "world": world,
        "contracts": {"completed": completed, "withdrawn": withdrawn, "declined": declined, "expired": expired},
        "employee_id": employee, "record_id": record["id"],
    }  # fmt: skip


async def test_a_journey_reaches_the_integrator_signed_retried_and_deduplicable(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    async with receiver() as recv:
        j = await _journey(api, make_api, client, clock, recv)
        every, done_only = j["every"], j["done_only"]

        got = recv.on("/all")
        assert all(r.signature_ok(every["secret"]) for r in got)
        assert not any(r.signature_ok(done_only["secret"]) for r in got), "each endpoint signs with its own"
        unique = {r.event["id"]: r.event for r in got}  # what an integrator deduplicating by id keeps
        assert len(got) == len(unique) + 1, "only the retried delivery came twice"
        assert Counter(e["type"] for e in unique.values()) == Counter(
            {"onboarding.submitted": 2, "onboarding.approved": 1, "onboarding.rejected": 1,
             "contract.launched": 4, "contract.signed": 2, "contract.completed": 1, "contract.withdrawn": 1,
             "contract.declined": 1, "contract.expired": 1, "employee.resigned": 1}
        )  # fmt: skip
        for r in got:
            event = r.event
            assert set(event) == {"id", "type", "created_at", "enterprise_id", "data"}
            assert event["enterprise_id"] == j["enterprise_id"]
            assert r.headers["X-LaborSign-Event"] == event["type"]
            assert r.headers["Content-Type"].startswith("application/json")
        by_type = {e["type"]: e for e in unique.values()}
        c = j["contracts"]
        assert by_type["contract.completed"]["data"]["contract_id"] == c["completed"]
        assert by_type["contract.completed"]["data"]["status"] == "completed"
        assert by_type["contract.completed"]["data"]["employee_id"] == j["employee_id"]
        assert by_type["contract.withdrawn"]["data"] == {
            **by_type["contract.withdrawn"]["data"],
            "contract_id": c["withdrawn"],
            "reason": "岗位调整",
        }
        assert by_type["contract.declined"]["data"]["reason"] == "薪资与约定不符"
        # What integrators receive is the event's public fields: never the audit row's context
        # (actor, IP, user agent) nor the worker's link that travel with it to our own handlers.
        common = {"contract_id", "name", "status", "employee_id", "worker_name"}
        assert set(by_type["contract.launched"]["data"]) == common | {"sign_deadline"}
        assert set(by_type["contract.signed"]["data"]) == common | {"party"}
        assert set(by_type["contract.completed"]["data"]) == common | {"document_sha256"}
        assert set(by_type["contract.withdrawn"]["data"]) == common | {"reason"}
        assert set(by_type["contract.expired"]["data"]) == common
        assert by_type["contract.expired"]["data"]["contract_id"] == c["expired"]
        assert by_type["onboarding.approved"]["data"]["employee_id"] == j["employee_id"]
        assert by_type["onboarding.rejected"]["data"]["reason"] == "证件照片不清晰"
        assert by_type["employee.resigned"]["data"]["employee_id"] == j["employee_id"]
        signed = sorted(e["data"]["party"] for e in unique.values() if e["type"] == "contract.signed")
        assert signed == ["enterprise", "worker"]
        # The completed contract's own events all reached the integrator; deliveries run several
        # at a time (the last signature and the completion are one commit), so an integrator
        # orders by created_at, as the README says: that order is the order they happened in.
        own = [r.event for r in got if r.event["data"].get("contract_id") == c["completed"]]
        assert sorted(e["type"] for e in own) == sorted(
            ["contract.launched", "contract.signed", "contract.signed", "contract.completed"]
        )
        by_time = sorted(own, key=lambda e: e["created_at"])
        assert by_time[0]["type"] == "contract.launched"
        done = next(e for e in own if e["type"] == "contract.completed")
        assert all(e["created_at"] <= done["created_at"] for e in own)

        only = recv.on("/done")
        assert [r.event["type"] for r in only] == ["contract.completed"]
        assert only[0].event["id"] == by_type["contract.completed"]["id"], "one event, one id, every endpoint"
        assert only[0].signature_ok(done_only["secret"])

        # The timestamp signed is the time of sending (the platform's clock).
        assert got[-1].timestamp == int(clock.now().timestamp())


async def _dead_delivery(api: Api, make_api: Any, client: Any, clock: FakeClock, recv: Receiver) -> Any:
    """An endpoint whose one delivery (an onboarding submitted) failed every try: answered 500."""
    await api.register_enterprise(clock)
    endpoint = await api.post(
        "/api/v1/webhook-endpoints",
        {"url": recv.base + "/hook", "events": ["onboarding.submitted"]},
        expect=201,
    )
    recv.always = 500
    await onboard(api, await make_api(), clock)
    for _ in range(MAX_ATTEMPTS):
        await deliver(client)
        clock.advance(hours=2)  # past the longest backoff
    return endpoint


async def test_dead_after_the_tries_then_redelivered_with_the_same_id(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    async with receiver() as recv:
        endpoint = await _dead_delivery(api, make_api, client, clock, recv)
        await deliver(client)
        assert len(recv.received) == MAX_ATTEMPTS and len({r.event["id"] for r in recv.received}) == 1
        dead = (await _deliveries(api, endpoint["id"]))[0]
        assert dead["status"] == "dead" and dead["attempts"] == MAX_ATTEMPTS
        assert [h["status_code"] for h in dead["history"]] == [500] * MAX_ATTEMPTS
        # It is listed among the enterprise's dead letters too.
        letters = await api.get("/api/v1/chat/dead-letters")
        assert [d["channel"] for d in letters["items"]] == ["webhook"]

        recv.always = 200
        again = await api.post(
            f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries/{dead['id']}/redeliver", expect=200
        )
        assert again["status"] == "pending" and len(again["history"]) == MAX_ATTEMPTS
        assert (await api.get("/api/v1/chat/dead-letters"))["total"] == 0
        await deliver(client)
        last = recv.received[-1]
        assert last.event["id"] == dead["event_id"] and last.signature_ok(endpoint["secret"])
        sent = (await _deliveries(api, endpoint["id"]))[0]
        assert sent["status"] == "sent" and sent["history"][-1]["status_code"] == 200
        refused = await api.post(
            f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries/{dead['id']}/redeliver", expect=409
        )
        assert refused["error"] == "delivery_not_dead" and "重新投递" in refused["message"]
        await api.post(
            f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries/{'0' * 32}/redeliver", expect=404
        )

        await api.call("DELETE", f"/api/v1/webhook-endpoints/{endpoint['id']}", expect=204)
        await api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}", expect=404)
        await api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries", expect=404)
        assert (await api.get("/api/v1/webhook-endpoints"))["items"] == []


async def test_an_endpoint_that_does_not_answer_is_tried_again(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    async with receiver() as recv:
        closed = f"http://127.0.0.1:{recv.port}/gone"
    await api.register_enterprise(clock)
    endpoint = await api.post(
        "/api/v1/webhook-endpoints", {"url": closed, "events": ["onboarding.submitted"]}, expect=201
    )
    await onboard(api, await make_api(), clock)
    await deliver(client)
    pending = (await _deliveries(api, endpoint["id"]))[0]
    assert pending["status"] == "pending" and pending["attempts"] == 1
    assert pending["history"][0]["status_code"] is None and "无法连接" in pending["history"][0]["error"]


@pytest.mark.browser
async def test_the_dashboard_lists_deliveries_and_redelivers_a_dead_one(
    api: Api, make_api: Any, client: Any, clock: FakeClock, desktop: Any
) -> None:
    from playwright.async_api import expect

    from tests.test_pages_contracts import use_session

    async with receiver() as recv:
        endpoint = await _dead_delivery(api, make_api, client, clock, recv)
        await use_session(desktop, api)
        await desktop.goto("/dashboard/integrations")
        row = desktop.locator("#endpoints tr", has_text=recv.base + "/hook")
        await expect(row).to_contain_text("提交入职资料")
        await row.get_by_role("button", name="投递记录").click()
        status = desktop.locator("#deliveries [data-status]")
        await expect(status).to_have_text("已停止重试")
        await expect(desktop.locator("#deliveries")).to_contain_text("HTTP 500")

        recv.always = 200
        await desktop.get_by_role("button", name="重新投递").click()
        await expect(status).to_have_text("待发送")
        await deliver(client)
        await desktop.get_by_role("button", name="投递记录").click()
        await expect(status).to_have_text("已送达")
        assert recv.received[-1].event["id"] == recv.received[0].event["id"]
        assert recv.received[-1].signature_ok(endpoint["secret"])

        # Registering through the page: a bad address is explained, a good one shows its secret once.
        await desktop.click("#new-endpoint")
        await desktop.fill(".modal input[name=url]", "ftp://example.com/x")
        await desktop.click(".modal button.primary")
        await expect(desktop.locator(".modal [data-error-for=url]")).to_contain_text("http://")
        await desktop.fill(".modal input[name=url]", recv.base + "/second")
        await desktop.click(".modal button.primary")
        await expect(desktop.locator("#secret")).to_contain_text("whsec_")
        secret = await desktop.locator("#secret").inner_text()
        await desktop.get_by_role("button", name="我已保存").click()
        await expect(desktop.locator("#endpoints tr", has_text=recv.base + "/second")).to_be_visible()
        listed = await api.get("/api/v1/webhook-endpoints")
        assert len(listed["items"]) == 2 and secret not in repr(listed)
