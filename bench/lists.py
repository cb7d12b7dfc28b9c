"""Contract and roster lists over HTTP on `laborsign demo` data: page 1 of every view, the four
counts, the home page's numbers, a deep page (by offset and by cursor), search by worker name, phone and ID number, and
the employee list with the same searches — p50/p95 of sequential requests (one connection,
each request waits for the previous one), beside `GET /healthz` and `GET /api/v1/me` measured
in the same run as the floor every request pays.

    .venv/bin/python bench/lists.py --db postgresql --contracts 1000000 --enterprises 10
    .venv/bin/python bench/lists.py --db sqlite --contracts 100000
    .venv/bin/python bench/lists.py --db postgresql --reuse URL   # data seeded before

Seeding makes a fresh database (PostgreSQL at 127.0.0.1:5432, or a SQLite file in a temporary
folder) with `laborsign demo`, which prints its own rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import asyncpg

from tests.processes import serve

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def fresh_pg(name: str) -> str:
    """An empty PostgreSQL database of that name (dropped first if a run left one)."""
    await drop_pg(name)
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def drop_pg(name: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def seed(env: dict[str, str], args: argparse.Namespace) -> dict[str, str]:
    started = time.perf_counter()
    argv = [sys.executable, "-m", "laborsign", "demo", "--enterprises", str(args.enterprises),
            "--employees", str(args.employees), "--contracts", str(args.contracts)]  # fmt: skip
    done = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"laborsign demo failed: {done.stderr[-2000:]}")
    lines = done.stdout.strip().splitlines()
    print(lines[0], f"(wall {time.perf_counter() - started:.0f} s)")
    return dict(json.loads(lines[-1]))


class Client:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base, self.csrf = http, base, ""

    async def get(self, path: str) -> Any:
        async with self.http.get(self.base + path, headers={"X-CSRF-Token": self.csrf}) as resp:
            data = await resp.json()
            if resp.status != 200:
                raise SystemExit(f"GET {path} → {resp.status} {data}")
            return data

    async def login(self, phone: str) -> None:
        for _ in range(3):  # one code a minute per phone: a rerun may have to wait
            async with self.http.post(
                self.base + "/api/v1/sms/codes", json={"phone": phone, "purpose": "login"}
            ) as r:
                if r.status == 202:
                    break
                await asyncio.sleep(int((await r.json()).get("retry_after", 5)) + 1)
        code = (await self.get(f"/api/v1/dev/sms?phone={phone}"))["items"][0]["code"]
        body = {"side": "employer", "phone": phone, "code": code, "agree_terms": True}
        async with self.http.post(self.base + "/api/v1/auth/login", json=body) as resp:
            assert resp.status == 200, await resp.text()
            self.csrf = (await resp.json())["csrf"]


async def timed(client: Client, path: str, rounds: int) -> tuple[float, float, Any]:
    answer = None
    for _ in range(3):
        answer = await client.get(path)
    took = []
    for _ in range(rounds):
        start = time.perf_counter()
        answer = await client.get(path)
        took.append((time.perf_counter() - start) * 1000)
    return percentile(took, 0.5), percentile(took, 0.95), answer


async def targets(client: Client, database_url: str, enterprise_id: str) -> list[tuple[str, str]]:
    """The requests to time, with real names, phones and ID numbers read from the data."""
    first = await client.get("/api/v1/employees?per_page=1&page=37")
    employee = first["items"][0]
    detail = await client.get(f"/api/v1/employees/{employee['id']}")
    contracts = await client.get("/api/v1/contracts?per_page=1&page=101")
    worker = contracts["items"][0]
    id_number = await decrypt_id(database_url, worker["employee_id"])  # someone with a contract
    phone = await contract_phone(database_url, worker["id"])
    deep = await client.get("/api/v1/contracts?per_page=20&page=2500")
    out = [
        (f"page 1 of {view}", f"/api/v1/contracts?view={view}")
        for view in ("all", "awaiting_me", "awaiting_others", "completed")
    ]
    out += [
        ("counts", "/api/v1/contracts/counts"),
        ("home page numbers (dashboard summary)", "/api/v1/dashboard/summary"),
        ("deep page (page 2500, offset 49,980)", "/api/v1/contracts?per_page=20&page=2500"),
        ("deep page by cursor (after page 2500)", f"/api/v1/contracts?per_page=20&cursor={deep['next_cursor']}"),
        ("search: worker name (surname)", f"/api/v1/contracts?q={worker['worker_name'][:1]}"),
        ("search: worker full name", f"/api/v1/contracts?q={worker['worker_name']}"),
        ("search: phone prefix (7 digits)", f"/api/v1/contracts?q={phone[:7]}"),
        ("search: whole phone", f"/api/v1/contracts?q={phone}"),
        ("search: ID number", f"/api/v1/contracts?q={id_number}"),
        ("employees page 1", "/api/v1/employees"),
        ("employees deep page (page 2000)", "/api/v1/employees?page=2000"),
        ("employees: name (surname)", f"/api/v1/employees?q={detail['name'][:1]}"),
        ("employees: phone prefix", f"/api/v1/employees?q={(await employee_phone(database_url, employee['id']))[:7]}"),
        ("employees: ID number", f"/api/v1/employees?q={id_number}"),
    ]  # fmt: skip
    return out


async def _scalar(database_url: str, sql: str, *params: str) -> str:
    if database_url.startswith("postgresql"):
        conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
        try:
            return str(await conn.fetchval(sql.replace("?", "$1"), *params))
        finally:
            await conn.close()
    import sqlite3

    with sqlite3.connect(database_url.split("///", 1)[1]) as db:
        return str(db.execute(sql, params).fetchone()[0])


async def contract_phone(database_url: str, contract_id: str) -> str:
    return await _scalar(database_url, "SELECT worker_phone FROM contracts WHERE id = ?", contract_id)


async def employee_phone(database_url: str, employee_id: str) -> str:
    return await _scalar(database_url, "SELECT phone FROM employees WHERE id = ?", employee_id)


async def decrypt_id(database_url: str, employee_id: str) -> str:
    from laborsign.core.crypto import FieldCipher

    token = await _scalar(database_url, "SELECT id_number_enc FROM employees WHERE id = ?", employee_id)
    return FieldCipher(SECRET.encode()).decrypt(token, "employees.id_number")


SECRET = "bench-lists-secret-key-0123456789"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--contracts", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=10)
    parser.add_argument("--employees", type=int, default=0, help="default: contracts / 10")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument(
        "--reuse", help="database URL already seeded by this bench (with its login JSON in --login)"
    )
    parser.add_argument("--login", help="the JSON line laborsign demo printed, for --reuse")
    args = parser.parse_args()
    args.employees = args.employees or max(args.contracts // 10, 100)
    folder = Path(tempfile.mkdtemp(prefix="bench-lists-"))
    if args.reuse:
        url, login = args.reuse, json.loads(args.login)
    elif args.db == "postgresql":
        url = await fresh_pg("bench_lists")
    else:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
    env = {"LABORSIGN_DATABASE__URL": url, "LABORSIGN_STORAGE__DATA_DIR": str(folder / "data"),
           "LABORSIGN_SECURITY__SECRET_KEY": SECRET, "LABORSIGN_JOBS__BACKGROUND": "false",
           "LABORSIGN_SECURITY__SMS_CODES_PER_IP_BEFORE_CAPTCHA": "100000"}  # fmt: skip
    if args.reuse and os.environ.get("BENCH_DATA_DIR"):
        env["LABORSIGN_STORAGE__DATA_DIR"] = os.environ["BENCH_DATA_DIR"]
    if not args.reuse:
        login = seed(env, args)
        print(f"login: {json.dumps(login)}  data_dir: {env['LABORSIGN_STORAGE__DATA_DIR']}  url: {url}")
    jar = aiohttp.CookieJar(unsafe=True)  # the session cookie of a server at 127.0.0.1
    async with serve(env, folder / "serve.log") as served, aiohttp.ClientSession(cookie_jar=jar) as http:
        client = Client(http, served.base)
        await client.login(login["hr_phone"])
        counts = await client.get("/api/v1/contracts/counts")
        print(f"{args.db}: tenant holds {counts['all']:,} contracts; {args.rounds} sequential requests each")
        print("| request | p50 ms | p95 ms | items / total |")
        print("|---|---|---|---|")
        rows = [("baseline: GET /healthz", "/healthz"), ("baseline: GET /api/v1/me", "/api/v1/me")]
        rows += await targets(client, url, login["enterprise_id"])
        for label, path in rows:
            p50, p95, answer = await timed(client, path, args.rounds)
            size = ""
            if isinstance(answer, dict) and "items" in answer:
                size = f"{len(answer['items'])} / {answer.get('total', '')}"
            print(f"| {label} | {p50:.1f} | {p95:.1f} | {size} |", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
