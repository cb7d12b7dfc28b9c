"""Integrator webhooks on the real stack (the app's dependencies, SQLite or PostgreSQL, the
outbox deliverer, aiohttp receivers on loopback).

1. What a domain event costs a state change's commit: a transaction that writes one outbox row
   (what a notice to a person is) as the baseline, the same with one event recorded and no
   endpoint (the handler's lookup), and with three subscribed endpoints (three more rows).
2. Deliveries a second through the deliverer: webhook deliveries (endpoint lookup, secret
   decryption, signing, the POST, the attempt row) against the SMS bridge sender (signing, the
   POST) as the baseline, both to eight recipients so the deliverer sends eight at a time.

Run: .venv/bin/python bench/webhook_deliveries.py [--commits 300] [--messages 400] [--repeat 3]
     [--database postgresql+asyncpg://postgres@127.0.0.1:5432/<an empty database>]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import web

from laborsign.bootstrap import build_deps
from laborsign.bots.integrators import WebhookSender
from laborsign.bots.outbox import Deliverer
from laborsign.bots.sms import HttpSmsSender
from laborsign.config import load_config
from laborsign.core import outbox as ob
from laborsign.core.accounts import Enterprise
from laborsign.core.events import ContractCompleted
from laborsign.core.integrations import SECRET_CONTEXT, WebhookEndpoint
from laborsign.core.outbox import OutboxMessage
from laborsign.storage.outbox import outbox

RECIPIENTS = 8


async def _serve() -> tuple[web.AppRunner, str, list[int]]:
    got: list[int] = []

    async def take(request: web.Request) -> web.Response:
        got.append(len(await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{tail:.*}", take)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}", got


def _completed(enterprise_id: str, now: datetime) -> ContractCompleted:
    return ContractCompleted(
        enterprise_id=enterprise_id, at=now, contract_id="c" * 32, name="标准劳动合同", status="completed",
        employee_id="e" * 32, worker_name="王五", document_sha256="0" * 64,
    )  # fmt: skip


async def _commits(deps: object, enterprise_id: str, n: int, events: bool) -> float:
    """Commits a second, each writing one SMS outbox row (and recording one event)."""
    started = time.perf_counter()
    for i in range(n):
        now = datetime.now(UTC)
        async with deps.uow() as uow:  # type: ignore[attr-defined]
            uow.outbox.add(ob.sms(f"139{i:08d}", "contract_completed", "合同已签署完成", now))
            if events:
                uow.record(_completed(enterprise_id, now))
            await uow.commit()
    return n / (time.perf_counter() - started)


async def _enterprise(deps: object, name: str, code: str) -> str:
    e = Enterprise(name=name, credit_code=code, org_type="enterprise", created_at=datetime.now(UTC))
    async with deps.uow() as uow:  # type: ignore[attr-defined]
        uow.add(e)
        await uow.commit()
    return e.id


async def _endpoints(deps: object, enterprise_id: str, base: str, count: int) -> list[str]:
    ids = []
    async with deps.uow() as uow:  # type: ignore[attr-defined]
        for i in range(count):
            endpoint = WebhookEndpoint(
                enterprise_id=enterprise_id, url=f"{base}/hook/{i}", events=["contract.completed"],
                secret_enc="", created_at=datetime.now(UTC),
            )  # fmt: skip
            endpoint.secret_enc = deps.cipher.encrypt("whsec_bench", f"{SECRET_CONTEXT}:{endpoint.id}")  # type: ignore[attr-defined]
            uow.add(endpoint)
            ids.append(endpoint.id)
        await uow.commit()
    return ids


def _delivery(endpoint_id: str, body: dict[str, object], now: datetime) -> OutboxMessage:
    return OutboxMessage(
        channel=ob.Channel.WEBHOOK, recipient=endpoint_id, kind="contract.completed",
        text="合同签署完成", created_at=now, next_attempt_at=now, payload={"event": body},
    )  # fmt: skip


async def _deliver(deps: object, deliverer: Deliverer, rows: list[OutboxMessage]) -> float:
    async with deps.uow() as uow:  # type: ignore[attr-defined]
        for row in rows:
            uow.add(row)
        await uow.commit()
    started = time.perf_counter()
    stats = await deliverer.run_once()
    elapsed = time.perf_counter() - started
    assert stats.sent == len(rows), stats
    return len(rows) / elapsed


def _report(title: str, rates: dict[str, list[float]], unit: str) -> None:
    """Medians per row, as a ratio of the first row (the baseline), and every run's figure."""
    print(title)
    baseline = statistics.median(next(iter(rates.values())))
    for name, values in rates.items():
        median = statistics.median(values)
        runs = ", ".join(f"{v:.0f}" for v in values)
        print(
            f"  {name:22s} {median:7.0f} {unit}  {1000 / median:6.2f} ms  {median / baseline:5.2f}× baseline  ({runs})"
        )


async def main(database: str | None, commits: int, messages: int, repeat: int) -> None:
    folder = tempfile.mkdtemp(prefix="bench-hooks-")
    env = {
        "LABORSIGN_STORAGE__DATA_DIR": folder,
        "LABORSIGN_SECURITY__SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "LABORSIGN_INTEGRATIONS__ALLOW_PRIVATE_TARGETS": "true",
        "LABORSIGN_SMS__PROVIDER": "http",
        "LABORSIGN_SMS__HTTP_SECRET": "bench-bridge-secret",
    }
    runner, base, got = await _serve()
    env["LABORSIGN_SMS__HTTP_URL"] = base + "/sms"
    if database:
        env["LABORSIGN_DATABASE__URL"] = database
    config = load_config(environ=env)
    deps = build_deps(config)
    await deps.db.migrate()
    quiet = await _enterprise(deps, "无订阅企业", "91440101MA59BENCH1")
    busy = await _enterprise(deps, "三个订阅企业", "91440101MA59BENCH2")
    await _endpoints(deps, busy, base, 3)
    rates: dict[str, list[float]] = {"baseline": [], "event, no endpoint": [], "event, 3 endpoints": []}
    for _ in range(repeat):
        rates["baseline"].append(await _commits(deps, quiet, commits, events=False))
        rates["event, no endpoint"].append(await _commits(deps, quiet, commits, events=True))
        rates["event, 3 endpoints"].append(await _commits(deps, busy, commits, events=True))
    _report(f"{deps.db.dialect}: {commits} commits, medians of {repeat}:", rates, "commits/s")

    async with deps.uow() as uow:  # what phase 1 wrote is not phase 2's to send
        await uow.session.execute(outbox.delete())
        await uow.commit()
    hooks = await _endpoints(deps, busy, base, RECIPIENTS)
    webhook = Deliverer(deps, {ob.Channel.WEBHOOK: WebhookSender(deps, deps.target_policy)}, limits={})
    import aiohttp

    session = aiohttp.ClientSession()
    sms = Deliverer(deps, {ob.Channel.SMS: HttpSmsSender(config.sms, deps.clock, lambda: session)}, limits={})
    body = {"id": "x", "type": "contract.completed", "created_at": "", "enterprise_id": busy, "data": {}}
    sends: dict[str, list[float]] = {"sms bridge (baseline)": [], "webhook": []}
    for _ in range(repeat):
        now = datetime.now(UTC)
        sms_rows = [
            ob.sms(f"139{i % RECIPIENTS:08d}", "notice", "合同已签署完成", now) for i in range(messages)
        ]
        sends["sms bridge (baseline)"].append(await _deliver(deps, sms, sms_rows))
        hook_rows = [_delivery(hooks[i % RECIPIENTS], body, now) for i in range(messages)]
        sends["webhook"].append(await _deliver(deps, webhook, hook_rows))
    _report(f"{messages} deliveries to {RECIPIENTS} recipients, medians of {repeat}:", sends, "msg/s")
    assert len(got) == 2 * messages * repeat
    await session.close()
    await webhook.senders[ob.Channel.WEBHOOK].close()  # type: ignore[attr-defined]
    await runner.cleanup()
    await deps.db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default=None)
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.database, args.commits, args.messages, args.repeat))
