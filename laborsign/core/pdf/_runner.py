"""Running pyHanko's async API from synchronous code (worker processes, CLI, tests).

pyHanko's own synchronous wrappers call `asyncio.run` on every call, which both fails inside a
running loop and pays for a new event loop each time; a worker process keeps one loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_local = threading.local()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        # Called from inside an event loop (e.g. an async test): a helper thread has its own.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            result: T = pool.submit(asyncio.run, coro).result()
            return result
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop.run_until_complete(coro)
