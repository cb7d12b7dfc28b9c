"""Asyncio tasks that outlive a request: stopping them at shutdown without hanging, and work
started after an answer was sent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("laborsign.tasks")

CANCEL_GRACE = 5.0


async def stop_tasks(
    tasks: list[asyncio.Task[None]], grace: float, cancel_grace: float = CANCEL_GRACE
) -> None:
    """Waits up to `grace` seconds for tasks told to stop, cancels those still running and
    waits `cancel_grace` more. A task that outlives that is logged and left behind: shutdown
    goes on rather than hang. A cancellation of the shutdown itself cancels the tasks and
    goes on up."""
    if not tasks:
        return
    try:
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            if grace > 0:  # told to finish and did not
                log.warning("background task still busy at shutdown; cancelling", extra={"task": task.get_name()})
            task.cancel()
        if late:
            _, stuck = await asyncio.wait(late, timeout=cancel_grace)
            for task in stuck:
                log.error("background task did not end when cancelled", extra={"task": task.get_name()})
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        raise
    for task in tasks:
        if task.done() and not task.cancelled() and (exc := task.exception()) is not None:
            log.error("background task failed", exc_info=exc, extra={"task": task.get_name()})


class BackgroundTasks:
    """Work that must not hold up an answer (applying signatures once a face check passed):
    kept referenced, failures logged, finished or cancelled on shutdown."""

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
        await stop_tasks(list(self._tasks), grace)
