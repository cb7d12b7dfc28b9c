"""The members page in a real browser: the admin changes a member's permissions, removes the
member (who is then locked out), and is told why the last admin cannot be removed."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.core.clock import FakeClock
from tests.conftest import Api
from tests.test_pages_contracts import use_session

pytestmark = pytest.mark.browser


async def test_admin_edits_and_removes_a_member(
    desktop: Any, api: Api, make_api: Any, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    member = await api.post(
        "/api/v1/members", {"name": "李四", "phone": "13900139000", "permissions": ["templates"]}, expect=201
    )
    li = await make_api()
    await li.login(clock, "13900139000")
    await use_session(desktop, api)
    page = desktop
    await page.goto("/dashboard/members")
    row = page.locator(f'tr[data-member="{member["id"]}"]')
    await expect(row).to_contain_text("模板管理")
    await expect(row).not_to_contain_text("从未登录")  # 李四 has logged in

    await row.get_by_role("button", name="修改权限").click()
    await page.uncheck('form#edit-form [data-perm="templates"]')
    await page.check('form#edit-form [data-perm="contracts"]')
    await page.get_by_role("button", name="保存").click()
    await expect(row).to_contain_text("合同管理")
    await expect(row).not_to_contain_text("模板管理")
    assert (await li.get("/api/v1/me"))["member"]["permissions"] == ["contracts"]

    await row.get_by_role("button", name="移除").click()
    await expect(page.locator(".modal")).to_contain_text("将立即无法办理本企业业务")
    await page.get_by_role("button", name="确定移除").click()
    await expect(row).to_have_count(0)
    gone = await li.get("/api/v1/contracts", expect=403)
    assert gone["error"] == "no_enterprise"

    me = (await api.get("/api/v1/me"))["member"]["id"]
    await page.locator(f'tr[data-member="{me}"]').get_by_role("button", name="移除").click()
    await page.get_by_role("button", name="确定移除").click()
    await expect(page.locator("#toast")).to_contain_text("不能移除企业唯一的管理员")
    await expect(page.locator(f'tr[data-member="{me}"]')).to_have_count(1)
