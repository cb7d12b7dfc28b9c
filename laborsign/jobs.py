"""Background work of the engine that is not about chat.

Periodic: contracts past their signing deadline become expired, and face-verified signing
sessions a stopped process never applied are applied. Safe with several processes (each expiry
is guarded by the contract's version, each session is claimed once).

After an answer: `BackgroundTasks` runs work that must not hold up the answer (applying the
signatures once a face check passed), keeps it referenced, logs its failures and lets it
finish on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from .core.ports import Deps
from .core.services.contracts import expire_due
from .core.services.signing import resume_signing

log = logging.getLogger("laborsign.jobs")


async def every(seconds: float, name: str, job: Callable[[], Awaitable[int]]) -> None:
    while True:
        try:
            done = await job()
            if done:
                log.info("job done", extra={"job": name, "count": done})
        except asyncio.CancelledError:
            raise
        except Exception:  # a failing pass must not stop the next one
            log.exception("job failed", extra={"job": name})
        await asyncio.sleep(seconds)


@contextlib.asynccontextmanager
async def running(deps: Deps, background: bool) -> AsyncIterator[None]:
    tasks: list[asyncio.Task[None]] = []
    if background:
        tasks.append(
            asyncio.create_task(every(60, "expire_contracts", lambda: expire_due(deps)), name="expire")
        )
        tasks.append(
            asyncio.create_task(every(60, "resume_signing", lambda: resume_signing(deps)), name="resume")
        )
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guard(work: Coroutine[Any, Any, Any], name: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background task failed", extra={"task": name})

    def __len__(self) -> int:
        return len(self._tasks)

    async def drain(self, grace: float) -> None:
        """Lets running work finish (up to `grace` seconds), then cancels what is left; work
        cut short is picked up again by the periodic jobs of this or another process."""
        if not self._tasks:
            return
        pending = set(self._tasks)
        _, late = await asyncio.wait(pending, timeout=grace)
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError):
                await task
