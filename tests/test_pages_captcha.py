"""The pages that ask for SMS codes show the image captcha when the API wants one (after ten
codes from one address) and send the code once it is solved."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.api.http import DEPS
from laborsign.core.budgets import spend
from laborsign.core.clock import FakeClock
from tests.test_budgets import DEFAULTS

pytestmark = pytest.mark.browser


@pytest.fixture
def config_env(config_env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in config_env.items() if k.removeprefix("LABORSIGN_SECURITY__") not in DEFAULTS}


async def used_up(client: Any, clock: FakeClock) -> None:
    """Ten codes already asked for from this address (the browser's: loopback)."""
    deps = client.app[DEPS]
    async with deps.uow() as uow:
        await spend(uow.budgets, deps.limits.sms_free_per_client, "127.0.0.1", clock.now(), cost=10)
        await uow.commit()


async def test_employer_login_shows_the_captcha_when_asked(
    desktop: Any, client: Any, clock: FakeClock, answers: list[str]
) -> None:
    await solve_on(desktop, "/login", client, clock, answers)


async def test_worker_login_shows_the_captcha_when_asked(
    phone: Any, client: Any, clock: FakeClock, answers: list[str]
) -> None:
    await solve_on(phone, "/h5/login", client, clock, answers)


async def solve_on(page: Any, path: str, client: Any, clock: FakeClock, answers: list[str]) -> None:
    await used_up(client, clock)
    await page.goto(path)
    await page.fill("#phone", "13700137000")
    await page.click("#send-code")
    dialog = page.locator("#captcha-form")
    await expect(dialog).to_be_visible()
    image = page.locator("#captcha-image")
    await expect(image).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    assert await image.evaluate("img => img.complete && img.naturalWidth") == 160
    first = await image.get_attribute("src")
    await page.fill("#captcha-answer", "0000")
    await page.get_by_role("button", name="确定").click()
    await expect(dialog).to_contain_text("图形验证码错误")  # a new picture, asked again
    await expect(page.locator("#captcha-image")).to_have_attribute("src", re.compile(r"^data:image/png"))
    await expect(page.locator("#captcha-image")).not_to_have_attribute("src", first or "")
    await page.fill("#captcha-answer", answers[-1])
    await page.get_by_role("button", name="确定").click()
    await expect(page.locator("#toast")).to_contain_text("验证码已发送")
    await expect(dialog).to_have_count(0)
    inbox = await (await client.get("/api/v1/dev/sms?phone=13700137000")).json()
    assert inbox["items"] and inbox["items"][0]["purpose"] == "login"


async def test_closing_the_captcha_sends_nothing(desktop: Any, client: Any, clock: FakeClock) -> None:
    await used_up(client, clock)
    await desktop.goto("/login")
    await desktop.fill("#phone", "13700137000")
    await desktop.click("#send-code")
    await expect(desktop.locator("#captcha-form")).to_be_visible()
    await desktop.get_by_role("button", name="取消").click()
    await expect(desktop.locator("#login-form .form-errors")).to_contain_text("图形验证码")
    await expect(desktop.locator("#send-code")).to_be_enabled()
    inbox = await (await client.get("/api/v1/dev/sms?phone=13700137000")).json()
    assert inbox["items"] == []
