"""Abuse budgets with the default settings (conftest raises the per-address ones for the
rest of the suite): SMS codes from one address, from several and in all; the image captcha;
what else costs money when looped (invitations, reminders, verification attempts)."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from tests.conftest import Api

DEFAULTS = ("SMS_CODES_PER_IP_BEFORE_CAPTCHA", "SMS_CODES_PER_IP_HOUR")


@pytest.fixture
def config_env(config_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in config_env.items() if k.removeprefix("LABORSIGN_SECURITY__") not in DEFAULTS}
    # A reverse proxy on loopback: tests play other addresses with X-Forwarded-For.
    return {**env, "LABORSIGN_SERVER__TRUSTED_PROXIES": "127.0.0.1"}


def phone(n: int) -> str:
    return f"139{n:08d}"


async def ask(api: Api, n: int, address: str = "203.0.113.10", **captcha: str) -> Any:
    return await api.post(
        "/api/v1/sms/codes",
        {"phone": phone(n), "purpose": "login", **captcha},
        headers={"X-Forwarded-For": address},
    )


async def solved(api: Api, answers: list[str], address: str = "203.0.113.10") -> dict[str, str]:
    challenge = await api.get("/api/v1/captcha", headers={"X-Forwarded-For": address})
    head, _, data = challenge["image"].partition(",")
    assert head == "data:image/png;base64" and base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    return {"captcha_id": challenge["id"], "captcha_answer": answers[-1].lower()}


async def test_codes_from_one_address_need_a_captcha_after_ten(api: Api, clock: FakeClock, answers: list[str]) -> None:
    for n in range(10):
        await ask(api, n)
        assert api.last_status == 202
    refused = await ask(api, 10)
    assert api.last_status == 428 and refused["error"] == "captcha_required", refused
    assert "图形验证码" in refused["message"]
    # Another address is not affected.
    await ask(api, 11, address="198.51.100.7")
    assert api.last_status == 202

    challenge = await solved(api, answers)
    wrong = await ask(api, 12, captcha_id=challenge["captcha_id"], captcha_answer="0000")
    assert api.last_status == 422 and wrong["error"] == "captcha_wrong" and "captcha_answer" in wrong["fields"]
    # One try per picture: the right answer after a wrong one is refused too.
    await ask(api, 12, **challenge)
    assert api.last_status == 422
    challenge = await solved(api, answers)
    await ask(api, 12, **challenge)
    assert api.last_status == 202
    await ask(api, 13, **challenge)  # a solved captcha is used up
    assert api.last_status == 422
    await api.get("/api/v1/dev/sms?phone=" + phone(12))

    # The free codes come back one a minute (10 in 10 minutes).
    clock.advance(seconds=61)
    await ask(api, 14)
    assert api.last_status == 202
    await ask(api, 15)
    assert api.last_status == 428
    clock.advance(minutes=10)
    for n in range(20, 30):
        await ask(api, n)
        assert api.last_status == 202


async def test_a_factory_of_300_from_one_address_gets_through(
    api: Api, clock: FakeClock, answers: list[str]
) -> None:
    """Onboarding day: 300 workers ask for login codes from the factory's one address, all at
    once. After the first ten, each solves a captcha; the 301st code is refused (429) until
    the hour's budget refills (one every 12 s)."""
    for n in range(300):
        await ask(api, n)
        if api.last_status == 428:
            await ask(api, n, **await solved(api, answers))
        assert api.last_status == 202, (n, api.last_status)
    over = await ask(api, 300, **await solved(api, answers))
    assert api.last_status == 429 and over["error"] == "rate_limited" and over["retry_after"] > 0, over
    assert api.last_response.headers["Retry-After"] == str(over["retry_after"])
    assert "网络" in over["message"]
    clock.advance(seconds=over["retry_after"])
    await ask(api, 300, **await solved(api, answers))
    assert api.last_status == 202


@pytest.fixture
def small_budgets(config_env: dict[str, str]) -> dict[str, str]:
    return {
        **config_env,
        "LABORSIGN_SECURITY__SMS_CODES_PER_IP_BEFORE_CAPTCHA": "100",
        "LABORSIGN_SECURITY__SMS_CODES_PER_IP_HOUR": "4",
        "LABORSIGN_SECURITY__SMS_CODES_GLOBAL_HOUR": "10",
    }


async def test_hard_budgets_per_address_and_in_all(
    aiohttp_client: Any, small_budgets: dict[str, str], clock: FakeClock
) -> None:
    """Two processes on one database: the budgets are rows, so both see the same ones."""
    from laborsign.bootstrap import create_app
    from laborsign.config import load_config

    config = load_config(environ=small_budgets)
    first = Api(await aiohttp_client(create_app(config, clock=clock, migrate=False)))
    second = Api(await aiohttp_client(create_app(config, clock=clock, migrate=False)))
    n = 0
    for address in ("203.0.113.1", "203.0.113.2"):
        for process in (first, second, first, second):
            await ask(process, n := n + 1, address)
            assert process.last_status == 202
        refused = await ask(second, n := n + 1, address)
        assert second.last_status == 429 and refused["error"] == "rate_limited", refused
    # 8 sent; two more from a third address, then everyone is refused.
    for _ in range(2):
        await ask(first, n := n + 1, "203.0.113.3")
        assert first.last_status == 202
    refused = await ask(second, n := n + 1, "203.0.113.4")
    assert second.last_status == 429 and refused["retry_after"] >= 1
    # IPv6 clients count per /64: another address in the same network shares its budget.
    clock.advance(hours=2)
    for host in range(1, 5):
        await ask(first, n := n + 1, f"2001:db8:1:2::{host}")
        assert first.last_status == 202
    await ask(first, n := n + 1, "2001:db8:1:2:ffff::1")
    assert first.last_status == 429
    # Concurrent requests from both processes: exactly the budget gets through.
    clock.advance(hours=2)

    async def one(process: Api, k: int) -> int:
        resp = await process.client.post(
            "/api/v1/sms/codes", json={"phone": phone(1000 + k), "purpose": "login"},
            headers={"X-Forwarded-For": "192.0.2.50"},
        )  # fmt: skip
        return resp.status

    statuses = await asyncio.gather(*(one((first, second)[k % 2], k) for k in range(12)))
    assert sorted(statuses) == [202] * 4 + [429] * 8, statuses


async def test_logged_in_codes_count_per_person_not_per_address(api: Api, clock: FakeClock) -> None:
    """A logged-in person (a worker changing their password from the factory's address) is
    budgeted as themself: no captcha after ten, but at most 20 codes an hour."""
    await api.login(clock, "13700137000", "worker")
    for n in range(20):
        await api.post("/api/v1/sms/codes", {"phone": phone(n), "purpose": "verify"}, expect=202)
    refused = await api.post("/api/v1/sms/codes", {"phone": phone(20), "purpose": "verify"}, expect=429)
    assert refused["error"] == "rate_limited" and "过于频繁" in refused["message"]


async def test_invitations_and_reminders_have_a_daily_budget(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    from tests.test_contracts import launch_body, mark_verified, setup_contract_world

    deps = client.app[DEPS]
    limit = deps.limits.invites_per_enterprise.limit
    assert limit == 3000 and deps.limits.reminders_per_enterprise.limit == 3000

    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"])
    launched = await api.post("/api/v1/contracts", launch_body(world), expect=201)
    contract = launched["contracts"][0]["id"]
    clock.advance(hours=6, minutes=1)  # a reminder is allowed 6 h after the launch
    # Spend what is left of today's budgets as another process would have, then one more.
    from laborsign.core.budgets import spend

    async with deps.uow() as uow:
        await spend(uow.budgets, deps.limits.invites_per_enterprise, world["enterprise"]["id"], clock.now(), limit)
        await spend(
            uow.budgets, deps.limits.reminders_per_enterprise, world["enterprise"]["id"], clock.now(), limit
        )
        await uow.commit()
    refused = await api.post("/api/v1/invitations", {"name": "李四", "phone": "13600136000"}, expect=429)
    assert "邀请短信" in refused["message"]
    refused = await api.post(f"/api/v1/contracts/{contract}/remind", expect=429)
    assert "催签" in refused["message"] and refused["retry_after"] > 0
    # A refused reminder changed nothing: the contract was not marked as reminded.
    assert (await api.get(f"/api/v1/contracts/{contract}"))["last_reminded_at"] is None
    clock.advance(hours=1)  # 3000 a day: 125 more an hour
    await api.post("/api/v1/invitations", {"name": "李四", "phone": "13600136000"}, expect=201)
    await api.post(f"/api/v1/contracts/{contract}/remind", expect=200)


async def test_verification_attempts_have_a_daily_budget(api: Api, clock: FakeClock) -> None:
    from tests.test_verification import person

    await api.login(clock, "13700137000", "worker")
    for _ in range(20):
        await api.post("/api/v1/me/verifications", person(name="测试失败", phone="13700137000"), expect=201)
        clock.advance(seconds=61)
    refused = await api.post("/api/v1/me/verifications", person(phone="13700137000"), expect=429)
    assert "认证次数" in refused["message"]


async def test_spent_budgets_and_used_captchas_are_forgotten(
    api: Api, client: Any, clock: FakeClock, answers: list[str]
) -> None:
    from sqlalchemy import func, select

    from laborsign.core.services.limits import forget_spent
    from laborsign.storage.guards import budgets, seen_once

    await ask(api, 1, **await solved(api, answers))
    deps = client.app[DEPS]

    async def rows() -> tuple[int, int]:
        async with deps.uow() as uow:
            b = await uow.session.scalar(select(func.count()).select_from(budgets))
            s = await uow.session.scalar(select(func.count()).select_from(seen_once))
        return int(b or 0), int(s or 0)

    assert (await rows())[0] >= 3 and (await rows())[1] == 1
    assert await forget_spent(deps) == 0  # nothing is full again yet
    clock.advance(hours=2)
    assert await forget_spent(deps) >= 4
    assert await rows() == (0, 0)
