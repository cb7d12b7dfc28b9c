"""The pages people open on a phone (in WeChat's and DingTalk's webviews too) and on a laptop:
no button, badge or date breaks its label over lines, the contract can be zoomed, and every
entry of the employer's menu can be reached. One world, three screen sizes."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.core.clock import FakeClock
from tests.conftest import Api, watch_csp
from tests.test_contracts import launch_body, mark_verified, setup_contract_world
from tests.test_onboarding import FORM
from tests.test_pages_contracts import use_session

pytestmark = pytest.mark.browser

SIZES = [(390, 844), (360, 640), (1280, 800)]

# Which of the visible elements matched by the selector lay their text out on more than one
# line: the line boxes of their text nodes (a Range's client rects), whose tops lie a line
# apart (an inline badge inside a label sits a few pixels off its text: the same line).
WRAPPED = """(selector) => Array.from(document.querySelectorAll(selector)).filter(function (el) {
  if (!el.offsetParent && getComputedStyle(el).position !== "fixed") return false;
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const tops = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const range = document.createRange(); range.selectNodeContents(node);
    Array.from(range.getClientRects()).forEach(function (r) { if (r.width > 0) tops.push(r.top); });
  }
  const size = parseFloat(getComputedStyle(el).fontSize);
  tops.sort(function (a, b) { return a - b; });
  return tops.length > 1 && tops[tops.length - 1] - tops[0] > size * 0.8;
}).map(function (el) { return el.textContent.trim(); })"""

# The parts of the element that stick out of the viewport sideways.
OUTSIDE = """(el) => { const r = el.getBoundingClientRect();
  return r.left < -1 || r.right > window.innerWidth + 1 || r.width === 0; }"""


async def context_for(browser: Any, client: Any, size: tuple[int, int]) -> tuple[Any, list[str]]:
    width, height = size
    small = width < 640
    context = await browser.new_context(
        base_url=str(client.make_url("")),
        locale="zh-CN",
        viewport={"width": width, "height": height},
        device_scale_factor=2 if small else 1,
        is_mobile=small,
        has_touch=small,
    )
    return context, await watch_csp(context)


async def assert_single_lines(page: Any, selector: str, where: str) -> None:
    wrapped = await page.evaluate(WRAPPED, selector)
    assert not wrapped, f"{where}: labels broken over lines: {wrapped}"


async def test_phone_and_laptop_layouts(
    browser: Any, api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=FORM["phone"])
    cid = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    for size in SIZES:
        where = f"{size[0]}×{size[1]}"
        context, violations = await context_for(browser, client, size)
        page = await context.new_page()
        # The worker: 我的合同, then the contract with the signature pad open.
        await use_session(page, world["worker"])
        await page.goto("/h5/contracts")
        await expect(page.locator(".list-item")).to_have_count(1)
        await expect(page.locator(".list-item .badge")).to_have_text("待我签")
        await assert_single_lines(page, ".badge, .when, .tabs button", where + " 我的合同")
        viewport = await page.get_attribute('meta[name="viewport"]', "content")
        assert "user-scalable=no" not in viewport and "maximum-scale" not in viewport, viewport
        await page.goto(f"/h5/contracts/{cid}")
        await expect(page.locator(".doc-page img").first).to_be_visible()
        # The contract can be read larger: 放大阅读 widens the pages (scrolling sideways).
        first = page.locator(".doc-page").first
        narrow = (await first.bounding_box())["width"]
        await page.get_by_role("button", name="放大阅读").click()
        await expect(page.get_by_role("button", name="缩小")).to_be_visible()
        assert (await first.bounding_box())["width"] > narrow * 1.5
        await page.get_by_role("button", name="缩小").click()
        await expect(page.get_by_role("button", name="放大阅读")).to_be_visible()
        await assert_single_lines(page, "button, .badge", where + " 合同详情")
        area = page.locator(".area").first
        await area.scroll_into_view_if_needed()
        await area.click()
        await expect(page.locator("#pad-canvas")).to_be_visible()
        await assert_single_lines(page, "#pad button, #pad label", where + " 签名板")
        for button in ("清除", "撤销", "取消", "确定"):
            assert not await page.get_by_role("button", name=button).evaluate(OUTSIDE), button
        await page.get_by_role("button", name="取消").click()
        # HR: the dashboard's menu, every entry reachable on the screen.
        await context.clear_cookies()
        await use_session(page, api)
        await page.goto("/dashboard")
        links = page.locator("#topnav a")
        await expect(links.first).to_be_attached()
        toggle = page.get_by_role("button", name="菜单")
        if size[0] < 640:  # on a phone the menu folds behind 菜单
            await expect(links.first).to_be_hidden()
            await toggle.click()
            await expect(toggle).to_have_attribute("aria-expanded", "true")
        else:
            await expect(toggle).to_be_hidden()
        count = await links.count()
        assert count >= 5
        nav = page.locator("#topnav")
        assert await nav.evaluate("n => n.scrollWidth <= n.clientWidth + 1"), "no entry hidden sideways"
        for i in range(count):
            link = links.nth(i)
            await expect(link).to_be_visible()
            assert not await link.evaluate(OUTSIDE), await link.text_content()
        await assert_single_lines(page, "#topnav a, .topbar button, .topbar a, .entry h3", where + " 首页")
        await page.screenshot(path=f"/tmp/layout_{size[0]}.png")
        href = await links.last.get_attribute("href") or ""
        await links.last.click()
        await expect(page).to_have_url(str(client.make_url(href)))
        await context.close()
        assert not violations, violations
