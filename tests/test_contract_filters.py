"""The contract list narrowed as HR asks (issue 14): by the worker's department with its
sub-departments, by template, and by the days a contract was launched, completed or ends —
Beijing days, both ends included — with a clear 422 for what cannot be read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.core.clock import FakeClock, china_time
from tests.conftest import Api
from tests.test_labor_assistant import body, complete, term_world
from tests.test_pages_contracts import use_session


async def ids(api: Api, query: str) -> set[str]:
    answer = await api.get(f"/api/v1/contracts?per_page=100&{query}")
    assert answer["total"] == len(answer["items"])
    return {c["id"] for c in answer["items"]}


async def test_hr_narrows_the_contract_list(api: Api, make_api: Any, client: Any, clock: FakeClock) -> None:
    world = await term_world(api, make_api, client, clock)
    parent = await api.post("/api/v1/departments", {"name": "生产部"}, expect=201)
    child = await api.post("/api/v1/departments", {"name": "一车间", "parent_id": parent["id"]}, expect=201)
    other = await api.post("/api/v1/departments", {"name": "行政部"}, expect=201)
    await api.post(
        f"/api/v1/employees/{world['employee_id']}/department", {"department_id": child["id"]}, expect=200
    )

    async def launch(**fields: str) -> str:
        made = await api.post(
            "/api/v1/contracts",
            {**body(world, probation_end_date="", probation_wage="", **fields)},
            expect=201,
        )
        return str(made["contracts"][0]["id"])

    today = china_time(clock.now()).date()
    early = await launch(contract_end_date="2028-06-30")
    clock.advance(days=2)
    late = await launch(contract_end_date="2029-12-31")
    await complete(client, early)

    # The worker's department, its parent (sub-departments count) and another one.
    assert await ids(api, f"department_id={child['id']}") == {early, late}
    assert await ids(api, f"department_id={parent['id']}") == {early, late}
    assert await ids(api, f"department_id={other['id']}") == set()
    # The template used, and one not used.
    assert await ids(api, f"template_id={world['template']['id']}") == {early, late}
    assert await ids(api, "template_id=0123456789abcdef0123456789abcdef") == set()
    # Launch days, both ends included; completion days; the day the term ends.
    assert await ids(api, f"launched_from={today}&launched_to={today}") == {early}
    assert await ids(api, f"launched_from={today + timedelta(days=1)}") == {late}
    assert await ids(api, f"completed_to={today + timedelta(days=2)}") == {early}
    assert await ids(api, "term_end_from=2029-01-01&term_end_to=2029-12-31") == {late}
    assert await ids(api, "term_end_to=2028-06-30") == {early}
    # The exports take the same filters as the list they are started from.
    exported = (await api.get(f"/api/v1/contracts/export.jsonl?department_id={parent['id']}")).decode()
    assert len(exported.splitlines()) == 2
    assert (await api.get(f"/api/v1/contracts/export.jsonl?department_id={other['id']}")) == b""
    assert (await api.get("/api/v1/contracts/export.jsonl?term_end_to=2028-06-30")).decode().count("\n") == 1
    # Filters add up, with the view and search.
    assert await ids(api, f"view=completed&department_id={parent['id']}&term_end_to=2028-12-31") == {early}

    for query, field in (
        ("launched_from=2026-13-01", "launched_from"),
        ("completed_from=2026-12-09&completed_to=2026-12-01", "completed_to"),
        ("department_id=nope", "department_id"),
        ("template_id=%E6%A8%A1%E6%9D%BF", "template_id"),
    ):
        bad = await api.get(f"/api/v1/contracts?{query}", expect=422)
        assert field in bad["fields"] and bad["message"], query


@pytest.mark.browser
async def test_the_list_page_keeps_its_filters_in_the_url(
    desktop: Any, api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await term_world(api, make_api, client, clock)
    shop = await api.post("/api/v1/departments", {"name": "生产部"}, expect=201)
    await api.post("/api/v1/departments", {"name": "行政部"}, expect=201)
    await api.post(
        f"/api/v1/employees/{world['employee_id']}/department", {"department_id": shop["id"]}, expect=200
    )
    launched = await api.post(
        "/api/v1/contracts", body(world, probation_end_date="", probation_wage=""), expect=201
    )
    name = (await api.get(f"/api/v1/contracts/{launched['contracts'][0]['id']}"))["name"]
    await use_session(desktop, api)
    page = desktop
    await page.goto("/dashboard/contracts")
    rows = page.locator("#rows tr")
    await expect(rows.filter(has_text=name)).to_have_count(1)
    await page.select_option('#filters select[name="department_id"]', label="行政部")
    await expect(rows).to_have_text(["暂无合同"])
    await page.select_option('#filters select[name="department_id"]', label="生产部")
    await page.fill('#filters input[name="term_end_from"]', "2029-01-01")
    await page.locator('#filters input[name="term_end_from"]').dispatch_event("change")
    await expect(page).to_have_url(
        f"/dashboard/contracts?view=all&department_id={shop['id']}&term_end_from=2029-01-01"
    )
    await expect(rows.filter(has_text=name)).to_have_count(1)
    await page.reload()  # the filters come back from the URL
    await expect(page.locator('#filters select[name="department_id"]')).to_have_value(shop["id"])
    await expect(page.locator('#filters input[name="term_end_from"]')).to_have_value("2029-01-01")
    await expect(rows.filter(has_text=name)).to_have_count(1)
    await page.get_by_role("button", name="清除筛选").click()
    await expect(page).to_have_url("/dashboard/contracts?view=all")
