"""The first-run checklist on the employer's home page (认证 → 印章 → 模板 → 邀请 → 发起): it
ticks itself from what the enterprise has really done and leaves once everything is."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.core.clock import FakeClock
from tests.conftest import Api
from tests.test_contracts import launch_body, mark_verified, setup_contract_world
from tests.test_onboarding import FORM
from tests.test_pages_contracts import use_session

pytestmark = pytest.mark.browser

STEPS = ["verify", "seal", "template", "invite", "launch"]


async def test_the_checklist_ticks_itself(
    desktop: Any, api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    # A fresh enterprise has done nothing yet.
    newcomer = await make_api()
    await newcomer.register_enterprise(
        clock, phone="13900139000", name="广州第二有限公司", credit_code="91440101MA59ABCD0A"
    )
    await newcomer.login(clock, "13900139000")
    fresh = await newcomer.get("/api/v1/setup-progress")
    assert [s["key"] for s in fresh["steps"]] == STEPS
    assert fresh["done"] == 0 and fresh["total"] == 5
    assert [s["title"] for s in fresh["steps"]] == [
        "企业实名认证",
        "生成印章",
        "准备合同模板",
        "邀请员工入职",
        "发起签署",
    ]

    # This one has a seal, an enabled template and a worker who came in by the invite link.
    world = await setup_contract_world(api, make_api, client, clock)
    await use_session(desktop, api)
    page = desktop
    await page.goto("/dashboard")
    await expect(page.locator("#checklist-count")).to_have_text("已完成 3/5")
    ticked = page.locator("#checklist li.done")
    assert await ticked.evaluate_all("els => els.map(e => e.dataset.step)") == ["seal", "template", "invite"]
    verify = page.locator('#checklist [data-step="verify"]')
    await expect(verify.get_by_role("link", name="去完成 ›")).to_have_attribute(
        "href", "/dashboard/verification"
    )
    await expect(page.locator('#checklist [data-step="launch"] a')).to_have_attribute(
        "href", "/dashboard/contracts/new"
    )

    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=FORM["phone"])
    await page.reload()
    await expect(page.locator("#checklist-count")).to_have_text("已完成 4/5")
    await expect(page.locator('#checklist [data-step="verify"]')).to_have_class("done")
    await expect(
        page.locator('#checklist [data-step="launch"]').get_by_role("link", name="去完成 ›")
    ).to_be_visible()

    await api.post("/api/v1/contracts", launch_body(world), expect=201)
    assert (await api.get("/api/v1/setup-progress"))["done"] == 5
    await page.reload()
    await expect(page.locator("#checklist")).to_have_attribute("data-state", "done")
    await expect(page.locator("#checklist")).to_be_hidden()
    # Another enterprise's progress is its own.
    assert (await newcomer.get("/api/v1/setup-progress"))["done"] == 0
