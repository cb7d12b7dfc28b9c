"""Onboarding in a real browser: the worker joins by link on the phone, HR reviews on a PC."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.core.clock import FakeClock
from tests.conftest import Api, latest_code
from tests.test_pages_contracts import use_session

pytestmark = pytest.mark.browser


async def test_join_review_roster(phone: Any, desktop: Any, api: Api, client: Any, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    await api.post("/api/v1/departments", {"name": "生产部"}, expect=201)
    link = await api.get("/api/v1/invite-link")
    page = phone
    await page.goto(f"/h5/join/{link['token']}")
    await expect(page.locator("#enterprise-name")).to_have_text("广州测试科技有限公司")
    await page.get_by_role("button", name="填写入职资料").click()
    await expect(page).to_have_url(f"/h5/login?next=%2Fh5%2Fjoin%2F{link['token']}")
    await page.fill("#phone", "13700137000")
    await page.click("#send-code")
    await expect(page.locator("#send-code")).to_contain_text("秒后重发")
    await page.fill("#code", await latest_code(client, "13700137000"))
    await page.check('input[name="agree_terms"]')
    await page.get_by_role("button", name="登录并注册").click()
    await expect(page).to_have_url(f"/h5/join/{link['token']}")
    await page.get_by_role("button", name="填写入职资料").click()
    await expect(page.locator('input[name="phone"]')).to_have_value("13700137000")
    await page.fill('input[name="name"]', "王五")
    await page.fill('input[name="id_number"]', "44010119900307123X")
    await page.locator('input[name="id_number"]').press("Tab")
    await expect(page.locator('input[name="birth_date"]')).to_have_value("1990-03-07")
    await page.get_by_role("button", name="提交").click()
    await expect(page.locator('[data-error-for="address"]')).to_contain_text("请填写现住址")
    await page.fill('input[name="address"]', "广州市天河区体育西路100号")
    await page.fill('input[name="contact_name"]', "王大")
    await page.select_option('select[name="contact_relation"]', "父母")
    await page.fill('input[name="contact_phone"]', "13600136000")
    await page.get_by_role("button", name="提交").click()
    await expect(page.locator("#done")).to_be_visible()
    await expect(page.locator("#done")).to_contain_text("资料审核中")

    await use_session(desktop, api)
    hr = desktop
    await hr.goto("/dashboard")
    await expect(hr.locator('[data-entry="入职管理"] [data-badge]')).to_have_text("1")
    await hr.get_by_role("link", name="入职管理").first.click()
    await hr.get_by_role("button", name="审核", exact=True).click()
    await hr.select_option('#review-form select[name="department_id"]', label="生产部")
    await hr.get_by_role("button", name="通过", exact=True).click()
    await expect(hr.locator("#toast")).to_contain_text("已通过")
    await hr.goto("/dashboard/employees")
    await expect(hr.locator("#rows")).to_contain_text("王五")
    await expect(hr.locator("#rows")).to_contain_text("生产部")
    await hr.get_by_role("button", name="详情", exact=True).click()
    await hr.get_by_role("button", name="办理离职").click()
    await hr.get_by_role("button", name="确定", exact=True).click()
    await expect(hr.locator('[data-error-for="reason"]')).to_contain_text("离职原因")
    await hr.fill('input[name="reason"]', "个人原因")
    await hr.get_by_role("button", name="确定", exact=True).click()
    await expect(hr.locator("#toast")).to_contain_text("办理离职成功")
    await hr.select_option("#status", "resigning")
    await expect(hr.locator("#rows")).to_contain_text("待确认离职")

    await page.goto("/h5/onboarding")
    await expect(page.locator("#list")).to_contain_text("已通过")


async def test_card_link_opens_the_record(
    desktop: Any, api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    from tests.test_onboarding import onboard

    await api.register_enterprise(clock)
    worker = await make_api()
    record = await onboard(api, worker, clock)
    await use_session(desktop, api)
    await desktop.goto(f"/dashboard/onboarding/{record['id']}")
    await expect(desktop.locator(".modal")).to_contain_text("王五")
    await expect(desktop.locator("#approve")).to_be_visible()
    # At 1280×800 the dialog's 关闭 / 拒绝 / 通过 are on the screen and not covered, before and
    # after scrolling the dialog's content.
    for scrolled in (False, True):
        if scrolled:
            await desktop.locator(".modal").evaluate("m => { m.scrollTop = m.scrollHeight; }")
        for name in ("关闭", "拒绝", "通过"):
            button = desktop.locator(".modal").get_by_role("button", name=name, exact=True)
            hit = await button.evaluate(
                """b => { const r = b.getBoundingClientRect(); const x = r.left + r.width / 2, y = r.top + r.height / 2;
                         return y > 0 && y < innerHeight && document.elementFromPoint(x, y) === b; }"""
            )
            assert hit, f"{name} is reachable (scrolled: {scrolled})"
        await desktop.locator(".modal").evaluate("m => { m.scrollTop = 0; }")
