"""The browser tests share one Chromium per test process (tests.chromium): each test still
starts from a browser that remembers nothing of another test, and the Chromium does not outlive
the test process, even one that is killed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import SessionChromium
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.processes import descendants, until_gone

pytestmark = pytest.mark.browser

ORIGIN = "http://isolation.test"  # the same origin in every test, served by the page's own route
ROOT = Path(__file__).resolve().parent.parent
REMEMBERED = "() => [localStorage.length, sessionStorage.length, document.cookie]"
REMEMBER = "run => { localStorage.setItem('seen', run); sessionStorage.setItem('seen', run); }"


async def opened(page: Any) -> None:
    async def serve(route: Any) -> None:
        await route.fulfill(body="<!doctype html><title>isolation</title><p>ok</p>", content_type="text/html")

    await page.route(ORIGIN + "/**", serve)
    await page.goto(ORIGIN + "/")


@pytest.mark.parametrize("run", ["first", "second"])
async def test_each_test_starts_with_no_cookies_or_storage(browser: Any, run: str) -> None:
    # Whichever run comes second would see what the first left on the same origin.
    for page in (await browser.new_page(), await (await browser.new_context()).new_page()):
        await opened(page)
        assert await page.context.cookies() == []
        assert await page.evaluate(REMEMBERED) == [0, 0, ""]
        await page.context.add_cookies([{"name": "seen", "value": run, "url": ORIGIN}])
        await page.evaluate(REMEMBER, run)
        assert await page.evaluate("() => document.cookie") == f"seen={run}"


async def test_contexts_of_one_test_share_nothing(browser: Any) -> None:
    one, other = await browser.new_page(), await browser.new_page()
    await opened(one)
    await one.evaluate("() => { document.cookie = 'who=one'; localStorage.setItem('who', 'one'); }")
    await opened(other)
    assert await other.evaluate("() => [localStorage.length, document.cookie]") == [0, ""]


CHILD = """import sys
from pathlib import Path
from tests import chromium
server = chromium.start(sys.argv[1], sys.argv[3:], Path(sys.argv[2]))
print(server.process.pid, flush=True)
sys.stdin.read()
"""


async def test_chromium_goes_when_the_test_process_is_killed(tmp_path: Path) -> None:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - a one-off check before launching
        pytest.skip("Chromium not installed")
    # A stand-in for a test process: it starts the server the way the session does, then is killed.
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, CHROMIUM, str(tmp_path), *CHROMIUM_ARGS,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    assert child.stdout is not None
    line = await child.stdout.readline()
    assert line, f"the stand-in died: {(tmp_path / 'chromium-server.log').read_text(errors='replace')}"
    server = int(line)
    browsers = descendants(server)
    programs = set()
    for pid in browsers:
        with contextlib.suppress(OSError):  # a helper process may have ended since
            programs.add(os.path.basename(os.readlink(f"/proc/{pid}/exe")))
    assert "chromium" in programs, programs

    os.kill(child.pid, signal.SIGKILL)
    await child.wait()
    left = await until_gone({server} | browsers)
    assert left == set(), "the Chromium server outlived the killed test process"


async def test_a_crashed_chromium_is_started_again_for_the_next_test(
    chromium_server: SessionChromium,
) -> None:
    from playwright.async_api import async_playwright

    chromium_server.endpoint()
    assert chromium_server.server is not None
    node = chromium_server.server.process.pid
    for pid in descendants(node):  # Chromium, all its processes
        with contextlib.suppress(ProcessLookupError):  # one may end with the one killed before it
            os.kill(pid, signal.SIGKILL)
    # The server ends with its browser, and the next test gets a new one.
    assert await until_gone({node}) == set()
    async with async_playwright() as pw:
        browser = await pw.chromium.connect(chromium_server.endpoint())
        page = await browser.new_page()
        await opened(page)
        assert await page.locator("p").inner_text() == "ok"
        await browser.close()
    assert chromium_server.server.process.pid != node
