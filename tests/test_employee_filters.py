"""The roster narrowed by days as HR asks (issue 14): hired between two days, left between two
days (the Beijing day the leaving was confirmed), both ends included, in the list, its page's
URL and the roster export; a clear 422 for a day that cannot be read."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.core.clock import FakeClock, china_time
from tests.conftest import Api
from tests.test_exports import as_dicts, sheet_rows
from tests.test_labor_assistant import hire
from tests.test_pages_contracts import use_session


async def names(api: Api, query: str) -> set[str]:
    answer = await api.get(f"/api/v1/employees?per_page=100&{query}")
    assert answer["total"] == len(answer["items"])
    return {e["name"] for e in answer["items"]}


async def roster(api: Api, make_api: Any, clock: FakeClock) -> date:
    """张一 hired 2026-03-01 and still there; 李二 hired 2026-06-15, left today (Beijing)."""
    await api.register_enterprise(clock)
    await hire(api, make_api, clock, "张一", "13700137001", 1, date(2026, 3, 1))
    leaver = await hire(api, make_api, clock, "李二", "13700137002", 2, date(2026, 6, 15))
    await api.post(f"/api/v1/employees/{leaver}/resignation", {"reason": "个人原因"}, expect=200)
    await api.post(
        f"/api/v1/employees/{leaver}/resignation/confirm",
        {"handover_to": "张一", "reason_type": "employee_resigned"},
        expect=200,
    )
    return china_time(clock.now()).date()


async def test_hr_narrows_the_roster_by_days(
    api: Api, make_api: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from laborsign.core.services import exports

    today = await roster(api, make_api, clock)
    monkeypatch.setattr(exports, "PAGE", 1)  # the export walks keyset pages: each person once
    everyone = as_dicts(sheet_rows(await api.get("/api/v1/employees/export.xlsx?status=")))
    assert [r["姓名"] for r in everyone] == ["李二", "张一"], "newest first, as the list"
    assert await names(api, "") == {"张一", "李二"}
    assert await names(api, "hired_from=2026-03-01&hired_to=2026-03-01") == {"张一"}
    assert await names(api, "hired_from=2026-03-02") == {"李二"}
    assert await names(api, "hired_to=2026-06-14") == {"张一"}
    assert await names(api, f"left_from={today}&left_to={today}") == {"李二"}
    assert await names(api, f"left_to={today - timedelta(days=1)}") == set()
    assert await names(api, f"left_from={today + timedelta(days=1)}") == set()
    assert await names(api, "status=active&hired_from=2026-01-01") == {"张一"}

    ledger = as_dicts(sheet_rows(await api.get("/api/v1/employees/export.xlsx?hired_from=2026-06-01")))
    assert [r["姓名"] for r in ledger] == ["李二"], "the export takes the list's day ranges"
    assert ledger[0]["入职日期"] == datetime(2026, 6, 15)

    for query, field, words in (
        ("hired_from=2026-02-30", "hired_from", "入职日期"),
        ("left_from=2026-12-09&left_to=2026-12-01", "left_to", "离职日期"),
    ):
        for path in ("employees", "employees/export.xlsx"):
            bad = await api.get(f"/api/v1/{path}?{query}", expect=422)
            assert field in bad["fields"] and words in bad["message"], (path, query)


@pytest.mark.browser
async def test_the_roster_page_keeps_its_days_in_the_url(
    desktop: Any, api: Api, make_api: Any, clock: FakeClock
) -> None:
    await roster(api, make_api, clock)
    await use_session(desktop, api)
    page = desktop
    await page.goto("/dashboard/employees?status=")
    rows = page.locator("#rows tr")
    await expect(rows).to_have_count(2)
    await page.fill('#filters input[name="hired_from"]', "2026-06-01")
    await page.locator('#filters input[name="hired_from"]').dispatch_event("change")
    await expect(page).to_have_url("/dashboard/employees?status=&hired_from=2026-06-01")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text("李二")
    link = page.get_by_role("link", name="导出花名册")
    await expect(link).to_have_attribute(
        "href", "/api/v1/employees/export.xlsx?status=&hired_from=2026-06-01"
    )
    await page.reload()  # the days come back from the URL
    await expect(page.locator('#filters input[name="hired_from"]')).to_have_value("2026-06-01")
    await expect(rows).to_have_count(1)
    await page.get_by_role("button", name="清除筛选").click()
    await expect(page).to_have_url("/dashboard/employees?status=")
    await expect(rows).to_have_count(2)
