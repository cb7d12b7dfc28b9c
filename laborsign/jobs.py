"""Periodic background work of the engine that is not about chat: contracts past their signing
deadline become expired, signing sessions a stopped process never applied (or left half
applied) are applied, SMS codes past their validity leave the outbox, spent abuse budgets and
old one-time keys are forgotten, export jobs a stopped process left are started again, HR is told of each labor-law deadline once, and files of
transactions that never committed are removed.
Safe with several processes and hosts (each expiry is guarded by the contract's version, each
session is claimed once, each orphan by its pending-upload row, forgetting is idempotent)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from .core.ports import Deps
from .core.services.accounts import redact_old_codes
from .core.services.contracts.lifecycle import expire_due
from .core.services.exports import run_exports
from .core.services.labor import notify_alerts
from .core.services.limits import forget_spent
from .core.services.signing import resume_signing
from .tasks import stop_tasks

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


SWEEP_EVERY = 600  # seconds; orphans are at least an hour old anyway
# Export jobs start in the process that was asked at once; this pass takes over the ones a
# stopped process left (their lease ran out) and removes zips past their download window.
EXPORTS_EVERY = 30
ALERTS_EVERY = 3600  # each alert is told once, so an hourly pass tells a new one the same day


@contextlib.asynccontextmanager
async def running(
    deps: Deps, background: bool, sweep: Callable[[], Awaitable[int]] | None = None
) -> AsyncIterator[None]:
    tasks: list[asyncio.Task[None]] = []
    if background and sweep is not None:
        tasks.append(asyncio.create_task(every(SWEEP_EVERY, "sweep_orphan_files", sweep), name="sweep"))
    if background:
        tasks.append(
            asyncio.create_task(every(60, "expire_contracts", lambda: expire_due(deps)), name="expire")
        )
        tasks.append(
            asyncio.create_task(every(15, "resume_signing", lambda: resume_signing(deps)), name="resume")
        )
        tasks.append(
            asyncio.create_task(every(600, "forget_spent", lambda: forget_spent(deps)), name="forget_spent")
        )
        tasks.append(
            asyncio.create_task(every(60, "redact_codes", lambda: redact_old_codes(deps)), name="redact_codes")
        )
        tasks.append(
            asyncio.create_task(every(EXPORTS_EVERY, "exports", lambda: run_exports(deps)), name="exports")
        )
        tasks.append(
            asyncio.create_task(
                every(ALERTS_EVERY, "labor_alerts", lambda: notify_alerts(deps)), name="labor_alerts"
            )
        )
    try:
        yield
    finally:
        await stop_tasks(tasks, grace=0)  # a pass cut short is simply done again next time
