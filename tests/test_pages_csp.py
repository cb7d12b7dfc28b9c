"""Every page under its Content-Security-Policy, on a laptop screen and on a phone in WeChat: the
page's own module runs (its first result shows), nothing is refused (no securitypolicyviolation,
no CSP console line), no script error, and every answer carries the security headers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from laborsign.core.services.accounts import create_platform_staff
from laborsign.web.security import PAGE_POLICY
from tests.conftest import Api, is_csp_line, watch_csp
from tests.test_contracts import launch_body, setup_contract_world, signature_png, verify_for_real
from tests.test_pages_contracts import use_session
from tests.test_templates import upload

pytestmark = pytest.mark.browser

LAPTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": "Mozilla/5.0 (Linux; Android 13; V2227A) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/116.0.5845.114 Mobile Safari/537.36 MicroMessenger/8.0.47 DingTalk/7.6.0",
}
# Expected misses: the saved-signature probe (none saved yet), the browser's own favicon request
# (the site has none) and the error pages themselves.
EXPECTED_MISSES = re.compile(r"/api/v1/me/signature\.png|/favicon\.ico$|/no-such-page$|/dashboard$")


@pytest.fixture
def database_url(sqlite_template: Any, tmp_path: Any) -> Any:
    """Markup and headers do not depend on the database; every page runs on both in the rest of
    the browser tests, so this one (all pages, twice) runs once."""
    import shutil

    path = tmp_path / "laborsign.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


async def _world(api: Api, make_api: Any, client: Any, clock: FakeClock) -> dict[str, Any]:
    world = await setup_contract_world(api, make_api, client, clock)
    await verify_for_real(api, world["worker"], clock, world["enterprise"]["id"])
    shown, faced = [
        (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
        for _ in range(2)
    ]
    face = await world["worker"].post(
        f"/api/v1/me/contracts/{faced}/signature",
        {"signature_png": signature_png(), "fields": {"bank_account": "6222020000000000"}, "intent_method": "face"},
        expect=201,
    )  # fmt: skip
    deps = client.app[DEPS]
    staff = {}
    for role, phone in (("regulator", "13300133001"), ("reviewer", "13300133002")):
        await create_platform_staff(deps, phone, f"{role}甲", role)
        staff[role] = await make_api()
        await staff[role].login(clock, phone, side="platform")
    public = await upload(staff["regulator"], "公共劳动合同模板")
    return {
        **world,
        "contract": shown,
        "session": face["id"],
        "sandbox": face["intent"]["redirect_url"],
        "record": (await api.get("/api/v1/onboarding?status=approved"))["items"][0]["id"],
        "token": (await api.get("/api/v1/invite-link"))["token"],
        "public_template": public["id"],
        **staff,
    }


def pages(w: dict[str, Any]) -> dict[str, list[tuple[str, str | None]]]:
    """Who opens which page, and what shows once its script has run (None: nothing to show)."""
    return {
        "nobody": [
            ("/login", None), ("/register", None), ("/terms", None), ("/verify", None),
            ("/console/login", None), ("/h5/login", None),
            (f"/h5/join/{w['token']}", "#enterprise-name >> text=广州测试科技有限公司"),
            ("/no-such-page", ".error-page >> text=页面不存在"),
        ],
        "employer": [
            ("/choose", "#enterprise-list .list-item"),
            ("/dashboard", "#greeting >> text=广州测试科技有限公司"),
            ("/dashboard/members", "#members tr"),
            ("/dashboard/seals", "#seals .entry"),
            ("/dashboard/chat/outbox", "#letters tr"),
            ("/dashboard/integrations", "#endpoints tr"),
            ("/dashboard/notices", "#notices tr"),
            ("/dashboard/contracts", "#rows a >> text=查看"),
            ("/dashboard/contracts/new", "#templates .list-item"),
            ("/dashboard/contracts/upload", "#people tr"),
            (f"/dashboard/contracts/{w['contract']}", "#events .event"),
            ("/dashboard/templates", "#templates tr"),
            (f"/dashboard/templates/{w['template']['id']}", ".ctl"),
            ("/dashboard/verification", "#ev-done"),
            ("/dashboard/onboarding/invite", "#qr[src*='qr.png']"),
            ("/dashboard/onboarding", "#rows tr"),
            (f"/dashboard/onboarding/{w['record']}", ".modal"),
            ("/dashboard/employees", "#tree [data-dept]"),
        ],
        "worker": [
            ("/h5", "#hello b"),
            ("/h5/me", "#profile b"),
            ("/h5/contracts", "#list .list-item"),
            (f"/h5/contracts/{w['contract']}", ".doc-page img"),
            ("/h5/onboarding", "#list .list-item"),
            ("/h5/verify", "#v-result"),
            ("/worker/verify", "#v-result"),
            (f"/h5/intent/{w['session']}", "#intent-state"),
            (w["sandbox"], "#sandbox-pass"),
        ],
        "regulator": [
            ("/console/templates", "#templates tr"),
            (f"/console/templates/{w['public_template']}", ".page"),
        ],
        "reviewer": [("/console/verifications", "#rv-pager >> text=共")],
    }  # fmt: skip


def header_problems(where: str, headers: dict[str, str], page: bool) -> list[str]:
    wanted = {
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "server": "LaborSign",
    }
    if page:
        wanted["content-security-policy"] = PAGE_POLICY
    out = [
        f"{where}: {name} is {headers.get(name)!r}"
        for name, value in wanted.items()
        if headers.get(name) != value
    ]
    if "frame-ancestors 'none'" not in headers.get("content-security-policy", ""):
        out.append(f"{where}: no frame-ancestors 'none'")
    return out


class Watch:
    """What went wrong in a page: refused by the policy, script errors, failed loads, headers."""

    def __init__(self, page: Any, csp: list[str]) -> None:
        self.csp = csp
        self.problems: list[str] = []
        self.responses: list[Any] = []
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on("console", self._console)
        page.on("response", lambda response: self.responses.append(response))

    def _console(self, message: Any) -> None:
        if message.type != "error" or is_csp_line(message.text):
            return  # CSP lines are counted by watch_csp
        if message.text.startswith("Failed to load resource") and EXPECTED_MISSES.search(
            message.location.get("url", "")
        ):
            return
        self.problems.append(f"console error: {message.text} ({message.location.get('url')})")

    async def headers(self, size: str) -> None:
        for resp in self.responses:
            if resp.url.startswith("data:"):
                continue
            document = resp.request.resource_type == "document"
            self.problems += header_problems(f"{size} {resp.url}", await resp.all_headers(), document)
        self.responses.clear()


async def test_every_page_keeps_its_policy_on_a_laptop_and_a_phone(
    browser: Any, api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await _world(api, make_api, client, clock)
    sessions = {
        "employer": api,
        "worker": world["worker"],
        "regulator": world["regulator"],
        "reviewer": world["reviewer"],
    }
    opened = 0
    for size, options in (("laptop", LAPTOP), ("phone", PHONE)):
        context = await browser.new_context(base_url=str(client.make_url("")), locale="zh-CN", **options)
        csp = await watch_csp(context)
        page = await context.new_page()
        watch = Watch(page, csp)
        for who, visits in pages(world).items():
            await context.clear_cookies()
            if who in sessions:
                await use_session(page, sessions[who])
            for path, ready in visits:
                resp = await page.goto(path)
                assert resp is not None
                expected = 404 if "no-such" in path else 200
                assert resp.status == expected, f"{size} {who} {path} → {resp.status}"
                if ready:
                    await expect(page.locator(ready).first).to_be_visible()
                await watch.headers(size)
                opened += 1
        # A page asked with a method it does not answer gets the 405 page.
        await page.goto("/terms")
        async with page.expect_navigation() as sent:
            await page.evaluate(
                """() => { const f = document.createElement("form"); f.method = "post"; f.action = "/dashboard";
                           document.body.appendChild(f); f.submit(); }"""
            )
        assert (await sent.value).status == 405
        await expect(page.locator(".error-page")).to_contain_text("不支持该访问方式")
        await watch.headers(size)
        await context.close()
        assert watch.problems == [] and csp == [], "\n".join(watch.problems + csp)
    assert opened == 2 * sum(len(v) for v in pages(world).values())
