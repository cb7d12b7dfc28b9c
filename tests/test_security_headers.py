"""Security headers on every answer (pages, API, static files, redirects, errors), error pages in
Chinese for page routes, the label module generated from core's tables, and templates and page
scripts with no inline script or style for the Content-Security-Policy to refuse."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from laborsign.api import system as system_api
from laborsign.bootstrap import create_app
from laborsign.config import load_config
from laborsign.core.clock import FakeClock
from laborsign.core.contracts import CONTRACT_STATUS_LABELS
from laborsign.core.templates import TEMPLATE_TYPES
from laborsign.dashboard import pages as dashboard_pages
from laborsign.web import STATIC, static_build

PACKAGE = Path(__file__).resolve().parent.parent / "laborsign"
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def assert_hardened(resp: Any, *, page: bool) -> None:
    h = resp.headers
    where = f"{resp.method} {resp.url.path} → {resp.status}"
    assert h.get("X-Content-Type-Options") == "nosniff", where
    assert h.get("X-Frame-Options") == "DENY", where
    assert h.get("Referrer-Policy") == "no-referrer", where
    assert h.get("Server") == "LaborSign", where
    assert "frame-ancestors 'none'" in h.get("Content-Security-Policy", ""), where
    if page:
        assert h["Content-Security-Policy"] == PAGE_POLICY, where
    else:
        assert "'self'" not in h["Content-Security-Policy"], where  # no page may load from an API answer
    assert "Strict-Transport-Security" not in h, f"{where}: HSTS without secure cookies"


async def test_every_kind_of_answer_carries_the_headers(client: Any) -> None:
    build = static_build()
    pages = [
        ("GET", "/login", 200),
        ("GET", "/h5/join/no-such-token", 200),
        ("GET", "/no-such-page", 404),
        ("POST", "/dashboard", 405),
    ]
    others = [
        ("GET", "/", 302),
        ("GET", "/api/v1/me", 401),
        ("GET", "/api/v1/no-such", 404),
        ("POST", "/api/v1/auth/login", 400),
        ("GET", "/healthz", 200),
        ("GET", "/api/v1/pki/root.pem", 200),
        ("GET", f"/static/{build}/app.css", 200),
        ("GET", f"/static/{build}/js/labels.js", 200),
        ("GET", f"/static/{build}/pages/login.js", 200),
    ]
    for method, path, status in pages + others:
        resp = await client.request(
            method, path, allow_redirects=False, data=b"{" if method == "POST" else None
        )
        assert resp.status == status, f"{method} {path} → {resp.status}"
        assert_hardened(resp, page=(method, path, status) in pages)


async def test_https_deployments_get_hsts(
    aiohttp_client: Any, config_env: dict[str, str], clock: FakeClock
) -> None:
    config = load_config(environ={**config_env, "LABORSIGN_SERVER__SECURE_COOKIES": "true"})
    client = await aiohttp_client(create_app(config, clock=clock, migrate=False))
    for path in ("/login", "/api/v1/me", f"/static/{static_build()}/app.css"):
        resp = await client.get(path)
        assert resp.headers.get("Strict-Transport-Security") == "max-age=31536000", path


async def test_answers_aiohttp_writes_itself_name_no_version(client: Any) -> None:
    """A request too broken for any handler is answered by aiohttp before the app sees it."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(b"GET /login HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
    await writer.drain()
    head = (await reader.read(4096)).decode("latin-1")
    writer.close()
    assert re.match(r"HTTP/1\.[01] 400 ", head), head
    server = re.search(r"^Server: (.*)$", head, re.M | re.I)
    assert server and server.group(1).strip() == "LaborSign", head


async def test_page_errors_are_pages_in_chinese_and_the_api_keeps_json(client: Any) -> None:
    missing = await client.get("/dashboard/no-such-page")
    assert missing.status == 404 and missing.content_type == "text/html"
    text = await missing.text()
    assert "页面不存在" in text and 'href="/dashboard"' in text and "Not Found" not in text
    wrong = await client.post("/h5/login")
    assert wrong.status == 405 and wrong.headers["Allow"] == "GET,HEAD"
    assert "不支持该访问方式" in await wrong.text() and 'href="/h5"' in await wrong.text()
    gone = await client.get(f"/h5/intent/{'0' * 32}")  # a domain error raised by a page handler
    assert gone.status == 404 and "签署会话不存在" in await gone.text()
    api = await client.get("/api/v1/no-such")
    assert api.status == 404 and (await api.json())["error"] == "not_found"
    asked_json = await client.get("/no-such-page", headers={"Accept": "application/json"})
    assert asked_json.status == 404 and (await asked_json.json())["message"] == "请求的资源不存在"


async def test_a_fault_in_a_page_is_the_sites_500_page_and_a_favicon_is_served(
    aiohttp_client: Any, config: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in a handler")

    # A bug in the dashboard's home page and in the API's OpenAPI document.
    monkeypatch.setattr(dashboard_pages, "dashboard", broken)
    monkeypatch.setattr(system_api, "build_openapi", broken)
    client = await aiohttp_client(create_app(config, clock=clock, migrate=False))
    page = await client.get("/dashboard")
    text = await page.text()
    assert page.status == 500 and page.content_type == "text/html"
    assert "服务暂时出错" in text and "app.css" in text and 'href="/dashboard"' in text
    assert "Internal Server Error" not in text and "RuntimeError" not in text
    api = await client.get("/api/v1/openapi.json")
    assert api.status == 500 and (await api.json())["error"] == "internal_error"
    assert 'rel="icon"' in text
    icon = await client.get("/favicon.ico")
    assert icon.status == 200 and icon.content_type == "image/svg+xml"
    assert (await icon.read()).startswith(b"<svg")


async def test_the_label_module_is_cores_tables(client: Any) -> None:
    resp = await client.get(f"/static/{static_build()}/js/labels.js")
    assert resp.content_type == "text/javascript"
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    tables = {
        m.group(1): json.loads(m.group(2))
        for m in re.finditer(r"^export const (\w+) = Object\.freeze\((.*)\);$", await resp.text(), re.M)
    }
    assert tables["TEMPLATE_TYPES"] == TEMPLATE_TYPES
    assert tables["CONTRACT_STATUS"] == {str(k): v for k, v in CONTRACT_STATUS_LABELS.items()}
    assert tables["ROLE"] == {"admin": "管理员", "member": "成员"}


async def test_static_files_are_versioned_and_stay_inside_the_folder(client: Any) -> None:
    old = await client.get("/static/0123456789ab/app.css")
    assert old.status == 200 and old.headers["Cache-Control"] == "no-cache"  # another build: not kept
    for path in ("/static/b/../../bootstrap.py", "/static/b/%2e%2e/__init__.py", "/static/b/js/"):
        assert (await client.get(path)).status == 404, path


INLINE_IN_TEMPLATES = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "<style> block": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}
INLINE_IN_SCRIPTS = {
    "style attribute in markup": re.compile(r"""style=\\?["']""", re.I),
    "style set as an attribute": re.compile(r"""setAttribute\(\s*["']style""", re.I),
    "event handler attribute in markup": re.compile(r"""\son[a-z]+=\\?["']""", re.I),
    "inline <script> in markup": re.compile(r"<script", re.I),
    "eval": re.compile(r"\beval\(|new Function\("),
}


def test_no_inline_script_or_style_is_left() -> None:
    """What the CSP would refuse at run time, found in the files (the browser tests see the rest)."""
    found: list[str] = []
    for path in sorted(PACKAGE.glob("*/templates/*.html")):
        text = path.read_text()
        found += [
            f"{path.relative_to(PACKAGE)}: {what}"
            for what, rx in INLINE_IN_TEMPLATES.items()
            if rx.search(text)
        ]
    scripts = sorted(STATIC.rglob("*.js"))
    assert len(scripts) > 30
    for path in scripts:
        text = path.read_text()
        found += [
            f"{path.relative_to(STATIC)}: {what}" for what, rx in INLINE_IN_SCRIPTS.items() if rx.search(text)
        ]
    assert found == []
