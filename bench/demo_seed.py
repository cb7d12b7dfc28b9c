"""How fast `laborsign demo` seeds: contracts per second into a fresh PostgreSQL database (or a
SQLite file), as the command reports it (the bulk part: employees, contracts, parties, events,
the indexes built afterwards and the statistics) and as the whole command's wall time.

    .venv/bin/python bench/demo_seed.py --contracts 200000
    .venv/bin/python bench/demo_seed.py --contracts 200000 --rounds 3 \
        --baseline /work/main/.venv/bin/laborsign   # another checkout's command, same run

With --baseline the two commands run interleaved, round by round; medians and the ratio are
printed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.lists import drop_pg, fresh_pg  # the same databases the list bench makes

SECRET = "bench-secret-key-0123456789abcdef"
RATE = re.compile(r"约 ([\d,]+) 份/秒")


async def one(command: list[str], args: argparse.Namespace, label: str) -> tuple[float, float]:
    folder = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    name = f"bench_demo_{os.getpid()}"
    url = await fresh_pg(name) if args.db == "postgresql" else f"sqlite+aiosqlite:///{folder}/bench.db"
    env = {**os.environ, "LABORSIGN_DATABASE__URL": url, "LABORSIGN_STORAGE__DATA_DIR": str(folder / "data"),
           "LABORSIGN_SECURITY__SECRET_KEY": SECRET, "LABORSIGN_JOBS__BACKGROUND": "false"}  # fmt: skip
    argv = [*command, "demo", "--contracts", str(args.contracts)]
    if args.enterprises:
        argv += ["--enterprises", str(args.enterprises)]
    started = time.perf_counter()
    done = await asyncio.to_thread(
        subprocess.run, argv, env=env, capture_output=True, text=True, check=False, cwd=args.cwd
    )
    wall = time.perf_counter() - started
    if args.db == "postgresql":
        await drop_pg(name)
    if done.returncode != 0:
        raise SystemExit(f"{label}: laborsign demo failed: {done.stderr[-2000:]}")
    found = RATE.search(done.stdout)
    told = float(found.group(1).replace(",", "")) if found else float("nan")
    first = done.stdout.strip().splitlines()[0]
    print(
        f"{label}: {told:,.0f} contracts/s told, {args.contracts / wall:,.0f}/s over {wall:.1f} s wall | {first}"
    )
    return told, args.contracts / wall


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--contracts", type=int, default=200_000)
    parser.add_argument("--enterprises", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--baseline", help="another `laborsign` executable to measure in the same run")
    parser.add_argument("--cwd", help="folder the commands run in")
    args = parser.parse_args()
    this = [sys.executable, "-m", "laborsign"]
    runs: dict[str, list[tuple[float, float]]] = {"this": [], "baseline": []}
    for _ in range(args.rounds):
        if args.baseline:
            runs["baseline"].append(await one([args.baseline], args, "baseline"))
        runs["this"].append(await one(this, args, "this"))
    print("| command | told contracts/s (median) | wall contracts/s (median) |")
    print("|---|---|---|")
    for label, figures in runs.items():
        if figures:
            told = statistics.median(f[0] for f in figures)
            wall = statistics.median(f[1] for f in figures)
            print(f"| {label} | {told:,.0f} | {wall:,.0f} |")
    if runs["baseline"]:
        ratio = statistics.median(f[0] for f in runs["this"]) / statistics.median(
            f[0] for f in runs["baseline"]
        )
        print(f"ratio this / baseline (told): {ratio:.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
