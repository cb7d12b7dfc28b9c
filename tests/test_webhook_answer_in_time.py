"""A WeChat message whose step outlasts the answer deadline: the platform is acknowledged in
time, the step is still stored, and its answer reaches the person through the
customer-service API once (a retry of the message is not answered twice)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from laborsign.core.clock import FakeClock
from laborsign.webhooks import common
from laborsign.webhooks.common import CHAT
from tests.chat_helpers import Platforms, WechatUser, channel_env, deliver


@pytest.fixture
def config_env(config_env: dict[str, str], platforms: Platforms) -> dict[str, str]:
    return {**config_env, **channel_env(platforms)}


async def settled() -> None:
    """Until the steps and late answers left running after their handlers are done."""
    while common._background:
        await asyncio.gather(*list(common._background))


async def test_a_slow_step_is_acknowledged_in_time_stored_and_answered_late(
    client: Any, platforms: Platforms, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = client.app[CHAT]
    store = chat.deps.chat_steps
    release = asyncio.Event()
    real_save = store.save

    async def slow_save(step: Any) -> Any:
        await release.wait()  # the disk is slow today
        return await real_save(step)

    monkeypatch.setattr(store, "save", slow_save)
    monkeypatch.setattr(common, "ANSWER_WITHIN", 0.01)

    user = WechatUser(client, platforms.wechat, clock)
    xml = user.text_xml("帮助")
    assert await user.post(xml) == ""  # the empty acknowledgement ("success"), before the step ended
    assert user.last_status == 200
    async with chat.deps.uow() as uow:
        assert await uow.chat.identity("wechat", platforms.wechat.app_id, user.openid) is None

    release.set()
    await settled()
    async with chat.deps.uow() as uow:
        assert await uow.chat.identity("wechat", platforms.wechat.app_id, user.openid) is not None
    await deliver(client)
    sent = [r for r in platforms.wechat.of("text") if r["to"] == user.openid]
    assert len(sent) == 1 and "绑定" in sent[0]["text"], sent

    # WeChat retries the message it got no passive answer to: deduplicated, not answered again.
    monkeypatch.setattr(common, "ANSWER_WITHIN", 4.0)
    assert await user.post(xml) == ""
    await settled()
    await deliver(client)
    assert len([r for r in platforms.wechat.of("text") if r["to"] == user.openid]) == 1


async def test_a_step_in_time_is_answered_passively(
    client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    user = WechatUser(client, platforms.wechat, clock)
    assert "绑定" in await user.say("帮助")
    await deliver(client)
    assert not [r for r in platforms.wechat.of("text") if r["to"] == user.openid]
