"""Factories that create, as enterprise B, the object behind each enterprise-scoped route with
an id in its path. The isolation test calls every such route as enterprise A with B's ids and
expects 404. A new enterprise-scoped route with a path id must register a factory here."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable

from laborsign.core.clock import FakeClock
from tests.conftest import Api

Factory = Callable[[Api, FakeClock], Awaitable[dict[str, str]]]
FOREIGN: dict[str, Factory] = {}
# Routes whose path parameter names no enterprise's object, only a code every enterprise shares
# (a chat channel): nothing foreign to pass; the enterprise comes from the session alone, and
# the routes' own tests show each enterprise its own data.
NOT_AN_ID = {"/api/v1/invite-link/channels/{channel}/qr"}


def foreign(*paths: str) -> Callable[[Factory], Factory]:
    """Registers a factory for these routes; it runs once per test (results are reused)."""

    def register(fn: Factory) -> Factory:
        async def once(b: Api, clock: FakeClock) -> dict[str, str]:
            cache: dict[str, dict[str, str]] = b.__dict__.setdefault("_foreign", {})
            if fn.__name__ not in cache:
                cache[fn.__name__] = await fn(b, clock)
            return cache[fn.__name__]

        for path in paths:
            FOREIGN[path] = once
        return fn

    return register


@foreign("/api/v1/api-keys/{id}")
async def api_key(b: Api, clock: FakeClock) -> dict[str, str]:
    key = await b.post("/api/v1/api-keys", {"name": "B的密钥"}, expect=201)
    return {"id": key["id"]}


@foreign("/api/v1/members/{id}")
async def member(b: Api, clock: FakeClock) -> dict[str, str]:
    created = await b.post("/api/v1/members", {"name": "B的成员", "phone": "13500135000"}, expect=201)
    return {"id": created["id"]}


@foreign(
    "/api/v1/templates/{id}",
    "/api/v1/templates/{id}/controls",
    "/api/v1/templates/{id}/enable",
    "/api/v1/templates/{id}/disable",
    "/api/v1/templates/{id}/files/{file}.pdf",
    "/api/v1/templates/{id}/files/{file}/pages/{page}.png",
    "/api/v1/templates/{id}/preview",
    "/api/v1/templates/{id}/preview.pdf",
    "/api/v1/templates/{id}/preview/pages/{page}.png",
)
async def template(b: Api, clock: FakeClock) -> dict[str, str]:
    from tests.test_templates import upload

    created = await upload(b, name="B的模板")
    return {"id": created["id"], "file": "0", "page": "1"}


_WORKER_NUMBERS = itertools.count(31_000_000)


async def _employee(b: Api, clock: FakeClock) -> str:
    from tests.test_onboarding import FORM

    link = await b.get("/api/v1/invite-link")
    # A new worker each call: the same person cannot be onboarded twice while employed.
    phone = f"137{next(_WORKER_NUMBERS) % 100_000_000:08d}"
    from tests.conftest import Api as _Api

    worker = _Api(b.client)  # same cookie jar as B: log in as the worker, then B again
    worker.csrf = b.csrf
    await worker.login(clock, phone, side="worker")
    record = await worker.post(
        f"/api/v1/join/{link['token']}/onboarding", {**FORM, "phone": phone}, expect=201
    )
    # `worker` shares B's cookie jar: log B back in as admin.
    b.csrf = worker.csrf  # the jar now holds the worker's session
    await b.login(clock, "13900139000")
    approved = await b.post(f"/api/v1/onboarding/{record['id']}/approve", {}, expect=200)
    return str(approved["employee_id"])


@foreign(
    "/api/v1/employees/{id}",
    "/api/v1/employees/{id}/department",
    "/api/v1/employees/{id}/resignation",
    "/api/v1/employees/{id}/resignation/confirm",
)
async def employee(b: Api, clock: FakeClock) -> dict[str, str]:
    return {"id": await _employee(b, clock)}


@foreign("/api/v1/departments/{id}")
async def department(b: Api, clock: FakeClock) -> dict[str, str]:
    created = await b.post("/api/v1/departments", {"name": "B部门"}, expect=201)
    return {"id": created["id"]}


@foreign("/api/v1/onboarding/{id}", "/api/v1/onboarding/{id}/approve", "/api/v1/onboarding/{id}/reject")
async def onboarding_record(b: Api, clock: FakeClock) -> dict[str, str]:
    from tests.test_onboarding import FORM

    link = await b.get("/api/v1/invite-link")
    from tests.conftest import Api as _Api

    worker = _Api(b.client)
    worker.csrf = b.csrf
    phone = "13612345678"
    await worker.login(clock, phone, side="worker")
    record = await worker.post(
        f"/api/v1/join/{link['token']}/onboarding", {**FORM, "phone": phone}, expect=201
    )
    b.csrf = worker.csrf  # the jar now holds the worker's session
    await b.login(clock, "13900139000")
    return {"id": record["id"]}


async def _contract(b: Api, clock: FakeClock) -> str:
    from tests.test_contracts import launch_body, mark_verified
    from tests.test_templates import CONTROLS, upload

    template = await upload(b, name="B合同")
    await b.call("PUT", f"/api/v1/templates/{template['id']}/controls", {"controls": CONTROLS}, expect=200)
    await b.post(f"/api/v1/templates/{template['id']}/enable", expect=200)
    employee_id = await _employee(b, clock)
    me = await b.get("/api/v1/me")
    await mark_verified(
        b.client.server_client if hasattr(b.client, "server_client") else b.client,
        enterprise_id=me["enterprise"]["id"],
    )
    world = {"template": template, "employee_id": employee_id}
    launched = await b.post("/api/v1/contracts", launch_body(world), expect=201)
    return str(launched["contracts"][0]["id"])


@foreign(
    "/api/v1/contracts/{id}",
    "/api/v1/contracts/{id}/document.pdf",
    "/api/v1/contracts/{id}/events",
    "/api/v1/contracts/{id}/remind",
    "/api/v1/contracts/{id}/withdraw",
    "/api/v1/contracts/{id}/reinitiate",
    "/api/v1/contracts/{id}/renew",
    "/api/v1/contracts/{id}/pages/{page}.png",
    "/api/v1/contracts/{id}/evidence.pdf",
)
async def contract(b: Api, clock: FakeClock) -> dict[str, str]:
    return {"id": await _contract(b, clock), "page": "1"}


@foreign("/api/v1/seals/{id}.png")
async def seal(b: Api, clock: FakeClock) -> dict[str, str]:
    created = await b.post("/api/v1/seals", {"type": "hr"}, expect=201)
    return {"id": created["id"]}


@foreign(
    "/api/v1/webhook-endpoints/{id}",
    "/api/v1/webhook-endpoints/{id}/deliveries",
    "/api/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver",
)
async def webhook_endpoint(b: Api, clock: FakeClock) -> dict[str, str]:
    # A public address: registering it needs no DNS and no allow_private_targets.
    created = await b.post(
        "/api/v1/webhook-endpoints",
        {"url": "https://1.1.1.1/hook", "events": ["contract.completed"]},
        expect=201,
    )
    return {"id": created["id"], "delivery_id": "0" * 32}


@foreign("/api/v1/exports/{id}", "/api/v1/exports/{id}/file.zip")
async def export_job(b: Api, clock: FakeClock) -> dict[str, str]:
    from laborsign.api.http import DEPS

    jobs = b.client.server_client.app[DEPS].config.jobs
    was, jobs.export_zip_stream_max = jobs.export_zip_stream_max, -1  # even an empty set as a job
    try:
        job = await b.post("/api/v1/contracts/export.zip", expect=202)
    finally:
        jobs.export_zip_stream_max = was
    for _ in range(400):  # zipped in the server's loop: its file is there once done
        if (await b.get(job["url"]))["status"] == "done":
            break
        await asyncio.sleep(0.05)
    return {"id": job["id"]}
