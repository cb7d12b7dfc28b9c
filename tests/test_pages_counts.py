"""The roster page's pager when a search matched more than the server counts (10,000): it
says 共 10000+ 人, in a real browser, and the whole roster's total stays exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from laborsign.storage.counters import recount
from laborsign.storage.roster import employees
from tests.conftest import Api
from tests.test_pages_contracts import use_session

pytestmark = pytest.mark.browser


async def test_the_pager_says_more_than_ten_thousand(desktop: Any, api: Api, client: Any, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    tenant = (await api.get("/api/v1/me"))["enterprise"]["id"]
    at = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {"id": f"bulk{i:08d}", "enterprise_id": tenant, "name": f"张{i}", "phone": f"139{i:08d}",
         "emergency_contact": {}, "status": "active", "created_at": at + timedelta(seconds=i)}
        for i in range(10_030)
    ]  # fmt: skip
    async with client.app[DEPS].uow() as uow:
        await uow.session.execute(employees.insert(), rows)
        await uow.session.run_sync(lambda session: recount(session, [tenant]))
        await uow.commit()
    await use_session(desktop, api)
    await desktop.goto("/dashboard/employees?q=139")
    await expect(desktop.locator("#pager")).to_contain_text("共 10000+ 人")
    await desktop.goto("/dashboard/employees")
    await expect(desktop.locator("#pager")).to_contain_text("共 10030 人")
