"""The template designer in a real browser: upload, place and drag controls, save, enable."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.core.clock import FakeClock
from tests.conftest import Api
from tests.pdfs import make_pdf

pytestmark = pytest.mark.browser


async def test_design_a_template(desktop: Any, client: Any, clock: FakeClock, tmp_path: Any) -> None:
    api = Api(client)
    await api.register_enterprise(clock)
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["laborsign_session"].value
    await desktop.context.add_cookies(
        [{"name": "laborsign_session", "value": cookie, "url": str(client.make_url("/"))}]
    )
    page = desktop
    pdf = tmp_path / "合同.pdf"
    pdf.write_bytes(make_pdf(2))
    await page.goto("/dashboard")
    await page.get_by_role("link", name="模板管理").first.click()
    await page.click("#new-template")
    await page.fill('#template-form input[name="name"]', "车间操作工劳动合同")
    await page.set_input_files('#template-form input[name="files"]', str(pdf))
    await page.get_by_role("button", name="下一步").click()
    await expect(page.locator("#title")).to_have_text("车间操作工劳动合同")
    await expect(page.locator(".page")).to_have_count(2)

    await page.locator(".page").nth(1).click(position={"x": 5, "y": 5})
    await page.click('[data-kind="signature"]')
    await page.click('[data-kind="seal"]')
    await page.locator(".page").first.click(position={"x": 5, "y": 5})
    await page.click('[data-kind="text"]')
    await expect(page.locator(".ctl")).to_have_count(3)
    # Drag the text control towards the top-left corner.
    box = await page.locator(".ctl.k-text").bounding_box()
    await page.mouse.move(box["x"] + 20, box["y"] + 8)
    await page.mouse.down()
    await page.mouse.move(box["x"] - 100, box["y"] - 200, steps=8)
    await page.mouse.up()
    await page.fill('[data-prop="label"]', "岗位名称")
    await page.fill('[data-prop="key"]', "job_title")
    await page.locator('[data-prop="key"]').press("Tab")
    await page.click("#save")
    await expect(page.locator("#toast")).to_contain_text("控件已保存")
    await page.click("#enable")
    await expect(page.locator("#status")).to_contain_text("已开启")

    listed = await api.get("/api/v1/templates?scope=enterprise")
    template = await api.get(f"/api/v1/templates/{listed['items'][0]['id']}")
    by_key = {c["key"]: c for c in template["controls"]}
    assert set(by_key) == {"job_title", "signature_1", "seal_1"}
    assert by_key["job_title"]["label"] == "岗位名称" and by_key["job_title"]["page"] == 1
    assert by_key["job_title"]["y"] < 421 - 100, "the drag moved the control up"
    assert by_key["signature_1"]["page"] == 2 and by_key["signature_1"]["filled_by"] == "worker"
    await page.screenshot(path="/tmp/designer.png")


async def test_designer_preview_shows_samples_and_small_boxes(
    desktop: Any, client: Any, clock: FakeClock
) -> None:
    from tests.test_template_preview import CONTROLS
    from tests.test_templates import upload

    api = Api(client)
    await api.register_enterprise(clock)
    template = await upload(api, files=[make_pdf(1), make_pdf(1)])
    await api.call("PUT", f"/api/v1/templates/{template['id']}/controls", {"controls": CONTROLS}, expect=200)
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["laborsign_session"].value
    await desktop.context.add_cookies(
        [{"name": "laborsign_session", "value": cookie, "url": str(client.make_url("/"))}]
    )
    page = desktop
    await page.goto(f"/dashboard/templates/{template['id']}")
    await expect(page.locator(".ctl")).to_have_count(len(CONTROLS))
    await page.get_by_role("button", name="预览").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.locator("#preview-overflows")).to_contain_text("“月工资（元）”的内容超出了放置框")
    images = dialog.locator("img.preview-page")
    await expect(images).to_have_count(2)
    for i in range(2):
        await expect(images.nth(i)).to_have_js_property("complete", True)
        assert await images.nth(i).evaluate("img => img.naturalWidth") > 0, "the filled page was drawn"
    # The too-small box is outlined in the designer behind the dialog, and named in its panel.
    await expect(page.locator(".ctl.overflow")).to_have_count(1)
    await expect(page.locator(".ctl.overflow")).to_contain_text("月工资")
    await dialog.get_by_role("button", name="关闭").click()
    await expect(dialog).to_have_count(0)

    # Widen the box, preview again (the change is saved first): no warning is left.
    box = await page.locator(".ctl.overflow .grip").bounding_box()
    await page.mouse.move(box["x"] + 5, box["y"] + 5)
    await page.mouse.down()
    await page.mouse.move(box["x"] + 120, box["y"] + 5, steps=6)
    await page.mouse.up()
    await page.get_by_role("button", name="预览").click()
    await expect(page.get_by_role("dialog").locator("#preview-ok")).to_be_visible()
    await expect(page.locator(".ctl.overflow")).to_have_count(0)
    saved = await api.get(f"/api/v1/templates/{template['id']}")
    assert next(c for c in saved["controls"] if c["key"] == "monthly_wage")["width"] > 60
