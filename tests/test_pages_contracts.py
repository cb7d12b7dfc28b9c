"""The worker signs a contract on a phone-sized page: read, fill, draw, confirm by SMS code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.core.clock import FakeClock, china_text
from laborsign.web import static_url
from tests.conftest import Api, latest_code
from tests.test_contracts import launch_body, mark_verified, setup_contract_world
from tests.test_onboarding import FORM

pytestmark = pytest.mark.browser


async def use_session(page: Any, api: Api) -> None:
    jar = api.client.session.cookie_jar
    url = (
        api.client.server_client.make_url("/")
        if hasattr(api.client, "server_client")
        else api.client.make_url("/")
    )
    cookie = jar.filter_cookies(url)["laborsign_session"].value
    await page.context.add_cookies([{"name": "laborsign_session", "value": cookie, "url": str(url)}])


async def scribble(page: Any) -> None:
    """A handwritten signature drawn on the open signature pad."""
    box = await page.locator("#pad-canvas").bounding_box()
    await page.mouse.move(box["x"] + 40, box["y"] + 150)
    await page.mouse.down()
    for i, (dx, dy) in enumerate([(60, -70), (120, 40), (180, -50), (240, 60), (300, -30)]):
        await page.mouse.move(box["x"] + 40 + dx, box["y"] + 150 + dy, steps=6 + i)
    await page.mouse.up()


async def test_worker_signs_on_the_phone(
    phone: Any, api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=FORM["phone"])
    cid = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    worker: Api = world["worker"]
    await use_session(phone, worker)
    page = phone
    await page.goto("/h5")
    await expect(page.locator("[data-badge]").first).to_have_text("1")
    await page.get_by_role("link", name="待我签").first.click()
    await page.get_by_role("link", name="标准劳动合同").click()
    await expect(page.locator("#notice")).to_be_visible()
    await expect(page.locator(".doc-page")).to_have_count(2)
    await page.get_by_role("button", name="提交签署").click()
    await expect(page.locator("#toast")).to_contain_text("签署须知")
    await page.check("#ack")
    await page.fill('input[name="bank_account"]', "6222020000000000")
    area = page.locator(".area").first
    await area.scroll_into_view_if_needed()
    await area.click()
    canvas = page.locator("#pad-canvas")
    await expect(canvas).to_be_visible()
    box = await canvas.bounding_box()
    await page.get_by_role("button", name="确定").click()
    await expect(page.locator("#toast")).to_contain_text("请先手写签名")
    # A short dash is refused, a real scribble is accepted.
    await page.mouse.move(box["x"] + 50, box["y"] + 100)
    await page.mouse.down()
    await page.mouse.move(box["x"] + 60, box["y"] + 100, steps=2)
    await page.mouse.up()
    await page.get_by_role("button", name="确定").click()
    await expect(page.locator("#toast")).to_contain_text("过于简单")
    await page.get_by_role("button", name="清除").click()
    await scribble(page)
    # Turning the phone keeps the drawing (redrawn at the new size, not lost).
    await page.set_viewport_size({"width": 844, "height": 390})
    await page.wait_for_timeout(400)
    ink = await page.evaluate(
        """() => { const c = document.getElementById('pad-canvas');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"""
    )
    assert ink > 500, "the signature survives a rotation"
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.get_by_role("button", name="确定").click()
    await expect(page.locator(".area img")).to_have_count(1)
    await page.get_by_role("button", name="提交签署").click()
    await expect(page.locator("#intent-code")).to_be_visible()
    await expect(page.locator("#intent-resend")).to_contain_text("秒后重发")  # a resend, once allowed
    code = await latest_code(client, FORM["phone"])
    await page.fill("#intent-code", str((int(code[0]) + 1) % 10) + code[1:])
    await page.get_by_role("button", name="确认签署").click()
    await expect(page.locator('.modal [data-error-for="code"]')).to_have_text(
        "验证码不正确，请核对后重新输入"
    )
    await page.fill("#intent-code", code)
    await expect(page.locator('.modal [data-error-for="code"]')).to_be_empty()
    await page.get_by_role("button", name="确认签署").click()
    await expect(page.locator("#toast")).to_contain_text("签署成功")
    await expect(page.locator("#summary")).to_contain_text("已签署")
    detail = await api.get(f"/api/v1/contracts/{cid}")
    assert detail["parties"][0]["status"] == "signed"
    await page.screenshot(path="/tmp/h5_signed.png", full_page=False)


async def test_hr_initiates_and_batch_signs(
    desktop: Any, api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=FORM["phone"])
    await use_session(desktop, api)
    page = desktop
    await page.goto("/dashboard")
    await page.get_by_role("link", name="发起签署").first.click()
    # The wizard has loaded its templates and shown its first step (showing a step clears errors).
    await expect(page.locator('#wizard[data-ready="1"]')).to_be_attached()
    await page.click("#to-2")  # nothing chosen: the step says so and stays
    await expect(page.locator('[data-error-for="template_ids"]')).to_have_text("请至少选择一个模板")
    await page.check(f'[data-template="{world["template"]["id"]}"]')
    await page.click("#to-2")
    await expect(page.locator('#party-form input[name="name"]')).to_have_value("标准劳动合同")
    await page.click("#to-3")
    await expect(page.locator('[data-error-for="employee_ids"]')).to_have_text("请至少选择一名劳动者")
    await page.check(f'[data-person="{world["employee_id"]}"]')
    await expect(page.locator("#picked-count")).to_have_text("已选 1 人")
    await page.click("#to-3")
    await page.fill('#fields-form input[name="salary"]', "6500")
    # A reload keeps the wizard where it was, with what was chosen and typed.
    await page.reload()
    await expect(page.locator('#wizard[data-ready="1"]')).to_be_attached()
    await expect(page.locator('#fields-form input[name="salary"]')).to_have_value("6500")
    await expect(page.locator("#picked-count")).to_have_text("已选 1 人")
    await page.click("#to-4")
    # The position choice was left empty: the step stops there with the message, the review
    # is never reached with the contract half blank.
    await expect(page.locator('[data-error-for="fields.position"]')).to_contain_text("岗位")
    await expect(page.locator("#fields-form .form-errors")).to_be_visible()
    await expect(page.locator("#review")).to_be_hidden()
    await page.select_option('#fields-form select[name="position"]', "技工")
    await page.click("#to-4")
    await expect(page.locator("#review")).to_contain_text("6500")
    # The browser's Back goes to the step before, still filled; forward again to the review.
    await page.go_back()
    await expect(page.locator('#fields-form select[name="position"]')).to_have_value("技工")
    await page.click("#to-4")
    await expect(page.locator("#review")).not_to_contain_text("合同信息：无")
    await page.get_by_role("button", name="发起签署").click()
    await expect(page.locator("#result")).to_contain_text("成功发起 1 份")

    await page.goto("/dashboard/contracts?view=awaiting_me")
    await expect(page.locator("#n-awaiting_me")).to_have_text("1")
    await page.check("[data-pick]")
    await page.click("#batch-sign")
    await page.get_by_role("button", name="提交签署").click()
    await expect(page.locator("#intent-code")).to_be_visible()
    await page.fill("#intent-code", await latest_code(client, "13800138000"))
    await page.get_by_role("button", name="确认").click()
    await expect(page.locator("#toast")).to_contain_text("已签署 1 份")
    listed = await api.get("/api/v1/contracts?view=awaiting_others")
    assert listed["total"] == 1 and listed["items"][0]["parties"][1]["status"] == "signed"
    await page.goto(f"/dashboard/contracts/{listed['items'][0]['id']}")
    await expect(page.locator("#chain")).to_have_text("哈希链完整")
    await page.screenshot(path="/tmp/dash_contract.png")


async def test_public_verify_page(
    desktop: Any, api: Api, make_api: Any, client: Any, clock: FakeClock, tmp_path: Any
) -> None:
    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=FORM["phone"])
    cid = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    session = await api.post(
        "/api/v1/signing-sessions", {"contract_ids": [cid], "seal_id": world["seal"]["id"]}, expect=201
    )
    await api.post(
        f"/api/v1/signing-sessions/{session['id']}/confirm",
        {"code": await latest_code(client, "13800138000")},
        expect=200,
    )
    signed = tmp_path / "合同.pdf"
    signed.write_bytes(await api.get(f"/api/v1/contracts/{cid}/document.pdf"))
    tampered = bytearray(signed.read_bytes())
    tampered[600] ^= 1
    bad = tmp_path / "改过的.pdf"
    bad.write_bytes(bytes(tampered))
    page = desktop
    await page.goto("/verify")
    await page.set_input_files('input[name="file"]', str(signed))
    await page.get_by_role("button", name="开始验签").click()
    await expect(page.locator("#signatures")).to_contain_text("广州测试科技有限公司")
    await expect(page.locator("#signatures")).to_contain_text("未被改动")
    await expect(page.locator("#report")).to_contain_text("本平台存有该文件")
    # Times read in Beijing time, as on the contract page and the evidence report (the API
    # writes them with the +08:00 offset).
    with signed.open("rb") as fh:
        checked = await api.post("/api/v1/verify", data={"file": fh}, expect=200)
    signed_at = checked["signatures"][0]["signed_at"]
    assert signed_at.endswith("+08:00")
    beijing = china_text(datetime.fromisoformat(signed_at))
    assert beijing == signed_at[:16].replace("T", " ")
    await expect(page.locator("#signatures")).to_contain_text(beijing)
    # The pages' one formatter turns any offset into Beijing time, the server's twin agrees.
    shown = await page.evaluate(
        """async (src) => { const ui = await import(src);
             return [ui.formatTime("2026-12-01T19:56:00+00:00"), ui.formatTime("2026-12-01T19:56:00Z"),
                     ui.formatTime("2026-12-02T03:56:00+08:00"), ui.formatTime("2026-12-02")]; }""",
        static_url("js/ui.js"),
    )
    utc = datetime(2026, 12, 1, 19, 56, tzinfo=UTC)
    assert shown == [china_text(utc)] * 3 + ["2026-12-02"] == ["2026-12-02 03:56"] * 3 + ["2026-12-02"]
    await page.set_input_files('input[name="file"]', str(bad))
    await page.get_by_role("button", name="开始验签").click()
    await expect(page.locator("#signatures")).to_contain_text("已被改动")
    await expect(page.locator("#report")).to_contain_text("本平台未存有该文件")


async def test_pc_page_follows_signing_on_the_phone(
    desktop: Any, api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    from tests.test_contracts import signature_png

    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=FORM["phone"])
    cid = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    worker: Api = world["worker"]
    await use_session(desktop, worker)
    page = desktop
    await page.goto(f"/h5/contracts/{cid}")
    await expect(page.locator("#handoff")).to_be_visible()
    qr = await worker.get(f"/api/v1/me/contracts/{cid}/qr.png")
    assert qr[:8] == b"\x89PNG\r\n\x1a\n"
    # The phone (same account, its own session) signs meanwhile.
    phone_session = await make_api()
    await phone_session.login(clock, FORM["phone"], side="worker")
    started = await phone_session.post(
        f"/api/v1/me/contracts/{cid}/signature",
        {"signature_png": signature_png(), "fields": {"bank_account": "6222020000000000"}},
        expect=201,
    )
    await phone_session.post(
        f"/api/v1/signing-sessions/{started['id']}/confirm",
        {"code": await latest_code(client, FORM["phone"])},
        expect=200,
    )
    await expect(page.locator("#toast")).to_contain_text("已在手机上完成签署", timeout=10_000)
    await expect(page.locator("#summary")).to_contain_text("已签署")
    await expect(page.locator("#handoff")).to_be_hidden()


async def test_hr_drags_the_seal_onto_the_seal_area(
    desktop: Any, api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=FORM["phone"])
    cid = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    await use_session(desktop, api)
    page = desktop
    await page.goto(f"/dashboard/contracts/{cid}")
    await expect(page.locator(".drop")).to_have_count(1)
    await expect(page.locator("#submit-seal")).to_be_disabled()
    zone = page.locator(".drop").first
    await zone.scroll_into_view_if_needed()
    # HTML5 drag and drop, with the browser's own DataTransfer carrying the seal id.
    await page.evaluate(
        """() => {
          const dt = new DataTransfer();
          const seal = document.querySelector('[data-seal]');
          const zone = document.querySelector('.drop');
          seal.dispatchEvent(new DragEvent('dragstart', {dataTransfer: dt, bubbles: true}));
          zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
          zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
        }"""
    )
    await expect(page.locator(".drop img")).to_have_count(1)
    await page.click("#submit-seal")
    await expect(page.locator("#intent-code")).to_be_visible()
    await page.fill("#intent-code", await latest_code(client, "13800138000"))
    await page.get_by_role("button", name="确认").click()
    await expect(page.locator("#toast")).to_contain_text("签署成功")
    detail = await api.get(f"/api/v1/contracts/{cid}")
    assert detail["parties"][1]["status"] == "signed"


async def test_hr_initiates_from_an_uploaded_pdf(
    desktop: Any, api: Api, make_api: Any, client: Any, clock: FakeClock, tmp_path: Any
) -> None:
    from tests.pdfs import make_pdf

    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=FORM["phone"])
    pdf = tmp_path / "已编辑合同.pdf"
    pdf.write_bytes(make_pdf(3))
    await use_session(desktop, api)
    page = desktop
    await page.goto("/dashboard/contracts/new")
    await page.get_by_role("link", name="上传文件直接发起").click()
    await page.set_input_files('input[name="file"]', str(pdf))
    await expect(page.locator("#pages-info")).to_have_text("共 3 页")
    await expect(page.locator('input[name="name"]')).to_have_value("已编辑合同")
    await page.get_by_role("button", name="发起签署").click()
    await expect(page.locator('[data-error-for="employee_ids"]')).to_contain_text("劳动者")
    await page.check(f'[data-person="{world["employee_id"]}"]')
    # The term, in Chinese labels; a wage under Guangzhou's minimum is shown before anything is sent.
    await page.select_option('select[name="term_type"]', label="固定期限")
    for label, value in (("合同开始日期", "2027-01-01"), ("合同终止日期", "2029-12-31"), ("月工资（元）", "2300"),
                         ("岗位", "仓管员"), ("工作地点", "广州市黄埔区")):  # fmt: skip
        await (
            page.locator("#term-fields div", has=page.get_by_text(label, exact=True))
            .locator("input")
            .fill(value)
        )
    await page.get_by_role("button", name="发起签署").click()
    warned = page.locator(f'[data-check="{world["employee_id"]}"] [data-code="wage_below_minimum"]')
    await expect(warned).to_contain_text("2500")
    await expect(page.locator("#toast")).to_contain_text("请确认劳动法提示")
    assert (await api.get("/api/v1/contracts"))["total"] == 0, "nothing sent before HR confirms"
    await page.check("#confirm-warnings")
    await page.get_by_role("button", name="发起签署").click()
    await expect(page.locator("#result")).to_contain_text("成功发起 1 份")
    await expect(page.locator("#result")).to_contain_text("最低工资标准")
    listed = await api.get("/api/v1/contracts?q=已编辑合同")
    detail = await api.get(f"/api/v1/contracts/{listed['items'][0]['id']}")
    assert {c["page"] for c in detail["controls"]} == {3}
    term = detail["term"]
    assert (term["type"], term["start_date"], term["monthly_wage"], term["position"]) == (
        "fixed", "2027-01-01", "2300.00", "仓管员",
    )  # fmt: skip


async def test_hr_drags_the_seal_with_the_mouse_on_a_laptop_screen(
    desktop: Any, api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    """1280×800: the seal area is far down the contract; the seal panel stays in view beside
    it, so a real mouse drag reaches it."""
    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=FORM["phone"])
    cid = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    await use_session(desktop, api)
    page = desktop
    await page.goto(f"/dashboard/contracts/{cid}")
    await expect(page.locator(".drop")).to_have_count(1)
    await page.get_by_role("button", name="签署", exact=True).click()  # scrolls to the seal area
    zone = page.locator(".drop").first
    await expect(zone).to_be_in_viewport()
    seal = page.locator("[data-seal]").first
    await expect(seal).to_be_in_viewport()
    await seal.drag_to(zone)
    await expect(page.locator(".drop img")).to_have_count(1)
    await expect(page.locator("#submit-seal")).to_be_enabled()
