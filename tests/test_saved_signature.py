"""A worker may keep a handwritten signature for the next contract, see it in the personal
centre and delete it; contracts already signed keep theirs."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import expect

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from tests.conftest import Api, latest_code
from tests.test_contracts import launch_body, mark_verified, setup_contract_world, signature_png
from tests.test_onboarding import FORM
from tests.test_pages_contracts import use_session

BANK = {"bank_account": "6222020000000000"}


async def _two_contracts(api: Api, make_api: Any, client: Any, clock: FakeClock) -> tuple[Api, list[str]]:
    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=FORM["phone"])
    ids = [
        (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
        for _ in range(2)
    ]
    return world["worker"], ids


async def _sign(worker: Api, client: Any, clock: FakeClock, cid: str, body: dict[str, Any]) -> None:
    session = await worker.post(f"/api/v1/me/contracts/{cid}/signature", {"fields": BANK, **body}, expect=201)
    code = await latest_code(client, FORM["phone"])
    await worker.post(f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": code}, expect=200)
    clock.advance(seconds=61)


async def test_keep_reuse_and_delete_a_signature(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    worker, (first, second) = await _two_contracts(api, make_api, client, clock)
    none = await worker.get("/api/v1/me/signature.png", expect=404)
    assert none["error"] == "no_saved_signature"
    refused = await worker.post(
        f"/api/v1/me/contracts/{first}/signature", {"use_saved_signature": True, "fields": BANK}, expect=422
    )
    assert "signature_png" in refused["fields"]

    await _sign(worker, client, clock, first, {"signature_png": signature_png(), "save_signature": True})
    kept = await worker.get("/api/v1/me/signature.png")
    image = Image.open(io.BytesIO(kept))
    assert image.format == "PNG" and image.getbbox() is not None
    other = await make_api()
    await other.login(clock, "13900000002", side="worker")
    await other.get("/api/v1/me/signature.png", expect=404)  # one's own only

    await _sign(worker, client, clock, second, {"use_saved_signature": True})
    assert (await api.get(f"/api/v1/contracts/{second}"))["parties"][0]["status"] == "signed"

    await worker.call("DELETE", "/api/v1/me/signature", expect=200)
    await worker.get("/api/v1/me/signature.png", expect=404)
    await worker.call("DELETE", "/api/v1/me/signature", expect=404)
    # Contracts already signed keep their signature.
    pdf = await worker.get(f"/api/v1/contracts/{first}/document.pdf")
    report = await client.app[DEPS].pdf.verify(pdf)
    assert [s.signer for s in report.signatures] == ["王五"] and report.signatures[0].intact


@pytest.mark.browser
async def test_reuse_on_the_phone_and_delete_in_the_personal_centre(
    phone: Any, api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    worker, (first, second) = await _two_contracts(api, make_api, client, clock)
    await _sign(worker, client, clock, first, {"signature_png": signature_png(), "save_signature": True})
    await use_session(phone, worker)
    page = phone
    await page.goto(f"/h5/contracts/{second}")
    await page.check("#ack")
    await page.fill('input[name="bank_account"]', BANK["bank_account"])
    area = page.locator(".area").first
    await area.scroll_into_view_if_needed()
    await area.click()
    await page.get_by_role("button", name="用已保存的签名").click()
    await expect(page.locator(".area img")).to_have_count(1)
    await page.get_by_role("button", name="提交签署").click()
    await expect(page.locator("#intent-code")).to_be_visible()
    await page.fill("#intent-code", await latest_code(client, FORM["phone"]))
    await page.get_by_role("button", name="确认签署").click()
    await expect(page.locator("#toast")).to_contain_text("签署成功")
    assert (await api.get(f"/api/v1/contracts/{second}"))["parties"][0]["status"] == "signed"

    await page.goto("/h5/me")
    await expect(page.get_by_role("img", name="已保存的签名")).to_be_visible()
    await page.get_by_role("button", name="删除保存的签名").click()
    await expect(page.locator("#saved-signature")).to_contain_text("已删除")
    await worker.get("/api/v1/me/signature.png", expect=404)
