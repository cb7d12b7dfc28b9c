"""Export buttons in a real browser: the roster page exports what its filters show, the
contract list exports its current view, and 下载PDF压缩包 follows a background job to its zip."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.async_api import expect

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from tests.conftest import Api, downloaded
from tests.test_onboarding import FORM, onboard
from tests.test_pages_contracts import use_session

pytestmark = pytest.mark.browser


async def download(page: Any, name: str, folder: Path) -> list[tuple[Any, ...]]:
    async with page.expect_download() as info:
        await page.get_by_role("link", name=name).click()
    done = await info.value
    assert done.suggested_filename.endswith(".xlsx")
    data = await downloaded(done, folder)
    return list(load_workbook(io.BytesIO(data), read_only=True).worksheets[0].iter_rows(values_only=True))


async def test_export_buttons_follow_the_filters(
    desktop: Any, api: Api, make_api: Any, client: Any, clock: FakeClock, tmp_path: Path
) -> None:
    await api.register_enterprise(clock)
    worker = await make_api()
    record = await onboard(api, worker, clock)
    await api.post(f"/api/v1/onboarding/{record['id']}/approve", {}, expect=200)
    await use_session(desktop, api)
    page = desktop
    await page.goto("/dashboard/employees")
    await expect(page.locator("#rows")).to_contain_text(FORM["name"])
    rows = await download(page, "导出花名册", tmp_path)
    assert rows[0][0] == "姓名" and [r[0] for r in rows[1:]] == [FORM["name"]]
    await page.fill("#q", "没有这个人")
    await expect(page.locator('a[data-export*="employees"]')).to_have_attribute(
        "href", "/api/v1/employees/export.xlsx?status=active&q=%E6%B2%A1%E6%9C%89%E8%BF%99%E4%B8%AA%E4%BA%BA"
    )
    rows = await download(page, "导出花名册", tmp_path)
    assert len(rows) == 1, "only the header: the filter matches nobody"

    await page.goto("/dashboard/contracts?view=completed")
    await expect(page.locator('a[data-export$="export.zip"]')).to_have_attribute(
        "href", "/api/v1/contracts/export.zip?view=completed"
    )
    rows = await download(page, "导出台账", tmp_path)
    assert rows == [rows[0]] and rows[0][0] == "合同编号"
    events = await api.get("/api/v1/enterprise/events")
    assert [e["kind"] for e in events["items"]] == [
        "export_contracts_xlsx",
        "export_employees_xlsx",
        "export_employees_xlsx",
    ]

    # 下载PDF压缩包 of a set the server zips in the background: progress, then the download
    jobs = client.app[DEPS].config.jobs
    jobs.export_zip_stream_max = -1  # even this empty set is a job
    async with page.expect_download() as info:
        await page.get_by_role("link", name="下载PDF压缩包").click()
    done = await info.value
    await expect(page.locator("#zip-download")).to_contain_text("打包完成（0 份）")
    data = await downloaded(done, tmp_path)
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == []
    events = await api.get("/api/v1/enterprise/events")
    assert events["items"][0]["kind"] == "export_contracts_zip"
    assert events["items"][0]["details"]["filters"] == {"view": "completed"}
