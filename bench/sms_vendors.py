"""SMS senders side by side: how many messages a second one process hands to a vendor through
the official SDKs (blocking clients on the vendor thread pool, blocking.py) against the aiohttp
bridge sender (provider "http") as the baseline, each against its local fake on loopback (the
fakes check every signature). Eight sends at a time, as the outbox deliverer does.

Run: .venv/bin/python bench/sms_vendors.py [--messages 300] [--repeat 3]

Read the ratios: the fakes answer at once, so this is the platform's own cost per message
(SDK request building, signing, a new HTTP connection each time for Aliyun's and Tencent's
clients, the thread hop), not the vendors' latency, which dominates in real life.

Measured 2026-12-01 on the 2-core machine while other suites ran (load ~9), 300 messages,
medians of 3: http bridge 2,249 msg/s; Aliyun SDK 513 msg/s (0.23×); Tencent Cloud SDK
319 msg/s (0.14×). A 10,000-row bulk invitation is then ~20-30 s of this process's work
spread over the deliverer's passes, well under what the vendors' own rate limits allow."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiohttp import web

from laborsign.bots.sms import HttpSmsSender
from laborsign.bots.sms_vendors import AliyunSmsSender, TencentSmsSender
from laborsign.config import SmsConfig
from laborsign.core.clock import SystemClock
from laborsign.core.outbox import sms
from laborsign.core.sms_templates import KINDS
from tests.fakes.aliyun_sms import FakeAliyunSms
from tests.fakes.sms_bridge import FakeSmsBridge
from tests.fakes.tencent_sms import FakeTencentSms

CONCURRENCY = 8


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def _run(sender: Any, n: int) -> float:
    gate = asyncio.Semaphore(CONCURRENCY)
    now = datetime.now(UTC)

    async def one(i: int) -> None:
        async with gate:
            await sender.send(sms(f"139{i:08d}", "sms_code", "code", now, purpose="login", code=f"{i % 1000000:06d}"))

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return n / (time.perf_counter() - started)


async def main(messages: int, repeat: int) -> None:
    templates = {k.key: "T" for k in KINDS}
    aliyun = FakeAliyunSms(templates={"T": "验证码${code}"})
    tencent = FakeTencentSms(templates={"T": "验证码{1}"})
    bridge = FakeSmsBridge(now=time.time)
    runners = []
    urls = {}
    for name, fake in (("aliyun", aliyun), ("tencent", tencent), ("http", bridge)):
        runner, url = await _serve(fake.app())
        runners.append(runner)
        urls[name] = url
    session = aiohttp.ClientSession()
    senders = {
        "http (aiohttp bridge, baseline)": HttpSmsSender(
            SmsConfig(provider="http", http_url=urls["http"] + "/sms", http_secret=bridge.secret), SystemClock(), lambda: session
        ),
        "aliyun (Tea SDK)": AliyunSmsSender(
            SmsConfig(provider="aliyun", aliyun_access_key_id=aliyun.access_key_id,
                      aliyun_access_key_secret=aliyun.access_key_secret, aliyun_endpoint=urls["aliyun"], templates=templates)
        ),
        "tencent (tencentcloud SDK)": TencentSmsSender(
            SmsConfig(provider="tencent", tencent_secret_id=tencent.secret_id, tencent_secret_key=tencent.secret_key,
                      tencent_sdk_app_id=tencent.sdk_app_id, tencent_endpoint=urls["tencent"], templates=templates)
        ),
    }  # fmt: skip
    rates: dict[str, list[float]] = {name: [] for name in senders}
    for _ in range(repeat):
        for name, sender in senders.items():
            rates[name].append(await _run(sender, messages))
    baseline = statistics.median(rates["http (aiohttp bridge, baseline)"])
    print(f"{messages} messages, {CONCURRENCY} at a time, medians of {repeat}:")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"  {name:34s} {median:8.0f} msg/s   {median / baseline:5.2f}× baseline   ({', '.join(f'{v:.0f}' for v in values)})")
    assert aliyun.refused_signatures == 0 and tencent.refused_signatures == 0
    assert len(aliyun.sent) == len(tencent.sent) == messages * repeat
    await session.close()
    for runner in runners:
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.repeat))
