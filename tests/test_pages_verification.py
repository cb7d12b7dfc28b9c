"""Real-name pages in a real browser: the worker on a phone-sized window (consent, carrier
default with 更换, SMS code; face through the sandbox provider page), and the employer on a
PC window walking the enterprise steps through to the corporate payment."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.core.clock import FakeClock
from tests.conftest import Api, latest_code, loaded_width
from tests.test_verification import CARD_2, ID_A, ID_B

pytestmark = pytest.mark.browser


async def h5_login(page: Any, client: Any, phone: str, start: str = "/h5/verify") -> None:
    await page.goto(start)
    await expect(page).to_have_url(f"/h5/login?next={start.replace('/', '%2F')}")
    await page.fill("#phone", phone)
    await page.click("#send-code")
    await expect(page.locator("#send-code")).to_contain_text("秒后重发")
    await page.fill("#code", await latest_code(client, phone))
    await page.check('input[name="agree_terms"]')
    await page.get_by_role("button", name="登录并注册").click()
    await expect(page).to_have_url(start)


async def test_worker_verifies_by_carrier_on_the_phone(phone: Any, client: Any, clock: FakeClock) -> None:
    page = phone
    await page.goto("/h5/login")
    await h5_login(page, client, "13700137000", "/h5")
    await page.get_by_role("link", name="实名认证").click()
    await expect(page).to_have_url("/h5/verify")
    await expect(page.locator("#consent-text")).to_contain_text("实名认证服务协议")
    await page.click("#agree")
    await expect(page.locator("#consent-error")).to_contain_text("请阅读并勾选")
    await page.check("#consent")
    await page.click("#agree")
    await expect(page.locator("#method-label")).to_have_text("手机认证（运营商三要素）")  # the default
    await expect(page.locator("#c-phone")).to_have_value("13700137000")
    await page.fill("#c-name", "王小明")
    await page.fill("#c-id", "440106199003071232")
    await page.get_by_role("button", name="下一步").click()
    await expect(page.locator('#form-carrier3 [data-error-for="id_number"]')).to_contain_text("校验位")
    await page.fill("#c-id", ID_A)
    await page.fill("#c-phone", "17012345678")
    await page.get_by_role("button", name="下一步").click()
    await expect(page.locator('#form-carrier3 [data-error-for="phone"]')).to_contain_text("虚拟运营商")
    await page.fill("#c-phone", "13700137000")
    clock.advance(seconds=61)
    await page.get_by_role("button", name="下一步").click()
    await expect(page.locator(".modal")).to_contain_text("137****7000")
    # A reload (or a webview that drops the page) finds the code dialog again: the code
    # already sent is still the one to enter, and nothing is asked of the provider twice.
    await page.reload()
    await expect(page.locator(".modal")).to_contain_text("137****7000")
    await expect(page.locator("#v-resend")).to_contain_text("秒后重发")
    await page.fill("#v-code", await latest_code(client, "13700137000"))
    await page.get_by_role("button", name="立即确认").click()
    await expect(page.locator("#result-title")).to_have_text("实名认证成功")
    await expect(page.locator("#result-detail")).to_contain_text("4401**********1231")
    await page.screenshot(path="/tmp/h5_verify_done.png")
    await page.goto("/h5/verify")
    await expect(page.locator("#result-title")).to_have_text("您已完成实名认证")


async def test_worker_switches_to_face_and_passes_on_the_sandbox_page(
    phone: Any, client: Any, clock: FakeClock
) -> None:
    page = phone
    await h5_login(page, client, "13600136000")
    await page.check("#consent")
    await page.click("#agree")
    await page.click("#change-method")
    await page.get_by_role("button", name="人脸识别认证").click()
    await expect(page.locator("#method-label")).to_have_text("人脸识别认证")
    await page.fill("#f-name", "陈大文")
    await page.fill("#f-id", ID_B)
    await page.get_by_role("button", name="开始人脸识别").click()
    await expect(page.locator("#sandbox-pass")).to_be_visible()  # the provider's page
    await expect(page.locator(".banner")).to_contain_text("沙箱认证服务")
    await page.screenshot(path="/tmp/h5_face_sandbox.png")
    await page.click("#sandbox-pass")
    await expect(page.locator("#result-title")).to_have_text("实名认证成功")
    await expect(page).to_have_url(__import__("re").compile(r"/h5/verify\?vid="))


async def test_employer_walks_the_enterprise_steps(
    desktop: Any, api: Api, client: Any, clock: FakeClock
) -> None:
    reg = await api.register_enterprise(clock)
    page = desktop
    await page.goto("/login")
    await page.fill("#phone", "13800138000")
    await page.click("#send-code")
    await expect(page.locator("#send-code")).to_contain_text("秒后重发")
    await page.fill("#code", await latest_code(client, "13800138000"))
    await page.check("#agree")
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page).to_have_url("/dashboard")
    await page.get_by_role("link", name="立即认证").click()
    await expect(page).to_have_url("/dashboard/verification")
    await expect(page.locator("#ev-info-list")).to_contain_text("91350100M000100Y43")
    await page.get_by_role("button", name="确认无误，开始认证").click()
    await page.get_by_role("link", name="去完成个人实名认证").click()
    # The operator's personal verification, by bank card on the PC.
    await page.check("#consent")
    await page.click("#agree")
    await page.click("#change-method")
    await page.get_by_role("button", name="银行卡认证（银行卡四要素）").click()
    await page.select_option("#b-type", "resident_id")
    await page.fill("#b-name", "张管理")
    await page.fill("#b-id", ID_B)
    await page.fill("#b-card", CARD_2)
    await page.fill("#b-phone", "13800138000")
    await page.get_by_role("button", name="提交认证").click()
    await expect(page.locator("#result-title")).to_have_text("实名认证成功")
    await page.get_by_role("link", name="继续办理").click()
    await expect(page).to_have_url("/dashboard/verification")
    await expect(page.locator("#ev-steps .on")).to_have_text("3 组织机构核验")
    await page.get_by_role("button", name="对公打款认证").click()
    await page.fill('#ev-form-corporate_payment [name="bank_name"]', "中国工商银行广州分行")
    await page.fill('#ev-form-corporate_payment [name="bank_account"]', "3602000109000012345")
    await expect(page.locator('#ev-form-corporate_payment [name="account_name"]')).to_have_value(
        "广州测试科技有限公司"
    )
    await page.get_by_role("button", name="申请打款").click()
    await expect(page.locator("#ev-pending-note")).to_contain_text("剩余可尝试 3 次")
    resp = await client.get(f"/api/v1/dev/payments?enterprise_id={reg['enterprise']['id']}")
    amount = (await resp.json())["items"][0]["amount"]
    await page.fill("#ev-confirm-input", "0.01" if amount != "0.01" else "0.02")
    await page.get_by_role("button", name="确认", exact=True).click()
    await expect(page.locator('#ev-confirm-form [data-error-for="amount"]')).to_contain_text("还可尝试2次")
    await page.fill("#ev-confirm-input", amount)
    await page.get_by_role("button", name="确认", exact=True).click()
    await expect(page.locator("#ev-done")).to_be_visible()
    await expect(page.locator("#ev-steps .on")).to_have_count(0)
    await page.screenshot(path="/tmp/dashboard_verification_done.png")
    await page.goto("/dashboard")
    await expect(page.locator("#greeting")).to_have_text("广州测试科技有限公司")
    await expect(page.locator("#verify-banner")).to_be_hidden()
    me = await (await client.get("/api/v1/me")).json()
    assert me["enterprise"]["verification_status"] == "verified"


async def desktop_login(page: Any, client: Any, phone: str, path: str = "/login") -> None:
    await page.fill("#phone", phone)
    await page.click("#send-code")
    await expect(page.locator("#send-code")).to_contain_text("秒后重发")
    await page.fill("#code", await latest_code(client, phone))
    await page.check('input[name="agree_terms"]')
    await page.get_by_role("button", name="登录", exact=True).click()


async def test_enterprise_alipay_through_the_sandbox_page(
    desktop: Any, api: Api, client: Any, clock: FakeClock
) -> None:
    from tests.test_verification import verify_by_carrier

    await api.register_enterprise(clock)
    await verify_by_carrier(api, clock, "13800138000", name="张管理")
    page = desktop
    await page.goto("/dashboard/verification")
    await desktop_login(page, client, "13800138000")
    await expect(page).to_have_url("/dashboard/verification")
    await page.get_by_role("button", name="确认无误，开始认证").click()
    await page.get_by_role("button", name="企业支付宝认证").click()
    await page.get_by_role("button", name="前往企业支付宝认证").click()
    await expect(page.locator(".banner")).to_contain_text("企业支付宝")
    await page.click("#sandbox-pass")
    await expect(page).to_have_url("/dashboard/verification")
    await expect(page.locator("#ev-done")).to_be_visible()
    await expect(page.locator("#ev-done-detail")).to_contain_text("企业支付宝认证")


async def test_reviewer_rejects_then_approves_a_letter_in_the_console(
    desktop: Any, api: Api, client: Any, clock: FakeClock
) -> None:
    from laborsign.api.http import DEPS
    from laborsign.core.services.accounts import create_platform_staff
    from tests.test_verification import upload_letter, verify_by_carrier

    await api.register_enterprise(clock)
    await verify_by_carrier(api, clock, "13800138000", name="张管理")
    await upload_letter(api)
    await create_platform_staff(client.app[DEPS], "13300133000", "审核员甲", "reviewer")
    page = desktop
    page.on("dialog", lambda d: d.accept())
    await page.goto("/console/verifications")
    await expect(page).to_have_url("/console/login?next=%2Fconsole%2Fverifications")
    await desktop_login(page, client, "13300133000")
    await expect(page).to_have_url("/console/verifications")
    row = page.locator("#rv-rows tr").first
    await expect(row).to_contain_text("广州测试科技有限公司")
    await expect(row).to_contain_text("张管理 138****8000")
    await row.get_by_role("button", name="驳回").click()
    await page.locator(".modal").get_by_role("button", name="驳回").click()
    await expect(page.locator('.modal [data-error-for="reason"]')).to_contain_text("请填写驳回原因")
    await page.fill('.modal textarea[name="reason"]', "未加盖企业公章")
    await page.locator(".modal").get_by_role("button", name="驳回").click()
    await expect(page.locator("#rv-empty")).to_be_visible()
    await page.get_by_role("button", name="已驳回").click()
    await expect(page.locator("#rv-rows")).to_contain_text("未加盖企业公章")

    clock.advance(minutes=1)
    await upload_letter(api)
    await page.get_by_role("button", name="待审核").click()
    await page.locator("#rv-rows tr").first.get_by_role("button", name="通过").click()
    await expect(page.locator("#rv-empty")).to_be_visible()
    assert (await api.get("/api/v1/me"))["enterprise"]["verification_status"] == "verified"
    await page.screenshot(path="/tmp/console_verifications.png")


async def test_worker_on_the_pc_scans_a_qr_code_for_face(
    desktop: Any, api: Api, client: Any, clock: FakeClock
) -> None:
    """On the PC the face step shows a QR code; the phone finishes with the provider (here the
    sandbox's signed callback) and the PC page shows the result by itself."""
    from laborsign.api.http import DEPS

    page = desktop
    await h5_login(page, client, "13600136000", "/worker/verify")
    await page.check("#consent")
    await page.click("#agree")
    await page.click("#change-method")
    await page.get_by_role("button", name="人脸识别认证").click()
    await page.fill("#f-name", "陈大文")
    await page.fill("#f-id", ID_B)
    await page.get_by_role("button", name="开始人脸识别").click()
    await expect(page.locator("#v-face")).to_be_visible()
    assert await loaded_width(page.locator("#face-qr")) > 100  # a real PNG
    href = await page.locator("#face-open").get_attribute("href")
    assert href and href.startswith("/sandbox/identity/face/")
    body, headers = client.app[DEPS].identity.sandbox.signed_callback(href.split("/")[-1].split("?")[0], True)
    resp = await client.post("/webhooks/identity/sandbox", data=body, headers=headers)
    assert resp.status == 200
    await expect(page.locator("#result-title")).to_have_text("实名认证成功")
