"""Stopping the chat channels: the outbox deliverer honours cancellation whatever it is waiting
for, a stop finishes the messages being sent and hands the others back at once (none lost,
none sent twice), and shutdown returns even when a background task will not end.

The waits around shutdown below are liveness checks (a hang fails the test instead of hanging
the run), not performance assertions."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import pytest

from laborsign.bots.channels import in_thread
from laborsign.bots.runtime import ChatRuntime
from laborsign.core import outbox as ob
from laborsign.core.clock import FakeClock
from laborsign.core.outbox import OutboxMessage
from laborsign.tasks import stop_tasks
from laborsign.webhooks.common import CHAT
from tests.chat_helpers import Platforms, channel_env

LIVENESS = 60.0


@pytest.fixture
def config_env(config_env: dict[str, str], platforms: Platforms) -> dict[str, str]:
    return {**config_env, **channel_env(platforms)}


@pytest.fixture
def runtime(client: Any) -> ChatRuntime:
    """A second chat runtime on the app's database, as another process running the channels
    with background delivery on (the app under test has it off)."""
    return ChatRuntime(client.app[CHAT].deps, client.app[CHAT].config)


def _cancel_deliverers() -> None:
    for task in asyncio.all_tasks():
        if task.get_name() == "outbox-deliverer":
            task.cancel()


async def within(work: Coroutine[Any, Any, Any], what: str) -> Any:
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=LIVENESS)
    if not done:
        _cancel_deliverers()
        task.cancel()
        pytest.fail(f"{what} did not return: shutdown hangs")
    return task.result()


async def test_idle_deliverer_woken_and_cancelled_at_once_stops(runtime: ChatRuntime) -> None:
    """A wake-up (a webhook just queued a reply) and the shutdown's cancellation in the same
    turn of the loop: Python 3.11's wait_for returns the wake-up and drops the cancellation,
    and the deliverer would run for ever."""
    deliverer = runtime.deliverer
    task = asyncio.create_task(deliverer.run_forever(), name="outbox-deliverer")
    await within(deliverer.waiting.wait(), "waiting for the deliverer to go idle")
    deliverer.wakeup.set()
    task.cancel()
    await within(asyncio.wait({task}), "the cancelled deliverer")
    assert task.cancelled()


class InlineExecutor(concurrent.futures.Executor):
    """Runs the call at once, so its result is ready before the caller next awaits: the
    moment at which a cancellation used to be dropped."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        future.set_result(fn(*args, **kwargs))
        return future


async def test_sdk_call_finishing_as_it_is_cancelled_stays_cancelled() -> None:
    task = asyncio.create_task(in_thread(lambda: "sent", InlineExecutor()))
    await asyncio.sleep(0)  # in_thread now waits; the call's result is queued behind us
    task.cancel()
    await asyncio.wait({task})
    assert task.cancelled()


async def test_shutdown_just_after_a_wakeup_returns(runtime: ChatRuntime) -> None:
    """The same moment seen from the app: a webhook wakes the deliverer as the app stops."""

    async def serve_then_stop() -> None:
        async with runtime.running(background=True):
            await runtime.deliverer.waiting.wait()
            runtime.deliverer.wakeup.set()

    await within(serve_then_stop(), "shutdown")


async def queue_replies(runtime: ChatRuntime, clock: FakeClock, count: int) -> list[str]:
    openids = [f"openid-{i:02d}" for i in range(count)]
    async with runtime.deps.uow() as uow:
        for i, openid in enumerate(openids):
            uow.outbox.add(ob.chat("wechat", openid, "reply", f"第{i}条", clock.now()))
        await uow.commit()
    return openids


async def rows_of(runtime: ChatRuntime, channel: str, recipients: list[str]) -> list[OutboxMessage]:
    async with runtime.deps.uow() as uow:
        return [m for r in recipients for m in await uow.outbox.for_recipient(channel, r)]


async def test_stop_finishes_sends_under_way_and_hands_back_the_rest(
    client: Any, runtime: ChatRuntime, platforms: Platforms, clock: FakeClock
) -> None:
    wechat = platforms.wechat
    openids = await queue_replies(runtime, clock, 20)
    wechat.hold = asyncio.Event()
    concurrency = runtime.deliverer.concurrency

    async def serve_then_stop() -> None:
        async with runtime.running(background=True):
            await wechat.wait_held(concurrency)
            # Answered only once the shutdown below has begun.
            asyncio.get_running_loop().call_soon(wechat.hold.set)

    try:
        await within(serve_then_stop(), "shutdown")
    finally:
        wechat.hold.set()

    assert len(wechat.of("text")) == concurrency
    rows = await rows_of(runtime, "wechat", openids)
    sent = [m for m in rows if m.status == ob.OutboxStatus.SENT]
    pending = [m for m in rows if m.status == ob.OutboxStatus.PENDING]
    assert len(sent) == concurrency, "the sends under way were recorded"
    assert {m.recipient for m in sent} == {r["to"] for r in wechat.of("text")}
    assert len(pending) == 20 - concurrency
    assert all(m.attempts == 0 and m.next_attempt_at <= clock.now() for m in pending), "due at once"

    # Another process (the app's own deliverer) sends the rest now, each exactly once.
    stats = await client.app[CHAT].deliverer.run_once()
    assert stats.sent == 20 - concurrency
    clock.advance(minutes=3)  # past any lease
    assert (await client.app[CHAT].deliverer.run_once()).handled == 0
    assert sorted(r["to"] for r in wechat.of("text")) == openids


async def test_stop_between_batches_of_a_bulk_queue_loses_nothing(
    client: Any, runtime: ChatRuntime, platforms: Platforms, clock: FakeClock
) -> None:
    """A bulk invitation queued 1,000 SMS (ten batches) behind one chat reply; the app stops
    while the first batch is being sent."""
    wechat = platforms.wechat
    phones = [f"139{i:08d}" for i in range(1000)]
    async with runtime.deps.uow() as uow:
        first = clock.now() - timedelta(seconds=1)
        uow.outbox.add(ob.chat("wechat", "openid-first", "reply", "你好", first))
        for phone in phones:
            uow.outbox.add(ob.sms(phone, "invitation", "邀请您入职", clock.now()))
        await uow.commit()
    wechat.hold = asyncio.Event()

    async def serve_then_stop() -> None:
        async with runtime.running(background=True):
            await wechat.wait_held(1)
            asyncio.get_running_loop().call_soon(wechat.hold.set)

    try:
        await within(serve_then_stop(), "shutdown")
    finally:
        wechat.hold.set()

    rows = await rows_of(runtime, "sms", phones)
    assert len(rows) == len(phones)
    sent = sum(m.status == ob.OutboxStatus.SENT for m in rows)
    due = sum(m.status == ob.OutboxStatus.PENDING and m.next_attempt_at <= clock.now() for m in rows)
    assert sent + due == len(phones), "every message sent or due at once, none left under a lease"
    assert sent < runtime.deliverer.batch, "no batch claimed after the stop"
    [reply] = await rows_of(runtime, "wechat", ["openid-first"])
    assert reply.status == ob.OutboxStatus.SENT

    while (await client.app[CHAT].deliverer.run_once()).handled:
        pass
    rows = await rows_of(runtime, "sms", phones)
    assert all(m.status == ob.OutboxStatus.SENT and m.attempts == 1 for m in rows)
    assert len(wechat.of("text")) == 1


async def test_stop_past_the_grace_cancels_and_loses_nothing(
    client: Any, runtime: ChatRuntime, platforms: Platforms, clock: FakeClock
) -> None:
    """Sends that do not end within the grace are cancelled: shutdown returns, and the rows
    stay pending under their lease, to be sent again once it ends. A send cut short may have
    reached the platform, so past the grace delivery is at least once."""
    wechat = platforms.wechat
    openids = await queue_replies(runtime, clock, 20)
    wechat.hold = asyncio.Event()
    concurrency = runtime.deliverer.concurrency

    async def serve_then_stop() -> None:
        async with runtime.running(background=True, grace=0):
            await wechat.wait_held(concurrency)

    try:
        await within(serve_then_stop(), "shutdown")
    finally:
        wechat.hold.set()

    rows = await rows_of(runtime, "wechat", openids)
    assert all(m.status == ob.OutboxStatus.PENDING and m.attempts == 0 for m in rows)
    assert (await client.app[CHAT].deliverer.run_once()).handled == 0, "still leased"
    clock.advance(minutes=2, seconds=1)
    assert (await client.app[CHAT].deliverer.run_once()).sent == 20
    assert {r["to"] for r in wechat.of("text")} == set(openids)


async def test_shutdown_goes_on_past_a_task_that_ignores_cancellation() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    try:
        await within(stop_tasks([task], grace=0, cancel_grace=0.01), "stop_tasks")
        assert not task.done()
    finally:
        release.set()
        await task


async def test_cancelling_the_shutdown_cancels_the_tasks_and_goes_on_up() -> None:
    forever = asyncio.create_task(asyncio.Event().wait())
    stopping = asyncio.create_task(stop_tasks([forever], grace=LIVENESS))
    await asyncio.sleep(0)
    stopping.cancel()
    await within(asyncio.wait({stopping, forever}), "the cancelled shutdown")
    assert stopping.cancelled() and forever.cancelled()
