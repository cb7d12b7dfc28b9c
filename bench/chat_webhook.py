"""Encrypted WeChat text messages through the whole webhook path — signature check, AES
decrypt, MsgId dedupe (a row per message), conversation step (load identity + conversation,
validate, save), encrypted passive answer — at a fixed offered rate, side by side in the same
run with a bare aiohttp handler that parses a same-size XML body and answers XML.

Open loop: requests leave on schedule whether or not earlier ones finished, and latency is
measured from the scheduled time (so queueing shows up in p99, not hidden by the client).
Each of `--users` followers is bound beforehand and half-way through the binding flow, so
every message is a real step (a re-prompt on a bad phone number: read, validate, write).

    .venv/bin/python bench/chat_webhook.py [--rate 200] [--seconds 10] [--users 200] [--db sqlite|URL]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import xmltodict
from aiohttp import web
from wechatpy.crypto import WeChatCrypto

from laborsign.bootstrap import create_app
from laborsign.config import load_config
from tests.fakes.chat_platforms import wechat_signature


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


async def offered(
    session: aiohttp.ClientSession, rate: float, seconds: float, make: object
) -> dict[str, float]:
    """Sends `rate` requests a second for `seconds`; returns throughput and latency figures."""
    latencies: list[float] = []
    errors = 0
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2

    async def one(i: int) -> None:
        nonlocal errors
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        url, params, body = make(i)  # type: ignore[operator]
        try:
            async with session.post(url, params=params, data=body) as resp:
                await resp.read()
                if resp.status != 200:
                    errors += 1
        except aiohttp.ClientError:
            errors += 1
        latencies.append(time.perf_counter() - due)

    began = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(total)))
    elapsed = time.perf_counter() - began - 0.2
    return {
        "done_per_s": len(latencies) / max(elapsed, 1e-9),
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "errors": errors,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--db", default="sqlite")
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    tmp = tempfile.mkdtemp(prefix="chatbench-")
    app_id, token = "wx" + secrets.token_hex(8), "tok" + secrets.token_hex(4)
    aes_key = base64.b64encode(os.urandom(32)).decode()[:-1]
    env = {
        "LABORSIGN_STORAGE__DATA_DIR": tmp,
        "LABORSIGN_SECURITY__SECRET_KEY": "bench-secret-0123456789abcdef0123",
        "LABORSIGN_JOBS__BACKGROUND": "false",
        "LABORSIGN_WECHAT__ENABLED": "true",
        "LABORSIGN_WECHAT__APP_ID": app_id,
        "LABORSIGN_WECHAT__APP_SECRET": "s",
        "LABORSIGN_WECHAT__TOKEN": token,
        "LABORSIGN_WECHAT__ENCODING_AES_KEY": aes_key,
    }
    if args.db != "sqlite":
        env["LABORSIGN_DATABASE__URL"] = args.db
    app = create_app(load_config(environ=env))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"

    async def bare(request: web.Request) -> web.Response:
        body = await request.read()
        parsed = xmltodict.parse(body)["xml"]
        return web.Response(text=f"<xml><Echo>{len(parsed)}</Echo></xml>", content_type="application/xml")

    bare_app = web.Application()
    bare_app.router.add_post("/bare", bare)
    bare_runner = web.AppRunner(bare_app, access_log=None)
    await bare_runner.setup()
    bare_site = web.TCPSite(bare_runner, "127.0.0.1", 0)
    await bare_site.start()
    bare_port = bare_site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    crypto = WeChatCrypto(token, aes_key, app_id)
    openids = [f"o{secrets.token_hex(12)}" for _ in range(args.users)]
    counter = iter(range(10**9))

    def encrypted(openid: str, text: str) -> tuple[str, dict[str, str], bytes]:
        msg_id = 10**12 + next(counter)
        ts, nonce = str(int(time.time())), secrets.token_hex(5)
        plain = (
            f"<xml><ToUserName>gh</ToUserName><FromUserName>{openid}</FromUserName><CreateTime>{ts}</CreateTime>"
            f"<MsgType>text</MsgType><Content>{text}</Content><MsgId>{msg_id}</MsgId></xml>"
        )
        body = crypto.encrypt_message(plain, nonce, ts)
        params = {
            "signature": wechat_signature(token, ts, nonce), "timestamp": ts, "nonce": nonce,
            "encrypt_type": "aes", "msg_signature": xmltodict.parse(body)["xml"]["MsgSignature"],
        }  # fmt: skip
        return f"{base}/webhooks/wechat", params, body.encode()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        for openid in openids:  # each follower starts the binding flow (one step each)
            url, params, body = encrypted(openid, "绑定")
            async with session.post(url, params=params, data=body) as resp:
                assert resp.status == 200, await resp.text()
        sample_body = encrypted(openids[0], "12345")[2]

        def chat_request(i: int) -> tuple[str, dict[str, str], bytes]:
            return encrypted(openids[i % len(openids)], "12345")  # a bad phone: re-prompt step

        def bare_request(i: int) -> tuple[str, dict[str, str], bytes]:
            return f"http://127.0.0.1:{bare_port}/bare", {}, sample_body

        # Pre-encrypt outside the timed loop would hide our own crypto cost on the client side;
        # both columns pay the same client cost except encryption, which is ~20 µs.
        rows = []
        for round_no in range(2):
            for name, make in (
                ("bare aiohttp (XML parse)", bare_request),
                ("webhook full path", chat_request),
            ):
                figures = await offered(session, args.rate, args.seconds, make)
                rows.append((round_no, name, figures))
                print(
                    f"round {round_no}  {name:26s} offered {args.rate:6.0f}/s  done {figures['done_per_s']:7.1f}/s  "
                    f"p50 {figures['p50_ms']:7.1f} ms  p99 {figures['p99_ms']:8.1f} ms  errors {figures['errors']}",
                    flush=True,
                )
        for name in ("bare aiohttp (XML parse)", "webhook full path"):
            p50 = statistics.median(r[2]["p50_ms"] for r in rows if r[1] == name)
            p99 = statistics.median(r[2]["p99_ms"] for r in rows if r[1] == name)
            print(f"median  {name:26s} p50 {p50:7.1f} ms  p99 {p99:8.1f} ms")
    await runner.cleanup()
    await bare_runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
