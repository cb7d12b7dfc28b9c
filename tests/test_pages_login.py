"""The two phone login pages, built from one form (web/templates/login_form.html): each tab
sends what it shows, the submit label follows the tab, errors come back onto the page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.browser


async def login_body(page: Any, submit: Any) -> dict[str, Any]:
    """What pressing the submit button sends to the login API."""
    async with page.expect_request("**/api/v1/auth/login") as sent:
        await submit.click()
    body: dict[str, Any] = (await sent.value).post_data_json
    return body


async def test_employer_login_password_tab(desktop: Any, client: Any) -> None:
    page = desktop
    await page.goto("/login")
    await expect(page.locator("#code")).to_be_visible()
    await expect(page.locator("#password")).to_be_hidden()
    await page.get_by_role("button", name="账号密码登录").click()
    await expect(page.locator("#password")).to_be_visible()
    await expect(page.locator("#password")).to_have_attribute("placeholder", "请输入密码")
    await expect(page.locator("#code")).to_be_hidden()
    await page.fill("#phone", "13800138000")
    await page.fill("#password", "wrong-pass-1")
    await page.check("#agree")
    body = await login_body(page, page.get_by_role("button", name="登录", exact=True))
    assert body == {
        "side": "employer",
        "phone": "13800138000",
        "agree_terms": True,
        "password": "wrong-pass-1",
    }
    await expect(page.locator("#login-form .form-errors")).to_contain_text("手机号或密码错误")
    await expect(page).to_have_url("/login")


async def test_worker_login_tabs_switch_the_submit_label(phone: Any, client: Any) -> None:
    page = phone
    await page.goto("/h5/login")
    submit = page.locator("#login-form button[type=submit]")
    await expect(submit).to_have_text("登录并注册")
    await page.get_by_role("button", name="密码登录").click()
    await expect(submit).to_have_text("登录")
    await page.get_by_role("button", name="验证码登录").click()
    await expect(submit).to_have_text("登录并注册")
    await page.fill("#phone", "13700137000")
    await page.fill("#code", "123456")
    await page.check('input[name="agree_terms"]')
    body = await login_body(page, submit)
    assert body == {"side": "worker", "phone": "13700137000", "agree_terms": True, "code": "123456"}
    await expect(page.locator("#login-form .form-errors")).to_contain_text("验证码已失效，请重新获取")
    await expect(page).to_have_url("/h5/login")
