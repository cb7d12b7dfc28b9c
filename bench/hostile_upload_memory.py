"""Memory of a `laborsign serve` process under the hostile uploads of issue 18, measured from
/proc (VmRSS of the server process, sampled every 20 ms): before, the peak while the attack
runs, and after it (the attack over, two seconds of quiet).

The attacks, each sent by `--clients` clients at once, `--rounds` times:
- `fields`: POST /api/v1/verify, multipart with 5,000 fields of 60 KB (300 MB, chunked);
- `json`: POST /api/v1/sms/codes, a 10 MB JSON body, chunked (no Content-Length).

`--baseline DIR` runs the same against another checkout's code, side by side in the same run
(e.g. main: `mkdir /tmp/main-src && git -C /work/main archive HEAD | tar -x -C /tmp/main-src`;
it runs with that folder as its working directory, so its package is imported).

    .venv/bin/python bench/hostile_upload_memory.py [--clients 4] [--rounds 3] [--baseline /tmp/main-src]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.processes import rss_kib, serve

VALUE = b"x" * 60_000


async def many_fields() -> object:
    for n in range(5000):  # distinct names: every field is kept by a reader that keeps fields
        yield b'--XyZ\r\nContent-Disposition: form-data; name="f%d"\r\n\r\n' % n + VALUE + b"\r\n"
    yield b"--XyZ--\r\n"


async def big_json() -> object:
    yield b'{"phone": "13800138000", "purpose": "login", "pad": "'
    for _ in range(40):
        yield b" " * (256 * 1024)
    yield b'"}'


ATTACKS = {
    "fields": ("/api/v1/verify", many_fields, "multipart/form-data; boundary=XyZ"),
    "json": ("/api/v1/sms/codes", big_json, "application/json"),
}


async def attack(base: str, kind: str, clients: int, rounds: int) -> list[int]:
    path, body, ctype = ATTACKS[kind]
    statuses: list[int] = []
    async with aiohttp.ClientSession() as http:

        async def one() -> None:
            try:
                async with http.post(base + path, data=body(), headers={"Content-Type": ctype}) as resp:
                    statuses.append(resp.status)
                    await resp.read()
            except aiohttp.ClientError:
                statuses.append(0)  # the server closed the connection on a refused body

        for _ in range(rounds):
            await asyncio.gather(*(one() for _ in range(clients)))
    return statuses


async def sample(pid: int, stop: asyncio.Event, into: list[int]) -> None:
    while not stop.is_set():
        into.append(rss_kib(pid))
        await asyncio.sleep(0.02)


async def measure(label: str, src: Path | None, kind: str, clients: int, rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "LABORSIGN_STORAGE__DATA_DIR": str(Path(tmp) / "data"),
            "LABORSIGN_SECURITY__SECRET_KEY": "bench-secret-0123456789abcdef",
            "LABORSIGN_JOBS__BACKGROUND": "false",
        }
        async with serve(env, Path(tmp) / "serve.log", cwd=src or Path(tmp)) as served:
            async with aiohttp.ClientSession() as http:  # warm: first requests load modules
                for _ in range(3):
                    async with http.get(served.base + "/api/v1/openapi.json") as resp:
                        await resp.read()
            await asyncio.sleep(1)
            before = rss_kib(served.pid)
            samples: list[int] = []
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample(served.pid, stop, samples))
            started = time.perf_counter()
            statuses = await attack(served.base, kind, clients, rounds)
            elapsed = time.perf_counter() - started
            await asyncio.sleep(2)
            stop.set()
            await sampler
            after = rss_kib(served.pid)
    return {
        "code": label, "attack": kind, "before_mb": round(before / 1024, 1),
        "peak_mb": round(max(samples) / 1024, 1), "after_mb": round(after / 1024, 1),
        "answers": sorted(set(statuses)), "seconds": round(elapsed, 2),
    }  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant; medians are shown")
    parser.add_argument("--baseline", type=Path, help="another checkout's source folder (e.g. main)")
    args = parser.parse_args()
    variants: list[tuple[str, Path | None]] = [("this checkout", None)]
    if args.baseline:
        variants.insert(0, (f"baseline {args.baseline}", args.baseline))
    for kind in ATTACKS:
        for label, src in variants:
            runs = [await measure(label, src, kind, args.clients, args.rounds) for _ in range(args.repeat)]
            row = dict(runs[0])
            for key in ("before_mb", "peak_mb", "after_mb", "seconds"):
                row[key] = statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]
            row["answers"] = sorted({a for r in runs for a in r["answers"]})  # type: ignore[attr-defined]
            print(row, flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    asyncio.run(main())
