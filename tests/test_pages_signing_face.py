"""Signing with a face check in a real browser: the worker on the phone goes to the provider and
comes back; HR on a PC hands the face check to a phone by QR code and the PC page follows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.core.clock import FakeClock
from tests.conftest import Api, loaded_width
from tests.test_contracts import launch_body, setup_contract_world, verify_for_real
from tests.test_pages_contracts import scribble, use_session

pytestmark = pytest.mark.browser


async def _world(api: Api, make_api: Any, client: Any, clock: FakeClock) -> tuple[dict[str, Any], str]:
    world = await setup_contract_world(api, make_api, client, clock)
    await verify_for_real(api, world["worker"], clock, world["enterprise"]["id"])
    cid = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    return world, cid


async def test_worker_signs_with_a_face_check_on_the_phone(
    phone: Any, api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world, cid = await _world(api, make_api, client, clock)
    await use_session(phone, world["worker"])
    page = phone
    await page.goto(f"/h5/contracts/{cid}")
    await expect(page.locator("#notice")).to_be_visible()
    await page.check("#ack")
    await page.fill('input[name="bank_account"]', "6222020000000000")
    area = page.locator(".area").first
    await area.scroll_into_view_if_needed()
    await area.click()
    await expect(page.locator("#pad-canvas")).to_be_visible()
    await scribble(page)
    await page.get_by_role("button", name="确定").click()
    await expect(page.locator(".area img")).to_have_count(1)
    await page.get_by_label("人脸识别").check()
    await page.get_by_role("button", name="提交签署").click()
    # At the provider (the sandbox plays it), then back on our page.
    await expect(page).to_have_url(re.compile(r"/sandbox/identity/face/"))
    await page.get_by_role("button", name="通过").click()
    await expect(page).to_have_url(re.compile(r"/h5/intent/[0-9a-f]{32}$"))
    await expect(page.locator("#intent-state")).to_contain_text("签署完成", timeout=15_000)
    await page.get_by_role("link", name="返回合同").click()
    await expect(page.locator("#summary")).to_contain_text("已签署")
    detail = await api.get(f"/api/v1/contracts/{cid}")
    assert detail["parties"][0]["status"] == "signed"
    events = (await api.get(f"/api/v1/contracts/{cid}/events"))["items"]
    assert [e["method"] for e in events if e["kind"] == "intent_verified"] == ["face"]


async def test_hr_hands_the_face_check_to_a_phone(
    desktop: Any, phone: Any, api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    _, cid = await _world(api, make_api, client, clock)
    await use_session(desktop, api)
    page = desktop
    await page.goto(f"/dashboard/contracts/{cid}")
    await expect(page.locator("[data-seal]")).to_have_count(1)
    await page.click("[data-seal]")  # tap a seal, then tap the seal area
    await page.locator(".drop").first.click()
    await expect(page.locator(".drop img")).to_have_count(1)
    await page.get_by_label("人脸识别").check()
    await page.click("#submit-seal")
    qr = page.locator("#face-qr")
    await expect(qr).to_be_visible()
    assert await loaded_width(qr) > 100  # the QR image itself loaded, not only its frame
    href = await page.get_by_role("link", name="在本机打开").get_attribute("href")
    # The operator scans it with the phone and passes the face check there.
    await phone.goto(href)
    await phone.get_by_role("button", name="通过").click()
    await expect(phone.locator("#intent-state")).to_contain_text("签署完成", timeout=15_000)
    await expect(phone.locator("#intent-state")).to_contain_text("回到电脑")
    await expect(page.locator("#toast")).to_contain_text("签署成功", timeout=15_000)
    await expect(page.locator("#events")).to_contain_text("人脸识别")
    detail = await api.get(f"/api/v1/contracts/{cid}")
    assert detail["parties"][1]["status"] == "signed"
