"""The background loop keeps running after a failing pass and stops cleanly."""

from __future__ import annotations

import asyncio

from laborsign.jobs import every


async def test_periodic_job_survives_failures_and_cancels() -> None:
    calls = 0
    third = asyncio.Event()

    async def job() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("first pass fails")
        if calls == 3:
            third.set()
        return 1

    task = asyncio.create_task(every(0, "test", job))
    await asyncio.wait_for(third.wait(), 5)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert calls >= 3 and task.cancelled()
