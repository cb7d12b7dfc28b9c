"""The signing order in a real browser: the contract list and detail page say who signs
first, and HR is offered no 签署 button before the worker has signed."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.core.clock import FakeClock
from tests.conftest import Api
from tests.test_exports import contract_world, launch, worker_signs
from tests.test_pages_contracts import use_session

pytestmark = pytest.mark.browser


async def test_hr_sees_the_order_and_waits_for_the_worker(
    desktop: Any, api: Api, make_api: Any, clock: FakeClock
) -> None:
    world = await contract_world(api, make_api, clock)
    cid = await launch(api, world, signing_order="worker_first")
    await use_session(desktop, api)
    page = desktop
    await page.goto("/dashboard/contracts")
    await expect(page.locator("#rows")).to_contain_text("劳动者先签")
    await expect(page.locator("#rows")).not_to_contain_text("待我签署")
    await page.goto(f"/dashboard/contracts/{cid}")
    await expect(page.locator("#signing-order")).to_have_text("劳动者先签")
    await expect(page.locator("#info")).to_contain_text("待劳动者先签署")
    await expect(page.locator("#actions")).to_contain_text("撤回")
    await expect(page.locator("#sign")).to_have_count(0)

    await worker_signs(world["worker"], cid)
    await page.reload()
    await expect(page.locator("#sign")).to_be_visible()
    await expect(page.locator("#info")).not_to_contain_text("待劳动者先签署")

    await page.goto("/dashboard/contracts/new")
    options = await page.locator("#signing-order option").all_inner_texts()
    assert options == ["不限顺序（双方均可先签）", "劳动者先签，企业后签", "企业先签，劳动者后签"]
