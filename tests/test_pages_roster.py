"""Onboarding and roster pages in a real browser, the ways HR and a worker would use them:
HR on a PC-sized window invites by SMS and by spreadsheet (bad and hostile files shown as
row errors or a clear message), keeps the department tree and takes an employee through
resignation; the worker on a phone fills the form with mistakes, is refused a second
submission, and reads their records."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from playwright.async_api import expect

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from tests.conftest import Api, latest_code, loaded_width
from tests.test_contracts import give_identity
from tests.test_onboarding import FORM, WORKER, onboard
from tests.test_pages_contracts import use_session

pytestmark = pytest.mark.browser
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATA = Path(__file__).with_name("data")


def sheet(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["姓名", "手机号", "部门"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def answer_prompts(page: Any, *answers: str) -> None:
    """Answer the next prompt()/confirm() dialogs in order."""
    queue = list(answers)

    async def on_dialog(dialog: Any) -> None:
        await dialog.accept(queue.pop(0) if queue else "")

    page.on("dialog", on_dialog)


async def test_hr_invites_by_sms_and_spreadsheet(
    desktop: Any, api: Api, client: Any, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    await api.post("/api/v1/departments", {"name": "生产部"}, expect=201)
    await use_session(desktop, api)
    page = desktop
    await page.goto("/dashboard")
    await page.get_by_role("link", name="扫码入职").first.click()
    await expect(page).to_have_url("/dashboard/onboarding/invite")
    url = (await api.get("/api/v1/invite-link"))["url"]
    assert "/h5/join/" in url
    await expect(page.locator("#link")).to_have_value(url)
    assert await loaded_width(page.locator("#qr")) > 100, "the QR code image loaded"

    form = page.locator("#invite-form")
    await form.locator('input[name="phone"]').fill("1350013")
    await form.get_by_role("button", name="发送邀请").click()
    await expect(form.locator('[data-error-for="phone"]')).to_contain_text("手机号格式不正确")
    await expect(form.locator(".form-errors")).to_contain_text("请输入姓名")
    await form.locator('input[name="name"]').fill("赵六")
    await form.locator('input[name="phone"]').fill("13500135000")
    await form.locator("select").select_option(label="生产部")
    await form.get_by_role("button", name="发送邀请").click()
    await expect(page.locator("#toast")).to_contain_text("邀请短信已发送")
    await expect(form.locator(".field-error:not(:empty)")).to_have_count(0)  # nothing stale
    await expect(form.locator(".form-errors")).to_have_count(0)
    # The message toast sits below the header, not over it.
    toast, header = await page.locator("#toast").bounding_box(), await page.locator(".topbar").bounding_box()
    assert toast["y"] >= header["y"] + header["height"]
    inbox = await api.get("/api/v1/dev/sms?phone=13500135000")
    assert "/h5/join/" in inbox["items"][0]["text"]

    bulk = page.locator("#bulk")
    result = page.locator("#bulk-result")
    bad = sheet([["张三", "13800138001", "生产部"], ["", "13800138002", ""], ["李四", "13800138001", "财务部"],
                 ["赵六", "13500135000", ""]])  # fmt: skip
    await bulk.set_input_files(files=[{"name": "邀请.xlsx", "mimeType": XLSX, "buffer": bad}])
    table = page.locator("#row-errors")
    await expect(table).to_be_visible()
    await expect(result).to_contain_text("本次未发送任何邀请")
    await expect(table.locator("tbody tr")).to_have_count(4)
    await expect(table).to_contain_text("第3行")
    await expect(table).to_contain_text("姓名不能为空")
    await expect(table).to_contain_text("与第2行手机号重复")
    await expect(table).to_contain_text("部门“财务部”不存在")
    await expect(table).to_contain_text("该手机号已在花名册中或已邀请")

    for name, data, text in [
        ("名单.xlsx", (DATA / "password_protected.xlsx").read_bytes(), "密码"),
        ("名单.csv", "姓名,手机号\n张三,13800138001\n".encode(), ".xlsx"),
        ("公式.xlsx", sheet([["=A1", "13800138001", ""]]), "公式"),
    ]:
        await bulk.set_input_files(files=[{"name": name, "mimeType": XLSX, "buffer": data}])
        await expect(result).to_contain_text(text)
    assert (await api.get("/api/v1/dev/sms?phone=13800138001"))["items"] == []

    good = sheet([["张三", "13800138001", "生产部"], ["李四", 13800138002, ""]])
    await bulk.set_input_files(files=[{"name": "邀请.xlsx", "mimeType": XLSX, "buffer": good}])
    await expect(result).to_contain_text("已发送 2 条邀请短信")
    assert "张三" in (await api.get("/api/v1/dev/sms?phone=13800138001"))["items"][0]["text"]
    await page.screenshot(path="/tmp/roster_invite.png", full_page=True)


async def test_hr_keeps_departments_and_resigns_an_employee(
    desktop: Any, api: Api, make_api: Any, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    await use_session(desktop, api)
    page = desktop
    await page.goto("/dashboard/employees")
    tree = page.locator("#tree")
    await expect(tree).to_contain_text("全部员工")
    answer_prompts(page, "制造中心", "一车间", "冲压车间", "", "")
    await page.click("#add-dept")
    await expect(tree).to_contain_text("制造中心")
    departments = (await api.get("/api/v1/departments"))["items"]
    root = departments[0]["id"]
    row = tree.locator(f'[data-dept="{root}"]')
    await row.hover()
    await row.locator(f'[data-sub="{root}"]').click()
    await expect(tree).to_contain_text("一车间")
    child = next(d for d in (await api.get("/api/v1/departments"))["items"] if d["name"] == "一车间")
    assert child["parent_id"] == root
    child_row = tree.locator(f'[data-dept="{child["id"]}"]')
    await child_row.hover()
    await child_row.locator(f'[data-rename="{child["id"]}"]').click()
    await expect(tree).to_contain_text("冲压车间")
    # Move: the root cannot go under its own child; the child moves to the top and back.
    await row.hover()
    await row.locator(f'[data-move="{root}"]').click()
    options = await page.locator('#move-form select[name="parent_id"] option').all_inner_texts()
    assert options == ["无（顶级部门）"], options
    await page.get_by_role("button", name="取消").click()
    await child_row.hover()
    await child_row.locator(f'[data-move="{child["id"]}"]').click()
    await page.select_option('#move-form select[name="parent_id"]', "")
    await page.get_by_role("button", name="确定").click()
    await expect(page.locator("#toast")).to_contain_text("部门已移动")
    assert (
        next(d for d in (await api.get("/api/v1/departments"))["items"] if d["id"] == child["id"])[
            "parent_id"
        ]
        is None
    )
    await child_row.hover()
    await child_row.locator(f'[data-move="{child["id"]}"]').click()
    await page.select_option('#move-form select[name="parent_id"]', label="制造中心")
    await page.get_by_role("button", name="确定").click()
    await expect(page.locator(".modal")).to_have_count(0)
    assert (
        next(d for d in (await api.get("/api/v1/departments"))["items"] if d["id"] == child["id"])[
            "parent_id"
        ]
        == root
    )
    await row.hover()
    await row.locator(f'[data-del="{root}"]').click()  # confirm() answered yes: refused, not empty
    await expect(page.locator("#toast")).to_contain_text("不能删除")
    await expect(tree).to_contain_text("制造中心")

    worker = await make_api()
    record = await onboard(api, worker, clock)
    await api.post(f"/api/v1/onboarding/{record['id']}/approve", {"department_id": child["id"]}, expect=200)
    await page.reload()
    rows = page.locator("#rows")
    await expect(rows).to_contain_text("王五")
    await tree.locator(
        f'[data-dept="{root}"] span'
    ).first.click()  # a parent shows its sub-departments' people
    await expect(rows).to_contain_text("冲压车间")
    await page.fill("#q", "不存在的人")
    await expect(rows).to_contain_text("暂无员工")
    await page.fill("#q", "7000")
    await expect(rows).to_contain_text("王五")

    await rows.get_by_role("button", name="详情").click()
    modal = page.locator(".modal")
    await expect(modal).to_contain_text("4401**********123X")
    await modal.locator('select[name="department_id"]').select_option(label="制造中心")
    await modal.locator('input[name="position"]').fill("操作工")
    await modal.get_by_role("button", name="保存").click()
    await expect(page.locator("#toast")).to_contain_text("已保存")
    await expect(rows).to_contain_text("制造中心")

    await rows.get_by_role("button", name="详情").click()
    await page.get_by_role("button", name="办理离职").click()
    await page.get_by_role("button", name="确定").click()
    await expect(page.locator('[data-error-for="reason"]')).to_contain_text("离职原因")
    await page.fill('input[name="reason"]', "个人原因")
    await page.fill('input[name="remark"]', "月底离开")
    await page.get_by_role("button", name="确定").click()
    await expect(page.locator("#toast")).to_contain_text("办理离职成功")
    await page.select_option("#status", "resigning")
    await expect(rows).to_contain_text("待确认离职")
    await rows.get_by_role("button", name="详情").click()
    await expect(page.locator(".modal")).to_contain_text("个人原因")
    await page.get_by_role("button", name="确认离职").click()
    await page.get_by_role("button", name="确定").click()
    await expect(page.locator('[data-error-for="handover_to"]')).to_contain_text("离职交接人")
    await page.fill('input[name="handover_to"]', "李四")
    await page.select_option('select[name="reason_type"]', "employee_resigned")
    await page.get_by_role("button", name="确定").click()
    await expect(page.locator("#toast")).to_contain_text("确认离职成功")
    await expect(page.locator("#toast")).to_contain_text("解除（终止）劳动合同证明")
    await page.select_option("#status", "resigned")
    await expect(rows).to_contain_text("已离职")
    await page.screenshot(path="/tmp/roster_employees.png", full_page=True)

    # Emptied of people (the resigned one does not count) the sub-department can go.
    child_row = tree.locator(f'[data-dept="{child["id"]}"]')
    await child_row.hover()
    await child_row.locator(f'[data-del="{child["id"]}"]').click()
    await expect(tree).not_to_contain_text("冲压车间")


async def test_worker_form_mistakes_second_submission_and_records(
    phone: Any, api: Api, client: Any, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    link = await api.get("/api/v1/invite-link")
    page = phone
    await page.goto("/h5/login")
    await page.fill("#phone", WORKER)
    await page.click("#send-code")
    await expect(page.locator("#send-code")).to_contain_text("秒后重发")
    await page.fill("#code", await latest_code(client, WORKER))
    await page.check('input[name="agree_terms"]')
    await page.get_by_role("button", name="登录并注册").click()
    await expect(page).to_have_url("/h5")
    await expect(page.locator('[data-entry="入职资料"]')).to_be_visible()

    # The worker has verified their identity: the form starts with their name and ID number
    # (and the birth date and gender the number gives).
    deps = client.app[DEPS]
    async with deps.uow() as uow:
        user = await uow.accounts.user_by_phone(WORKER)
        await give_identity(deps, uow, user, "王五", FORM["id_number"])
        await uow.commit()
    await page.goto(f"/h5/join/{link['token']}")
    await expect(page.locator("#enterprise-name")).to_have_text("广州测试科技有限公司")
    await page.get_by_role("button", name="填写入职资料").click()
    form = page.locator("#join-form")
    await expect(form.locator('input[name="id_number"]')).to_have_value(FORM["id_number"])
    await expect(form.locator('input[name="name"]')).to_have_value("王五")
    await expect(form.locator('input[name="birth_date"]')).to_have_value("1990-03-07")
    await form.locator('input[name="birth_date"]').fill("")
    await form.locator('input[name="name"]').fill("王")
    await form.locator('input[name="id_number"]').fill("440101199003071230")  # wrong check digit
    await form.locator('input[name="birth_date"]').fill("1991-01-01")
    await form.locator('input[name="address"]').fill("广州")
    await form.locator('input[name="contact_name"]').fill("王大")
    await form.locator('select[name="contact_relation"]').select_option("父母")
    await form.locator('input[name="contact_phone"]').fill(WORKER)
    await form.get_by_role("button", name="提交").click()
    await expect(form.locator('[data-error-for="name"]')).to_contain_text("姓名应为2-30个汉字")
    await expect(form.locator('[data-error-for="id_number"]')).to_contain_text("校验位")
    await expect(form.locator('[data-error-for="address"]')).to_contain_text("至少5个字")
    await expect(form.locator('[data-error-for="emergency_contact.phone"]')).to_contain_text("不能与本人相同")

    await form.locator('input[name="name"]').fill("王五")
    await form.locator('input[name="id_number"]').fill(FORM["id_number"])
    await form.locator('input[name="address"]').fill(FORM["address"])
    await form.locator('input[name="gender"][value="female"]').check()  # after the ID prefilled 男
    await form.locator('input[name="contact_phone"]').fill("13600136000")
    await form.get_by_role("button", name="提交").click()
    await expect(form.locator('[data-error-for="birth_date"]')).to_contain_text("出生日期与身份证号码不一致")
    await expect(form.locator('[data-error-for="gender"]')).to_contain_text("性别与身份证号码不一致")
    await expect(form.locator('[data-error-for="name"]')).to_be_empty()
    await form.locator('input[name="birth_date"]').fill("1990-03-07")
    await form.locator('input[name="gender"][value="male"]').check()
    await form.get_by_role("button", name="提交").click()
    await expect(page.locator("#done")).to_be_visible()
    await expect(page.locator("#done")).to_contain_text("资料审核中")
    await expect(form).to_be_hidden()
    await page.screenshot(path="/tmp/roster_join_done.png", full_page=True)

    # Opening the link again shows what was submitted, not a blank form to fill a second time.
    await page.goto(f"/h5/join/{link['token']}")
    done = page.locator("#done")
    await expect(done).to_be_visible()
    await expect(page.locator("#done-title")).to_have_text("资料审核中")
    for shown in ("王五", "4401**********123X", FORM["address"], "王大（父母） 13600136000", WORKER):
        await expect(page.locator("#done-summary")).to_contain_text(shown)
    await expect(form).to_be_hidden()

    await page.goto("/h5")
    await page.locator('[data-entry="入职资料"]').click()
    await expect(page).to_have_url("/h5/onboarding")
    items = page.locator("#list [data-id]")
    await expect(items).to_have_count(1)
    await expect(items).to_contain_text("资料审核中")
    record = (await api.get("/api/v1/onboarding"))["items"][0]
    await api.post(f"/api/v1/onboarding/{record['id']}/reject", {"reason": "住址需写到门牌号"}, expect=200)
    await page.reload()
    await expect(items).to_contain_text("已拒绝")
    await items.first.click()
    modal = page.locator(".modal")
    await expect(modal).to_contain_text("住址需写到门牌号")
    await expect(modal).to_contain_text(FORM["id_number"])  # the owner sees the full number
    await page.screenshot(path="/tmp/roster_records.png", full_page=True)
    # After the rejection the link brings the form back filled with what was sent, and why.
    await page.goto(f"/h5/join/{link['token']}?fill=1")
    await expect(page.locator("#rejected")).to_contain_text("住址需写到门牌号")
    await expect(form.locator('input[name="name"]')).to_have_value("王五")
    await expect(form.locator('input[name="id_number"]')).to_have_value(FORM["id_number"])
    await expect(form.locator('input[name="address"]')).to_have_value(FORM["address"])
    await expect(form.locator('select[name="contact_relation"]')).to_have_value("父母")
    await form.locator('input[name="address"]').fill("广州市天河区体育西路100号3栋201")
    await form.get_by_role("button", name="提交").click()
    await expect(page.locator("#done-summary")).to_contain_text("体育西路100号3栋201")
