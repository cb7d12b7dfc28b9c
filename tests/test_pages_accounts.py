"""The account pages in a real browser: employer registration, login, members and admin
transfer on a PC-sized window; worker login and password on a phone-sized one."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.core.clock import FakeClock
from tests.conftest import latest_code

pytestmark = pytest.mark.browser


async def test_employer_registers_and_manages_members(desktop: Any, client: Any, clock: FakeClock) -> None:
    page = desktop
    await page.goto("/dashboard")
    await expect(page).to_have_url("/login?next=%2Fdashboard")  # not logged in → login page
    await page.get_by_role("link", name="立即创建").click()
    await page.fill("#name", "广州测试科技有限公司")
    await page.fill("#credit_code", "91350100M000100Y44")  # wrong check character
    await page.fill("#admin_name", "张管理")
    await page.fill("#admin_phone", "13800138000")
    await page.click("#send-code")
    await expect(page.locator("#send-code")).to_contain_text("秒后重发")
    code = await latest_code(client, "13800138000")
    await page.fill("#code", str((int(code[0]) + 1) % 10) + code[1:])  # a typo
    await page.get_by_role("button", name="同意协议并注册").click()
    await expect(page.locator('[data-error-for="credit_code"]')).to_contain_text("校验位")
    await expect(page.locator('[data-error-for="agree_terms"]')).to_contain_text("平台用户使用协议")
    # One way to show errors: at each field, and all of them in a summary at the top.
    summary = page.locator("#register-form .form-errors")
    await expect(summary).to_contain_text("校验位")
    await expect(summary).to_contain_text("平台用户使用协议")
    await page.fill("#credit_code", "91350100M000100Y43")
    await expect(page.locator('[data-error-for="credit_code"]')).to_be_empty()  # cleared on input
    await page.check('input[name="agree_terms"]')
    await expect(summary).to_be_hidden()
    await page.get_by_role("button", name="同意协议并注册").click()
    await expect(page.locator('[data-error-for="code"]')).to_have_text("验证码不正确，请核对后重新输入")
    await page.fill("#code", code)  # the same code, typed right
    await page.get_by_role("button", name="同意协议并注册").click()
    await expect(page.get_by_role("button", name="立即登录")).to_be_visible()
    # Nothing stale under the success: no error left in the form.
    await expect(page.locator("#register-form .form-errors")).to_have_count(0)
    await expect(page.locator('#register-form [data-error-for="code"]')).to_be_empty()
    await page.get_by_role("button", name="立即登录").click()
    await expect(page).to_have_url("/dashboard")
    await expect(page.locator("#who-enterprise")).to_have_text("广州测试科技有限公司")
    await page.get_by_role("link", name="单位管理").first.click()
    await expect(page.locator("#members")).to_contain_text("张管理")

    await page.click("#add-member")
    await page.fill('form#member-form input[name="name"]', "李四")
    await page.fill('form#member-form input[name="phone"]', "139")
    await page.get_by_role("button", name="添加", exact=True).click()
    await expect(page.locator('[data-error-for="phone"]')).to_contain_text("手机号格式不正确")
    await page.fill('form#member-form input[name="phone"]', "13900139000")
    await page.check('[data-perm="templates"]')
    await page.get_by_role("button", name="添加", exact=True).click()
    await expect(page.locator("#members")).to_contain_text("139****9000")
    await expect(page.locator("#members")).to_contain_text("模板管理")

    await page.click("#transfer")
    await page.check('input[name="member_id"]')
    await page.get_by_role("button", name="确定").click()
    await expect(page.locator(".modal")).to_contain_text("李四 已成为管理员")
    await page.click("#bye")
    await expect(page).to_have_url("/login")
    # Logging in again: the old admin is no longer offered the enterprise.
    clock.advance(seconds=61)
    await page.fill("#phone", "13800138000")
    await page.click("#send-code")
    await expect(page.locator("#send-code")).to_contain_text("秒后重发")
    await page.fill("#code", await latest_code(client, "13800138000"))
    await page.check("#agree")
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.locator("#toast")).to_be_hidden()
    await expect(page).to_have_url("/register?phone=13800138000")


async def test_worker_logs_in_on_the_phone_and_sets_a_password(
    phone: Any, client: Any, clock: FakeClock
) -> None:
    page = phone
    await page.goto("/h5")
    await expect(page).to_have_url("/h5/login?next=%2Fh5")
    await page.fill("#phone", "13700137000")
    await page.click("#send-code")
    await expect(page.locator("#send-code")).to_contain_text("秒后重发")
    await page.fill("#code", await latest_code(client, "13700137000"))
    await page.get_by_role("button", name="登录并注册").click()
    await expect(page.locator('[data-error-for="agree_terms"]')).to_be_visible()
    await page.check('input[name="agree_terms"]')
    await page.get_by_role("button", name="登录并注册").click()
    await expect(page).to_have_url("/h5")
    await expect(page.locator("#hello")).to_contain_text("137****7000")
    await page.get_by_role("link", name="个人中心").click()
    await page.fill("#password", "abc12345")
    await page.fill("#password2", "abc12345")
    await page.get_by_role("button", name="保存密码").click()
    await expect(page.locator("#toast")).to_contain_text("密码已保存")
    await expect(page.locator("#profile")).to_contain_text("已设置")
    await page.click("#logout")
    await expect(page).to_have_url("/h5/login")
    await page.get_by_role("button", name="密码登录").click()
    await page.fill("#phone", "13700137000")
    await page.fill("#password", "abc12345")
    await page.check('input[name="agree_terms"]')
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page).to_have_url("/h5")
    await page.screenshot(path="/tmp/h5_home.png")
