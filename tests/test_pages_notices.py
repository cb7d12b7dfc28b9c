"""The notices in a real browser: the unread badge in the header, the 通知 page listing the
enterprise's notices, marking one read and then all, and the SMS setting."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from laborsign.core.events import ContractDeclined, ContractWithdrawn
from tests.conftest import Api
from tests.test_pages_contracts import use_session

pytestmark = pytest.mark.browser


async def test_badge_list_and_marking_read(desktop: Any, api: Api, client: Any, clock: FakeClock) -> None:
    ent = (await api.register_enterprise(clock))["enterprise"]["id"]
    facts = {
        "enterprise_id": ent, "name": "标准劳动合同", "employee_id": "e" * 32, "worker_name": "王五",
    }  # fmt: skip
    async with client.app[DEPS].uow() as uow:  # what the contract services record
        uow.record(
            ContractDeclined(
                at=clock.now(), contract_id="c" * 32, status="rejected", reason="薪资不符", **facts
            )
        )
        uow.record(ContractWithdrawn(at=clock.advance(seconds=1), contract_id="d" * 32, status="withdrawn",
                                     reason="岗位调整", **facts))  # fmt: skip
        await uow.commit()

    page = desktop
    await use_session(page, api)
    await page.goto("/dashboard")
    await expect(page.locator("#notices-unread")).to_have_text("2")
    await page.click("#notices-link")
    await expect(page).to_have_url("/dashboard/notices")
    rows = page.locator("#notices tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text("与王五的《标准劳动合同》已撤回，原因：岗位调整")
    await expect(rows.nth(0)).to_contain_text("合同已撤回")
    await expect(rows.nth(1)).to_contain_text("王五拒签了《标准劳动合同》，理由：薪资不符")
    await expect(page.locator("#unread-line")).to_have_text("未读 2 条")

    await rows.nth(1).get_by_role("button", name="标为已读").click()
    await expect(page.locator("#notices-unread")).to_have_text("1")
    await expect(rows.nth(1)).to_contain_text("已读")
    await expect(rows.nth(0).locator(".badge")).to_have_text("未读")
    await page.click("#read-all")
    await expect(page.locator("#unread-line")).to_have_text("没有未读通知")
    await expect(page.locator("#notices-unread")).to_be_hidden()
    assert (await api.get("/api/v1/notices"))["unread"] == 0

    await page.check("#notify-by-sms")
    await expect(page.locator(".toast").last).to_contain_text("已开启短信通知")
    assert (await api.get("/api/v1/notices/settings"))["notify_by_sms"] is True
    await page.reload()
    await expect(page.locator("#notify-by-sms")).to_be_checked()
