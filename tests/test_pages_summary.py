"""The home page as a work centre in a real browser: the summary numbers as links that open
their filtered lists, the two SVG charts drawn, and a member seeing only their numbers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.core.clock import FakeClock
from tests.conftest import Api
from tests.test_dashboard_summary import _member, scripted_enterprise
from tests.test_pages_contracts import use_session

pytestmark = pytest.mark.browser


def stat(page: Any, key: str) -> Any:
    return page.locator(f'[data-stat="{key}"]')


async def test_numbers_link_to_their_lists(
    desktop: Any, api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    await scripted_enterprise(api, make_api, client, clock)
    page = desktop
    await use_session(page, api)
    await page.goto("/dashboard")
    shown = {
        "pending_onboarding": "1待审核入职", "awaiting_enterprise": "2待我签署", "awaiting_worker": "1待劳动者签署",
        "expiring": "1即将到期（30 天内）", "no_written_contract": "1未签书面合同",
    }  # fmt: skip
    for key, text in shown.items():
        await expect(stat(page, key)).to_have_text(text)
    await expect(stat(page, "active_employees")).to_contain_text("4在职人数")
    await expect(page.locator("#covered-line")).to_have_text("持有效合同 1 人（25%）")
    await expect(page.locator('#chart-status [data-bar="completed"] title')).to_have_text("已完成：3")
    await expect(page.locator("#chart-expiries [data-week] rect")).to_have_count(13)
    weeks = await page.locator("#chart-expiries [data-week] title").all_text_contents()
    assert [w.split("：")[1] for w in weeks].count("1 份") == 2

    # Each bar opens its list: a status bar the contracts of that status, a week bar the
    # completed contracts whose term ends in that week.
    await page.locator('#chart-status [data-bar="completed"] rect').click()
    await expect(page).to_have_url("/dashboard/contracts?view=all&status=completed")
    await expect(page.locator('#filters select[name="status"]')).to_have_value("completed")
    await expect(page.locator("#rows tr")).to_have_count(3)
    await page.go_back()
    week = page.locator("#chart-expiries [data-week]").filter(has_text="：1 份")
    first = await week.first.get_attribute("data-week")
    await week.first.locator("rect").click()
    await expect(page).to_have_url(re.compile(rf"view=completed&term_end_from={first}&term_end_to="))
    await expect(page.locator("#rows tr")).to_have_count(1)
    await page.goto("/dashboard")
    await stat(page, "awaiting_worker").click()
    await expect(page).to_have_url("/dashboard/contracts?view=awaiting_others")
    await expect(page.locator("#rows tr, tbody tr").filter(has_text="王五")).to_have_count(1)
    await page.goto("/dashboard")
    await stat(page, "no_written_contract").click()
    await expect(page).to_have_url("/dashboard/alerts?kind=no_written_contract")
    await expect(page.locator("#alerts tr")).to_have_count(1)
    await expect(page.locator("#alerts tr")).to_contain_text("钱四十")
    await page.goto("/dashboard")
    await stat(page, "expiring").click()
    await expect(page.locator("#alerts tr")).to_have_count(1)
    await expect(page.locator("#alerts tr")).to_have_attribute("data-alert", "renewal_due")
    await page.goto("/dashboard")
    await stat(page, "pending_onboarding").click()
    await expect(page).to_have_url("/dashboard/onboarding")
    await expect(page.locator("tbody tr").filter(has_text="周待审")).to_have_count(1)


async def test_a_member_sees_only_their_numbers(
    desktop: Any, api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    await scripted_enterprise(api, make_api, client, clock)
    hr = await _member(api, make_api, clock, "13900139012", ["onboarding"])
    page = desktop
    await use_session(page, hr)
    await page.goto("/dashboard")
    await expect(stat(page, "pending_onboarding")).to_have_text("1待审核入职")
    await expect(stat(page, "active_employees")).to_be_visible()
    for key in ("awaiting_enterprise", "awaiting_worker", "expiring", "no_written_contract"):
        await expect(stat(page, key)).to_be_hidden()
    await expect(page.locator("#chart-status")).to_be_hidden()
    await expect(page.locator("#chart-expiries")).to_be_hidden()
