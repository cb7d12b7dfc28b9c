"""The database pool does not ping a connection before each use (issue 16): a connection the
database dropped fails where it is used, and the webhook handles the callback once more on
a fresh one — the person gets their answer, the message is stepped and stored once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from laborsign.storage.chat import chat_inbound
from laborsign.webhooks.common import CHAT
from tests.chat_helpers import Platforms, WechatUser, channel_env
from tests.conftest import FakeClock


@pytest.fixture
def config_env(config_env: dict[str, str], platforms: Platforms) -> dict[str, str]:
    return {**config_env, **channel_env(platforms)}


async def test_a_dropped_database_connection_costs_no_message(
    client: Any, platforms: Platforms, clock: FakeClock, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("an embedded SQLite has no server to drop a connection")
    deps = client.app[CHAT].deps
    user = WechatUser(client, platforms.wechat, clock)
    assert "绑定" in await user.say("绑定")
    # Every connection the app holds is ended by the server (as a restart or a failover
    # would), from a connection of the test's own.
    import asyncpg

    url = deps.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    outside = await asyncpg.connect(url)
    try:
        ended = await outside.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await outside.close()
    assert ended and all(row[0] for row in ended), "the app's pooled connections were ended"
    answer = await user.say("12345")
    assert user.last_status == 200 and "手机号" in answer, answer
    # Counted from a connection of the test's own: the app's ORM pool still holds connections
    # the server ended (the webhook's storage does not use them).
    outside = await asyncpg.connect(url)
    try:
        count = await outside.fetchval(str(select(func.count()).select_from(chat_inbound)))
    finally:
        await outside.close()
    assert count == 2, "each message stored once"
