"""The launch wizard in a real browser (issue 13): the labor-law checks at the review step, HR's
confirmation, and a withdrawn contract initiated again through the wizard, prefilled."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.core.clock import FakeClock
from tests.conftest import Api
from tests.test_labor_assistant import term_world
from tests.test_pages_contracts import use_session

pytestmark = pytest.mark.browser


async def fill_terms(page: Any, wage: str, probation_wage: str) -> None:
    form = "#fields-form"
    await page.fill(f'{form} input[name="salary"]', wage)
    await page.select_option(f'{form} select[name="position"]', "技工")
    await page.fill(f'{form} input[name="contract_start_date"]', "2027-01-01")
    await page.fill(f'{form} input[name="contract_end_date"]', "2029-12-31")
    await page.fill(f'{form} input[name="probation_end_date"]', "2027-02-28")
    await page.fill(f'{form} input[name="monthly_wage"]', wage)
    await page.fill(f'{form} input[name="probation_wage"]', probation_wage)
    await page.fill(f'{form} input[name="work_place"]', "广州市天河区")


async def test_wizard_shows_the_checks_and_asks_to_confirm(
    desktop: Any, api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await term_world(api, make_api, client, clock)
    await use_session(desktop, api)
    page = desktop
    await page.goto("/dashboard/contracts/new")
    await page.check(f'[data-template="{world["template"]["id"]}"]')
    await page.click("#to-2")
    await page.check(f'[data-person="{world["employee_id"]}"]')
    await page.click("#to-3")
    await fill_terms(page, "2300", "1500")
    await page.click("#to-4")
    checks = page.locator(f'[data-check="{world["employee_id"]}"]')
    await expect(checks.locator('[data-code="wage_below_minimum"]')).to_contain_text("2500")
    await expect(checks.locator('[data-code="probation_wage_too_low"]')).to_contain_text("第二十条")
    await expect(page.locator("#confirm-row")).to_be_visible()

    # Not confirmed: the server refuses and nothing is launched.
    await page.get_by_role("button", name="发起签署").click()
    await expect(page.locator("#toast")).to_contain_text("请确认劳动法提示")
    assert (await api.get("/api/v1/contracts"))["total"] == 0
    await page.check("#confirm-warnings")
    await page.get_by_role("button", name="发起签署").click()
    await expect(page.locator("#result")).to_contain_text("成功发起 1 份")
    cid = (await api.get("/api/v1/contracts"))["items"][0]["id"]

    # Withdrawn, then initiated again: the wizard opens prefilled and the same checks apply.
    await api.post(f"/api/v1/contracts/{cid}/withdraw", {"reason": "工资填写有误"}, expect=200)
    await page.goto(f"/dashboard/contracts/{cid}")
    await page.get_by_role("button", name="重新发起").click()
    await expect(page.locator("#prefill-note")).to_be_visible()
    await expect(page.locator(f'[data-template="{world["template"]["id"]}"]')).to_be_checked()
    await page.click("#to-2")
    await expect(page.locator("#picked-count")).to_have_text("已选 1 人")
    await page.click("#to-3")
    await expect(page.locator('#fields-form input[name="monthly_wage"]')).to_have_value("2300")
    await page.fill('#fields-form input[name="monthly_wage"]', "6000")
    await page.fill('#fields-form input[name="salary"]', "6000")
    await page.fill('#fields-form input[name="probation_wage"]', "4800")
    await page.click("#to-4")
    await expect(page.locator("#checks")).to_have_attribute("data-done", "1")
    await expect(page.locator("#confirm-row")).to_be_hidden()
    await page.get_by_role("button", name="发起签署").click()
    await expect(page.locator("#result")).to_contain_text("成功发起 1 份")
    items = (await api.get("/api/v1/contracts"))["items"]
    assert [c["status"] for c in items] == ["signing", "withdrawn"]
    assert (await api.get(f"/api/v1/contracts/{items[0]['id']}"))["term"]["monthly_wage"] == "6000.00"


async def test_designer_presets_need_no_keys(desktop: Any, api: Api, client: Any, clock: FakeClock) -> None:
    from tests.test_templates import upload

    await api.register_enterprise(clock)
    template = await upload(api, name="劳动合同（预置条款）")
    await use_session(desktop, api)
    page = desktop
    await page.goto(f"/dashboard/templates/{template['id']}")
    await expect(page.locator(".page")).to_have_count(2)
    await page.locator(".page").first.click(position={"x": 5, "y": 5})
    for name in ("乙方姓名", "身份证号", "合同起止日期", "试用期", "月工资", "岗位", "工作地点"):
        await page.click(f'[data-preset="{name}"]')
    await expect(page.locator(".ctl")).to_have_count(8)
    await page.click('[data-preset="月工资"]')
    await expect(page.locator("#toast")).to_contain_text("已在模板中")
    await expect(page.locator(".ctl")).to_have_count(8)
    await page.click("#save")
    await expect(page.locator("#toast")).to_contain_text("控件已保存")
    saved = await api.get(f"/api/v1/templates/{template['id']}")
    assert {c["key"]: c["label"] for c in saved["controls"]} == {
        "worker_name": "乙方姓名", "worker_id_number": "身份证号码", "contract_start_date": "合同开始日期",
        "contract_end_date": "合同终止日期", "probation_end_date": "试用期截止日期", "monthly_wage": "月工资（元）",
        "position": "岗位", "work_place": "工作地点",
    }  # fmt: skip
    assert all(c["filled_by"] == "initiator" for c in saved["controls"])


async def test_alerts_page_and_renewal_through_the_wizard(
    desktop: Any, api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    from datetime import timedelta

    from laborsign.core.clock import china_time
    from tests.test_labor_assistant import body, complete

    world = await term_world(api, make_api, client, clock)
    today = china_time(clock.now()).date()
    end = today + timedelta(days=20)
    launch = body(world, contract_start_date=(today - timedelta(days=345)).isoformat(), contract_end_date=end.isoformat(),
                  probation_end_date="", probation_wage="")  # fmt: skip
    cid = (await api.post("/api/v1/contracts", launch, expect=201))["contracts"][0]["id"]
    await complete(client, cid)
    await use_session(desktop, api)
    page = desktop
    await page.goto("/dashboard")
    await page.get_by_role("link", name="用工提醒").first.click()
    row = page.locator('[data-alert="renewal_due"]')
    await expect(row).to_contain_text("劳动合同即将到期")
    await expect(row).to_contain_text("20 天")
    await row.get_by_role("link", name="续签").click()
    await expect(page.locator("#prefill-note")).to_contain_text("续签")
    await page.click("#to-2")
    await page.click("#to-3")
    start = (end + timedelta(days=1)).isoformat()
    await expect(page.locator('#fields-form input[name="contract_start_date"]')).to_have_value(start)
    await expect(page.locator('#fields-form input[name="probation_end_date"]')).to_have_value("")
    new_end = (end + timedelta(days=3 * 365)).isoformat()
    await page.fill('#fields-form input[name="contract_end_date"]', new_end)
    await page.click("#to-4")
    await expect(page.locator("#checks")).to_have_attribute("data-done", "1")
    await page.get_by_role("button", name="发起签署").click()
    await expect(page.locator("#result")).to_contain_text("成功发起 1 份")
    renewal = (await api.get("/api/v1/contracts?status=signing"))["items"][0]
    term = (await api.get(f"/api/v1/contracts/{renewal['id']}"))["term"]
    assert (term["start_date"], term["end_date"], term["probation_end_date"]) == (start, new_end, None)
    await complete(client, renewal["id"])
    await page.goto("/dashboard/alerts")
    # Renewed and signed: no renewal due; two fixed terms now, so the next one is open-ended.
    await expect(page.locator('[data-alert="open_ended_due"]')).to_contain_text("无固定期限")
    await expect(page.locator('[data-alert="renewal_due"]')).to_have_count(0)
