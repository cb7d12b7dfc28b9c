"""Saturation of the two hot paths of issue 16 against bare aiohttp handlers, in one run:

- `GET /api/v1/me` with a session cookie (distinct enterprises' admins, one per connection)
  against a bare aiohttp handler answering JSON;
- an encrypted WeChat text message through the whole webhook path (signature, AES decrypt,
  replay guard, MsgId dedupe, a conversation step — a bad phone number re-prompted in the
  binding flow — stored, encrypted passive answer) against a bare aiohttp handler that parses
  the same-size XML and answers XML. Every message is newly encrypted and signed with wechatpy
  (a new MsgId and nonce), from `--users` followers in turn.

The servers are real processes: `laborsign serve` on SQLite and on PostgreSQL (a fresh database
at `--pg`), and the bare handlers in another process. The load is closed loop (`--connections`
requests in flight, the next one leaves when one is answered) from a client process of its
own that times itself; targets are interleaved round by round. Prints per round, then medians
of req/s and p99 and the ratio to the bare handler, the server process's own CPU per request
(from /proc: on a shared, busy machine a steadier figure than req/s) and its ratio, and the
RSS of each serve process before and after the webhook rounds.

    .venv/bin/python bench/saturation.py [--rounds 3] [--seconds 5] [--connections 32]
        [--db sqlite,postgresql] [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--only me|webhook]
        [--baseline DIR] [--open-share 0.3] [--rss-messages 100000]

`--baseline DIR` runs the same against another checkout's code, side by side in the same run
(e.g. `mkdir /tmp/base-src && git archive b99d081 | tar -x -C /tmp/base-src`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import multiprocessing
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from tests.fakes.chat_platforms import wechat_signature
from tests.processes import free_port, rss_kib, serve

Request = tuple[str, str, dict[str, str], bytes | None, dict[str, str]]  # method, url, params, body, headers


# --- the bare handlers (a process of their own) -----------------------------------------------------


def bare_server(port: int) -> None:
    import xmltodict
    from aiohttp import web

    async def me(request: web.Request) -> web.Response:
        return web.json_response(
            {"user": {"id": request.cookies.get("laborsign_session", "")[:8]}, "side": "employer"}
        )

    async def echo(request: web.Request) -> web.Response:
        parsed = xmltodict.parse(await request.read())["xml"]
        return web.Response(text=f"<xml><Echo>{len(parsed)}</Echo></xml>", content_type="application/xml")

    app = web.Application()
    app.router.add_get("/me", me)
    app.router.add_post("/xml", echo)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# --- the load client (a process of its own) -----------------------------------------------------------


_CRYPTO: dict[str, Any] = {}


def wechat_message(spec: dict[str, Any], openid: str, text: str, msg_id: int) -> Request:
    from wechatpy.crypto import WeChatCrypto

    crypto = _CRYPTO.get(spec["app_id"])
    if crypto is None:
        crypto = _CRYPTO[spec["app_id"]] = WeChatCrypto(spec["token"], spec["aes_key"], spec["app_id"])
    ts, nonce = str(int(time.time())), secrets.token_hex(5)
    plain = (
        f"<xml><ToUserName>gh</ToUserName><FromUserName>{openid}</FromUserName><CreateTime>{ts}</CreateTime>"
        f"<MsgType>text</MsgType><Content>{text}</Content><MsgId>{msg_id}</MsgId></xml>"
    )
    body = crypto.encrypt_message(plain, nonce, ts)
    encrypt = body.split("<Encrypt><![CDATA[", 1)[1].split("]]>", 1)[0]
    signed = "".join(sorted([spec["token"], ts, nonce, encrypt]))
    params = {
        "signature": wechat_signature(spec["token"], ts, nonce), "timestamp": ts, "nonce": nonce,
        "encrypt_type": "aes", "msg_signature": hashlib.sha1(signed.encode()).hexdigest(),
    }  # fmt: skip
    return "POST", spec["base"] + "/webhooks/wechat", params, body.encode(), {}


def make_requests(target: dict[str, Any]) -> Callable[[int, int], Request]:
    kind = target["kind"]
    if kind == "me":
        cookies = target["cookies"]
        return lambda conn, i: ("GET", target["url"], {}, None, {"Cookie": cookies[conn % len(cookies)]})
    if kind == "xml":
        sample = target["sample"].encode()
        return lambda conn, i: ("POST", target["url"], {}, sample, {})
    openids, first = target["openids"], target["first_msg_id"]
    step = target["connections"]

    def webhook(conn: int, i: int) -> Request:
        n = i * step + conn  # distinct across connections and rounds
        return wechat_message(target, openids[n % len(openids)], target["text"], first + n)

    return webhook


async def closed_loop(target: dict[str, Any], seconds: float, connections: int) -> dict[str, Any]:
    make = make_requests(target)
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:

        async def worker(conn: int) -> None:
            i = 0
            while time.perf_counter() < deadline:
                method, url, params, body, headers = make(conn, i)
                i += 1
                began = time.perf_counter()
                try:
                    async with http.request(method, url, params=params, data=body, headers=headers) as resp:
                        text = await resp.read()
                        if resp.status != 200 or (target["kind"] == "webhook" and b"<Encrypt>" not in text):
                            errors.append(f"{resp.status} {text[:200]!r}")
                except aiohttp.ClientError as exc:
                    errors.append(repr(exc))
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "req_s": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else float("nan"),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        if latencies
        else float("nan"),
        "done": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }


async def open_loop(target: dict[str, Any], seconds: float, rate: float) -> dict[str, Any]:
    """`rate` requests a second on schedule, whether or not earlier ones were answered; the
    latency counts from when each was due (queueing shows in the tail, not in the client)."""
    make = make_requests(target)
    latencies: list[float] = []
    errors: list[str] = []
    total = int(rate * seconds)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:
        start = time.perf_counter() + 0.2

        async def one(i: int) -> None:
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            method, url, params, body, headers = make(i % target["connections"], i // target["connections"])
            try:
                async with http.request(method, url, params=params, data=body, headers=headers) as resp:
                    text = await resp.read()
                    if resp.status != 200 or b"<Encrypt>" not in text:
                        errors.append(f"{resp.status} {text[:200]!r}")
            except aiohttp.ClientError as exc:
                errors.append(repr(exc))
            latencies.append(time.perf_counter() - due)

        await asyncio.gather(*(one(i) for i in range(total)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "req_s": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "done": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }


def client_process(target: dict[str, Any], seconds: float, connections: int, out: Any, rate: float = 0) -> None:
    if rate:
        out.put(asyncio.run(open_loop(target, seconds, rate)))
    else:
        out.put(asyncio.run(closed_loop(target, seconds, connections)))


def measure(target: dict[str, Any], seconds: float, connections: int, rate: float = 0) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=client_process, args=(target, seconds, connections, out, rate))
    proc.start()
    result = out.get(timeout=seconds + 120)
    proc.join()
    return dict(result)


# --- set-up through the real API ----------------------------------------------------------------------


def credit_code(n: int) -> str:
    from laborsign.core.values import credit_code_check_char

    first17 = f"91350100M{n:08d}"
    return first17 + credit_code_check_char(first17)


async def admin_cookies(base: str, count: int, seed: int) -> list[str]:
    """`count` enterprises registered through the API; their admins' session cookies."""
    cookies = []
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        for n in range(count):
            phone = f"139{seed:02d}{n:06d}"
            async with http.post(
                base + "/api/v1/sms/codes", json={"phone": phone, "purpose": "register"}
            ) as r:
                assert r.status == 202, await r.text()
            async with http.get(base + f"/api/v1/dev/sms?phone={phone}") as r:
                code = (await r.json())["items"][0]["code"]
            payload = {
                "name": f"压测企业{seed}-{n}有限公司", "credit_code": credit_code(seed * 10_000 + n),
                "org_type": "enterprise", "admin_name": "张管理", "admin_phone": phone, "code": code,
                "agree_terms": True,
            }  # fmt: skip
            async with http.post(base + "/api/v1/enterprises", json=payload) as r:
                assert r.status == 201, await r.text()
                morsel = r.cookies["laborsign_session"]
                cookies.append(f"laborsign_session={morsel.value}")
            async with http.get(base + "/api/v1/me", headers={"Cookie": cookies[-1]}) as r:
                assert r.status == 200 and (await r.json())["member"]["role"] == "admin", await r.text()
    return cookies


async def bind_followers(spec: dict[str, Any], openids: list[str]) -> None:
    """Each follower starts the binding flow, so that every measured message is a real step."""
    async with aiohttp.ClientSession() as http:
        for n, openid in enumerate(openids):
            _, url, params, body, _ = wechat_message(spec, openid, "绑定", 10**11 + n)
            async with http.post(url, params=params, data=body) as r:
                assert r.status == 200 and b"<Encrypt>" in await r.read()


@contextlib.asynccontextmanager
async def postgres_database(admin_url: str) -> AsyncIterator[str]:
    import asyncpg

    name = "satbench_" + secrets.token_hex(4)
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + "/" + name
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def serve_env(tmp: str, db_url: str | None, wechat: dict[str, str]) -> dict[str, str]:
    env = {
        "LABORSIGN_STORAGE__DATA_DIR": tmp,
        "LABORSIGN_SECURITY__SECRET_KEY": "bench-secret-0123456789abcdef0123",
        "LABORSIGN_JOBS__BACKGROUND": "false",
        "LABORSIGN_SECURITY__SMS_CODES_PER_IP_BEFORE_CAPTCHA": "100000",
        "LABORSIGN_SECURITY__SMS_CODES_PER_IP_HOUR": "100000",
        "LABORSIGN_WECHAT__ENABLED": "true",
        "LABORSIGN_WECHAT__APP_ID": wechat["app_id"],
        "LABORSIGN_WECHAT__APP_SECRET": "s",
        "LABORSIGN_WECHAT__TOKEN": wechat["token"],
        "LABORSIGN_WECHAT__ENCODING_AES_KEY": wechat["aes_key"],
    }
    if db_url:
        env["LABORSIGN_DATABASE__URL"] = db_url
    return env


# --- the run ------------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (from /proc): the server's own cost per request
    does not depend on what else the shared machine is doing, unlike its throughput."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(args: argparse.Namespace, bare_port: int, bare_pid: int) -> None:
    wechat = {
        "app_id": "wx" + secrets.token_hex(8),
        "token": "tok" + secrets.token_hex(4),
        "aes_key": base64.b64encode(os.urandom(32)).decode()[:-1],
    }
    # Each serve process: "sqlite", "postgresql", and with --baseline "sqlite before" etc.
    dbs = [d for d in args.db.split(",") if d]
    checkouts = [("", None)] + ([(" before", Path(args.baseline))] if args.baseline else [])
    dbs = [db + label for db in dbs for label, _ in checkouts]
    async with contextlib.AsyncExitStack() as stack:
        served: dict[str, Any] = {}
        for db in dbs:
            kind, _, label = db.partition(" ")
            src = Path(args.baseline) if label else None
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"satbench-{kind}-"))
            url = None if kind == "sqlite" else await stack.enter_async_context(postgres_database(args.pg))
            log = Path(tmp) / "serve.log"
            served[db] = await stack.enter_async_context(serve(serve_env(tmp, url, wechat), log, cwd=src))
        await until_up(f"http://127.0.0.1:{bare_port}/me")

        targets: dict[str, dict[str, Any]] = {"bare JSON": {"kind": "me", "url": f"http://127.0.0.1:{bare_port}/me",
                                                            "cookies": ["laborsign_session=" + "x" * 32]}}  # fmt: skip
        openids = [f"o{secrets.token_hex(12)}" for _ in range(args.users)]
        sample = wechat_message({**wechat, "base": ""}, openids[0], "12345", 1)[3]
        targets["bare XML"] = {
            "kind": "xml",
            "url": f"http://127.0.0.1:{bare_port}/xml",
            "sample": sample.decode(),
        }  # type: ignore[union-attr]
        for seed, (db, srv) in enumerate(served.items()):
            cookies = await admin_cookies(srv.base, args.connections, seed)
            targets[f"/me {db}"] = {"kind": "me", "url": srv.base + "/api/v1/me", "cookies": cookies}
            spec = {**wechat, "base": srv.base}
            await bind_followers(spec, openids)
            targets[f"webhook {db}"] = {**spec, "kind": "webhook", "openids": openids, "text": "12345",
                                        "connections": args.connections, "first_msg_id": 10**12}  # fmt: skip

        order = []
        if args.only in ("", "me"):
            order += ["bare JSON", *[f"/me {db}" for db in dbs]]
        if args.only in ("", "webhook"):
            order += ["bare XML", *[f"webhook {db}" for db in dbs]]
        rss_before: dict[str, int] = {}
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in order}
        for round_no in range(args.rounds):
            for name in order:
                target = targets[name]
                if target["kind"] == "webhook":
                    db = name.removeprefix("webhook ")
                    if round_no == 1:  # after one round of warm-up: caches, pools, allocator
                        rss_before[db] = rss_kib(served[db].pid)
                    target["first_msg_id"] = 10**12 + round_no * 10**8
                pid = bare_pid if name.startswith("bare") else served[name.split(" ", 1)[1]].pid
                cpu = cpu_seconds(pid)
                figures = measure(target, args.seconds, args.connections)
                figures["cpu_ms"] = (cpu_seconds(pid) - cpu) * 1000 / max(figures["done"], 1)
                results[name].append(figures)
                print(
                    f"round {round_no}  {name:25s} {figures['req_s']:8.1f} req/s  p50 {figures['p50_ms']:7.1f} ms  "
                    f"p99 {figures['p99_ms']:7.1f} ms  server CPU {figures['cpu_ms']:6.3f} ms/req  errors {figures['errors']} {figures['first_error'][:120]}",
                    flush=True,
                )
        summary = {}
        print(f"\nmedians of {args.rounds} rounds, {args.connections} connections, {args.seconds:g} s each")
        for name in order:
            req_s = statistics.median(r["req_s"] for r in results[name])
            p99 = statistics.median(r["p99_ms"] for r in results[name])
            cpu_ms = statistics.median(r["cpu_ms"] for r in results[name])
            baseline = "bare JSON" if name in ("bare JSON", *(f"/me {db}" for db in dbs)) else "bare XML"
            ratio = (
                req_s / statistics.median(r["req_s"] for r in results[baseline]) if results[baseline] else 0
            )
            bare_cpu = statistics.median(r["cpu_ms"] for r in results[baseline]) if results[baseline] else 0
            cpu_ratio = bare_cpu / cpu_ms if cpu_ms else 0
            summary[name] = {"req_s": round(req_s, 1), "p99_ms": round(p99, 1), "ratio": round(ratio, 4),
                             "cpu_ms": round(cpu_ms, 3), "cpu_ratio": round(cpu_ratio, 4)}  # fmt: skip
            print(f"  {name:25s} {req_s:8.1f} req/s  p99 {p99:7.1f} ms  ratio to {baseline} {ratio:6.1%}  "
                  f"server CPU {cpu_ms:6.3f} ms/req (bare's CPU / this {cpu_ratio:6.1%})")  # fmt: skip
        for db in dbs:
            if db in rss_before:
                after = rss_kib(served[db].pid)
                messages = sum(r["done"] for r in results[f"webhook {db}"][1:])
                change = after / rss_before[db] - 1
                summary[f"rss {db}"] = {
                    "before_kib": rss_before[db],
                    "after_kib": after,
                    "change": round(change, 4),
                }
                print(f"  RSS serve {db}: {rss_before[db]} KiB after warm-up, {after} KiB after {messages} more "
                      f"messages ({change:+.1%})")  # fmt: skip
        if args.open_share and args.only != "me":
            # Open loop at a share of each webhook target's own saturation (its median req/s).
            print(f"\nopen loop at {args.open_share:.0%} of each target's saturation, {args.seconds:g} s")
            for name in [n for n in order if n.startswith("webhook ")]:
                rate = summary[name]["req_s"] * args.open_share
                targets[name]["first_msg_id"] = 10**12 + 90 * 10**8
                figures = measure(targets[name], args.seconds, args.connections, rate=rate)
                summary[f"open {name}"] = {k: round(figures[k], 1) for k in ("req_s", "p50_ms", "p99_ms")}
                print(f"  {name:25s} offered {rate:7.1f}/s  done {figures['req_s']:7.1f}/s  p50 "
                      f"{figures['p50_ms']:7.1f} ms  p99 {figures['p99_ms']:7.1f} ms  errors {figures['errors']} "
                      f"{figures['first_error'][:120]}", flush=True)  # fmt: skip
        if args.rss_messages and args.only != "me":
            # RSS of each serve process (this checkout's) over many more messages, closed loop.
            for db in [d for d in dbs if " " not in d]:
                name = f"webhook {db}"
                start_kib, sent, chunk = rss_kib(served[db].pid), 0, 0
                while sent < args.rss_messages:
                    targets[name]["first_msg_id"] = 10**12 + (100 + chunk) * 10**8
                    sent += measure(targets[name], 20, args.connections)["done"]
                    chunk += 1
                end_kib = rss_kib(served[db].pid)
                summary[f"rss over {sent} {db}"] = {"before_kib": start_kib, "after_kib": end_kib,
                                                    "change": round(end_kib / start_kib - 1, 4)}  # fmt: skip
                print(f"  RSS serve {db}: {start_kib} KiB, {end_kib} KiB after {sent} more messages "
                      f"({end_kib / start_kib - 1:+.1%})", flush=True)  # fmt: skip
        print(json.dumps(summary, ensure_ascii=False))


async def until_up(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError("the bare server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--baseline", default="", help="another checkout's source folder, measured beside")
    parser.add_argument("--only", choices=("", "me", "webhook"), default="")
    parser.add_argument("--open-share", type=float, default=0,
                        help="then open loop at this share of each webhook target's saturation (e.g. 0.3)")
    parser.add_argument("--rss-messages", type=int, default=0,
                        help="then this many more webhook messages per serve process, RSS before and after")
    parser.add_argument("--bare-server", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_server(args.bare_server)
        return
    bare_port = free_port()
    bare = subprocess.Popen([sys.executable, __file__, "--bare-server", str(bare_port)])
    try:
        asyncio.run(run(args, bare_port, bare.pid))
    finally:
        bare.kill()


if __name__ == "__main__":
    main()
