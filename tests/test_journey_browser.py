"""The whole product in two real browsers, the way an HR person (PC window) and a worker (phone in
WeChat) use it: register, verify the enterprise, design a template, invite and onboard the
worker, real-name the worker, make a seal, initiate, both sign, and the final PDF verifies."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import pytest
from playwright.async_api import expect

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from tests.conftest import downloaded, latest_code
from tests.pdfs import make_pdf
from tests.test_onboarding import FORM, WORKER
from tests.test_pages_contracts import scribble
from tests.test_verification import ID_B

pytestmark = pytest.mark.browser

HR_PHONE = "13800138000"
HR_NAME = "张管理"
ENTERPRISE = "广州测试科技有限公司"
CREDIT_CODE = "91350100M000100Y43"
A4_WIDTH = 595.28  # points; make_pdf draws A4 pages
CONTACT = cast(dict[str, str], FORM["emergency_contact"])


async def drop_control(page: Any, kind: str, sheet: int, x: float, y: float) -> None:
    """Drags a control from the designer's palette onto page `sheet` (0-based), centred at
    (x, y) in PDF points from the page's top-left corner."""
    target = page.locator(".page").nth(sheet)
    await target.scroll_into_view_if_needed()
    box = await target.bounding_box()
    scale = box["width"] / A4_WIDTH
    await page.locator(f'#palette [data-kind="{kind}"]').drag_to(
        target, target_position={"x": x * scale, "y": y * scale}
    )


async def name_control(page: Any, label: str, key: str, filled_by: str | None = None) -> None:
    """Edits the selected control in the properties panel."""
    await page.fill('#props [data-prop="label"]', label)
    await page.fill('#props [data-prop="key"]', key)
    if filled_by:
        await page.select_option('#props [data-prop="filled_by"]', filled_by)


async def test_hr_and_worker_go_from_registration_to_a_verified_contract(
    desktop: Any, phone: Any, client: Any, clock: FakeClock, tmp_path: Path
) -> None:
    hr, worker = desktop, phone

    # 1. HR registers the enterprise (from the login page's 立即创建 link) and lands on the dashboard.
    await hr.goto("/dashboard")
    await expect(hr).to_have_url("/login?next=%2Fdashboard")
    await hr.get_by_role("link", name="立即创建").click()
    await expect(hr).to_have_url("/register")
    await hr.fill("#name", ENTERPRISE)
    await hr.fill("#credit_code", CREDIT_CODE)
    await hr.select_option("#org_type", "enterprise")
    await hr.fill("#admin_name", HR_NAME)
    await hr.fill("#admin_phone", HR_PHONE)
    await hr.click("#send-code")
    await expect(hr.locator("#send-code")).to_contain_text("秒后重发")
    await hr.fill("#code", await latest_code(client, HR_PHONE))
    await hr.check('input[name="agree_terms"]')
    await hr.get_by_role("button", name="同意协议并注册").click()
    await expect(hr.locator(".modal")).to_contain_text("您是该企业的管理员")
    await hr.get_by_role("button", name="立即登录").click()
    await expect(hr).to_have_url("/dashboard")
    await expect(hr.locator("#greeting")).to_have_text(ENTERPRISE)
    await expect(hr.locator("#verify-banner")).to_contain_text("企业尚未完成实名认证")

    # 2. Personal verification (carrier three factors), then the enterprise by corporate payment.
    await hr.get_by_role("link", name="立即认证").click()
    await expect(hr).to_have_url("/dashboard/verification")
    await expect(hr.locator("#ev-info-list")).to_contain_text(CREDIT_CODE)
    await hr.get_by_role("button", name="确认无误，开始认证").click()
    await expect(hr.locator("#ev-steps .on")).to_have_text("2 办理人实名认证")
    await hr.get_by_role("link", name="去完成个人实名认证").click()
    await hr.check("#consent")
    await hr.click("#agree")
    await expect(hr.locator("#method-label")).to_have_text("手机认证（运营商三要素）")
    await expect(hr.locator("#c-phone")).to_have_value(HR_PHONE)
    await hr.fill("#c-name", HR_NAME)
    await hr.fill("#c-id", ID_B)
    clock.advance(seconds=61)  # people take their time between codes; no resend limit is hit
    await hr.get_by_role("button", name="下一步").click()
    await expect(hr.locator(".modal")).to_contain_text("138****8000")
    await hr.fill("#v-code", await latest_code(client, HR_PHONE))
    await hr.get_by_role("button", name="立即确认").click()
    await expect(hr.locator("#result-title")).to_have_text("实名认证成功")
    await hr.get_by_role("link", name="继续办理").click()
    await expect(hr).to_have_url("/dashboard/verification")
    await expect(hr.locator("#ev-steps .on")).to_have_text("3 组织机构核验")
    await hr.get_by_role("button", name="对公打款认证").click()
    await hr.fill('#ev-form-corporate_payment [name="bank_name"]', "中国工商银行广州分行")
    await hr.fill('#ev-form-corporate_payment [name="bank_account"]', "3602000109000012345")
    await expect(hr.locator('#ev-form-corporate_payment [name="account_name"]')).to_have_value(ENTERPRISE)
    await hr.get_by_role("button", name="申请打款").click()
    await expect(hr.locator("#ev-pending-note")).to_contain_text("剩余可尝试 3 次")
    # What the bank statement would show: the sandbox's payment amount.
    enterprise_id = (await (await hr.request.get("/api/v1/me")).json())["enterprise"]["id"]
    payments = await (await client.get(f"/api/v1/dev/payments?enterprise_id={enterprise_id}")).json()
    await hr.fill("#ev-confirm-input", payments["items"][0]["amount"])
    await hr.get_by_role("button", name="确认", exact=True).click()
    await expect(hr.locator("#ev-done")).to_be_visible()
    await expect(hr.locator("#ev-done-detail")).to_contain_text("对公打款")
    await hr.get_by_role("link", name="返回首页").click()
    await expect(hr.locator("#greeting")).to_have_text(ENTERPRISE)
    await expect(hr.locator("#verify-banner")).to_be_hidden()

    # 3. A PDF template with a worker signature area, a seal area, an initiator and a worker
    #    text field and the sign date, dragged from the palette onto the pages; then enabled.
    pdf = tmp_path / "劳动合同.pdf"
    pdf.write_bytes(make_pdf(2))
    await hr.get_by_role("link", name="模板管理").first.click()
    await hr.click("#new-template")
    await hr.fill('#template-form input[name="name"]', "车间操作工劳动合同")
    await hr.set_input_files('#template-form input[name="files"]', str(pdf))
    await hr.get_by_role("button", name="下一步").click()
    await expect(hr.locator("#title")).to_have_text("车间操作工劳动合同")
    await expect(hr.locator(".page")).to_have_count(2)
    await drop_control(hr, "text", 0, 250, 150)
    await name_control(hr, "岗位名称", "job_title")
    await drop_control(hr, "text", 0, 250, 220)
    await name_control(hr, "工资卡号", "bank_account", filled_by="worker")
    await drop_control(hr, "signature", 1, 380, 700)
    await drop_control(hr, "seal", 1, 160, 690)
    await drop_control(hr, "sign_date", 1, 380, 770)
    await expect(hr.locator(".ctl")).to_have_count(5)
    await expect(hr.locator("#dirty")).to_be_visible()
    await hr.click("#save")
    await expect(hr.locator("#toast")).to_contain_text("控件已保存")
    await hr.click("#enable")
    await expect(hr.locator("#status")).to_contain_text("已开启")
    await hr.get_by_role("link", name="‹ 返回模板列表").click()
    row = hr.locator("#templates tr", has_text="车间操作工劳动合同")
    await expect(row).to_contain_text("1 个文件 / 5 个控件")
    await expect(row).to_contain_text("已开启")

    # 4. HR invites the worker by SMS; the worker opens the link on the phone, logs in, fills
    #    the onboarding form; HR approves it and the worker is on the roster.
    await hr.get_by_role("link", name="扫码入职").first.click()
    form = hr.locator("#invite-form")
    await form.locator('input[name="name"]').fill(FORM["name"])
    await form.locator('input[name="phone"]').fill(WORKER)
    await form.get_by_role("button", name="发送邀请").click()
    await expect(hr.locator("#toast")).to_contain_text("邀请短信已发送")
    sms = await (await client.get(f"/api/v1/dev/sms?phone={WORKER}")).json()
    link = re.search(r"/h5/join/[\w-]+", sms["items"][0]["text"])
    assert link, sms["items"][0]["text"]
    # The SMS carries the configured public URL; the phone opens the same path on the test server.
    await worker.goto(link.group(0))
    await expect(worker.locator("#enterprise-name")).to_have_text(ENTERPRISE)
    await worker.get_by_role("button", name="填写入职资料").click()
    await expect(worker).to_have_url(re.compile(r"/h5/login\?next="))
    await worker.fill("#phone", WORKER)
    await worker.click("#send-code")
    await expect(worker.locator("#send-code")).to_contain_text("秒后重发")
    await worker.fill("#code", await latest_code(client, WORKER))
    await worker.check('input[name="agree_terms"]')
    await worker.get_by_role("button", name="登录并注册").click()
    await expect(worker).to_have_url(link.group(0))
    await worker.get_by_role("button", name="填写入职资料").click()
    join = worker.locator("#join-form")
    await expect(join.locator('input[name="phone"]')).to_have_value(WORKER)
    await join.locator('input[name="name"]').fill(FORM["name"])
    await join.locator('input[name="id_number"]').fill(FORM["id_number"])
    await join.locator('input[name="id_number"]').press("Tab")
    await expect(join.locator('input[name="birth_date"]')).to_have_value(FORM["birth_date"])
    await expect(join.locator('input[name="gender"][value="male"]')).to_be_checked()
    await join.locator('input[name="address"]').fill(FORM["address"])
    await join.locator('input[name="contact_name"]').fill(CONTACT["name"])
    await join.locator('select[name="contact_relation"]').select_option(CONTACT["relation"])
    await join.locator('input[name="contact_phone"]').fill(CONTACT["phone"])
    await join.get_by_role("button", name="提交").click()
    # The answer has come once the panel shows (its text is in the page from the start).
    await expect(worker.locator("#done")).to_be_visible()
    await expect(worker.locator("#done")).to_contain_text("资料审核中")

    await hr.goto("/dashboard")
    await expect(hr.locator('[data-entry="入职管理"] [data-badge]')).to_have_text("1")
    await hr.get_by_role("link", name="入职管理").first.click()
    pending = hr.locator("#rows tr", has_text=FORM["name"])
    await expect(pending).to_contain_text("4401**********123X")
    await pending.get_by_role("button", name="审核").click()
    await expect(hr.locator('#review-form input[name="address"]')).to_have_value(FORM["address"])
    await hr.get_by_role("button", name="通过", exact=True).click()
    await expect(hr.locator("#toast")).to_contain_text("已通过")
    await hr.get_by_role("link", name="员工花名册").first.click()
    await expect(hr.locator("#rows")).to_contain_text(FORM["name"])
    await expect(hr.locator("#rows")).to_contain_text("137****7000")

    # 5. The worker's real-name verification on the phone, with the onboarding name and ID.
    await worker.goto("/h5")
    await expect(worker.locator("#hello")).to_contain_text("尚未实名认证")
    await worker.get_by_role("link", name="实名认证").click()
    await expect(worker).to_have_url("/h5/verify")
    await worker.check("#consent")
    await worker.click("#agree")
    await expect(worker.locator("#method-label")).to_have_text("手机认证（运营商三要素）")
    await expect(worker.locator("#c-phone")).to_have_value(WORKER)
    await worker.fill("#c-name", FORM["name"])
    await worker.fill("#c-id", FORM["id_number"])
    clock.advance(seconds=61)
    await worker.get_by_role("button", name="下一步").click()
    await expect(worker.locator(".modal")).to_contain_text("137****7000")
    await worker.fill("#v-code", await latest_code(client, WORKER))
    await worker.get_by_role("button", name="立即确认").click()
    await expect(worker.locator("#result-title")).to_have_text("实名认证成功")
    await expect(worker.locator("#result-detail")).to_contain_text("4401**********123X")
    await worker.get_by_role("link", name="返回首页").click()
    await expect(worker.locator("#hello")).to_contain_text("已实名认证")

    # 6. HR generates a contract seal and initiates a contract from the template in the wizard.
    await hr.get_by_role("link", name="印章管理").first.click()
    await hr.select_option("#type", "contract")
    await hr.click("#generate")
    await expect(hr.locator("#toast")).to_contain_text("印章已生成")
    await expect(hr.locator("#seals .entry")).to_have_count(1)
    await expect(hr.locator("#seals")).to_contain_text("合同专用章")
    await hr.get_by_role("link", name="发起签署").first.click()
    await hr.locator("#templates label", has_text="车间操作工劳动合同").locator("[data-template]").check()
    await hr.click("#to-2")
    await expect(hr.locator('#party-form input[name="name"]')).to_have_value("车间操作工劳动合同")
    await expect(hr.locator('#party-form input[name="operator_name"]')).to_have_value(HR_NAME)
    person = hr.locator("#people tr", has_text=FORM["name"])
    await person.locator("[data-person]").check()
    await expect(hr.locator("#picked-count")).to_have_text("已选 1 人")
    await hr.click("#to-3")
    await expect(hr.locator("#fields-form")).not_to_contain_text("工资卡号")  # the worker fills it
    await hr.fill('#fields-form input[name="job_title"]', "车间操作工")
    await hr.click("#to-4")
    await expect(hr.locator("#review")).to_contain_text("车间操作工")
    await expect(hr.locator("#review")).to_contain_text(FORM["name"])
    await hr.get_by_role("button", name="发起签署").click()
    await expect(hr.locator("#result")).to_contain_text("成功发起 1 份")

    # 7. The worker signs on the phone: 待我签, read, notice, own field, handwritten signature,
    #    SMS intent code.
    await worker.goto("/h5")
    await expect(worker.locator('[data-entry="待我签"] [data-badge]')).to_have_text("1")
    await worker.get_by_role("link", name="待我签").first.click()
    await worker.get_by_role("link", name="车间操作工劳动合同").click()
    await expect(worker.locator("#notice")).to_be_visible()
    await expect(worker.locator(".doc-page")).to_have_count(2)
    for n in (1, 2):  # reads the contract page by page
        await worker.locator(f'.doc-page[data-page="{n}"] img').scroll_into_view_if_needed()
    await worker.check("#ack")
    await worker.fill('#fields-form input[name="bank_account"]', "6222020000000000")
    area = worker.locator(".area").first
    await area.scroll_into_view_if_needed()
    await area.click()
    await expect(worker.locator("#pad-canvas")).to_be_visible()
    await scribble(worker)
    await worker.get_by_role("button", name="确定").click()
    await expect(worker.locator(".area img")).to_have_count(1)
    clock.advance(seconds=61)
    await worker.get_by_role("button", name="提交签署").click()
    await expect(worker.locator("#intent-code")).to_be_visible()
    await worker.fill("#intent-code", await latest_code(client, WORKER))
    await worker.get_by_role("button", name="确认签署").click()
    await expect(worker.locator("#toast")).to_contain_text("签署成功")
    await expect(worker.locator("#summary")).to_contain_text("已签署")
    await expect(worker.locator("#summary")).to_contain_text("签署中")

    # 8. HR puts the seal on the seal area of the contract detail page, SMS code, done. On a
    #    1280x800 window the seal list (top of the side column) and the seal area (bottom of
    #    page 2) are never on screen together, so HR uses the page's click-the-seal, click-the-
    #    area way instead of a mouse drag.
    await hr.get_by_role("link", name="合同管理").first.click()
    await hr.get_by_role("button", name="待我操作").click()
    contract_row = hr.locator("#rows tr", has_text="车间操作工劳动合同")
    await expect(contract_row).to_contain_text("待我签署")
    await contract_row.get_by_role("link", name="查看").click()
    await expect(hr.locator("#title")).to_have_text("车间操作工劳动合同")
    await expect(hr.locator(".drop")).to_have_count(1)
    await expect(hr.locator("#submit-seal")).to_be_disabled()
    await hr.locator("[data-seal]").first.click()
    zone = hr.locator(".drop").first
    await zone.scroll_into_view_if_needed()
    await zone.click()
    await expect(hr.locator(".drop img")).to_have_count(1)
    clock.advance(seconds=61)
    await hr.click("#submit-seal")
    await expect(hr.locator("#intent-code")).to_be_visible()
    await hr.fill("#intent-code", await latest_code(client, HR_PHONE))
    await hr.get_by_role("button", name="确认签署").click()
    await expect(hr.locator("#toast")).to_contain_text("签署成功")
    await expect(hr.locator("#status")).to_have_text("已完成")
    await expect(hr.locator("#seal-panel")).to_be_hidden()
    await expect(hr.locator("#chain")).to_have_text("哈希链完整")

    # 9. The worker downloads the final PDF; it carries two intact, trusted signatures, the
    #    last one over the whole document.
    await worker.reload()
    await expect(worker.locator("#summary")).to_contain_text("已完成")
    async with worker.expect_download() as download_info:
        await worker.get_by_role("link", name="下载全文（PDF）").click()
    download = await download_info.value
    signed = await downloaded(download, tmp_path)
    report = await client.app[DEPS].pdf.verify(signed)
    assert [s.signer for s in report.signatures] == [FORM["name"], ENTERPRISE]
    assert all(s.intact and s.trusted for s in report.signatures)
    assert report.signatures[-1].covers_whole_document
