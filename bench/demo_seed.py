"""How fast `laborsign demo` seeds: contracts per second into a fresh PostgreSQL database (or a
SQLite file), as the command reports it (the bulk part: employees, contracts, parties, events,
the indexes built afterwards and the statistics) and as the whole command's wall time; and what
it costs in CPU: user + system seconds of the command (with the loader processes it waits for)
and, on PostgreSQL, of the server backends serving its database (read from /proc for the pids
pg_stat_activity lists, sampled every 0.2 s, so a backend's last fraction of a sample is lost).
On a shared machine contracts per CPU-second move less with the load than contracts per second.

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
from dataclasses import dataclass
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.lists import PG_ADMIN, drop_pg, fresh_pg  # the same databases the list bench makes

SECRET = "bench-secret-key-0123456789abcdef"
RATE = re.compile(r"约 ([\d,]+) 份/秒")


@dataclass
class Run:
    told: float  # contracts/s as the command reports it (its bulk part)
    wall: float  # contracts/s over the whole command
    cli_cpu: float  # user + system seconds of the command and the processes it waited for
    server_cpu: float  # of the PostgreSQL backends serving its database

    def per_cpu(self, contracts: int) -> float:
        return contracts / max(self.cli_cpu + self.server_cpu, 1e-9)


TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float | None:
    """User + system seconds of a process so far, from /proc (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime: fields 14 and 15 of stat


async def watch_backends(name: str, seen: dict[int, float], stop: asyncio.Event) -> None:
    """Keeps, per backend pid of database `name`, the last CPU seconds read until `stop`."""
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        while True:
            pids = await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", name)
            for record in pids:
                cpu = proc_cpu(record["pid"])
                if cpu is not None:
                    seen[record["pid"]] = max(cpu, seen.get(record["pid"], 0.0))
            for pid in list(seen):  # those still alive but no longer listed
                cpu = proc_cpu(pid)
                if cpu is not None:
                    seen[pid] = max(cpu, seen[pid])
            try:
                await asyncio.wait_for(stop.wait(), 0.2)
                return
            except TimeoutError:
                pass
    finally:
        await admin.close()


def run_waited(
    argv: list[str], env: dict[str, str], cwd: str | None, folder: Path
) -> tuple[int, float, str, str]:
    """Runs the command to its end: exit code, its CPU seconds (and its reaped children's), output."""
    out, err = folder / "stdout", folder / "stderr"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(argv, env=env, stdout=stdout, stderr=stderr, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime, out.read_text(), err.read_text()


async def one(command: list[str], args: argparse.Namespace, label: str) -> Run:
    folder = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    name = f"bench_demo_{os.getpid()}"
    url = await fresh_pg(name) if args.db == "postgresql" else f"sqlite+aiosqlite:///{folder}/bench.db"
    env = {**os.environ, "LABORSIGN_DATABASE__URL": url, "LABORSIGN_STORAGE__DATA_DIR": str(folder / "data"),
           "LABORSIGN_SECURITY__SECRET_KEY": SECRET, "LABORSIGN_JOBS__BACKGROUND": "false"}  # fmt: skip
    argv = [*command, "demo", "--contracts", str(args.contracts)]
    if args.enterprises:
        argv += ["--enterprises", str(args.enterprises)]
    backends: dict[int, float] = {}
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_backends(name, backends, stop)) if args.db == "postgresql" else None
    started = time.perf_counter()
    code, cli_cpu, stdout, stderr = await asyncio.to_thread(run_waited, argv, env, args.cwd, folder)
    wall = time.perf_counter() - started
    stop.set()
    if watcher is not None:
        await watcher
        await drop_pg(name)
    if code != 0:
        raise SystemExit(f"{label}: laborsign demo failed: {stderr[-2000:]}")
    found = RATE.search(stdout)
    told = float(found.group(1).replace(",", "")) if found else float("nan")
    first = stdout.strip().splitlines()[0]
    run = Run(told, args.contracts / wall, cli_cpu, sum(backends.values()))
    print(
        f"{label}: {told:,.0f} contracts/s told, {run.wall:,.0f}/s over {wall:.1f} s wall, "
        f"CPU {cli_cpu:.1f} s command + {run.server_cpu:.1f} s server = "
        f"{run.per_cpu(args.contracts):,.0f} contracts/CPU-s | {first}",
        flush=True,
    )
    return run


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
    runs: dict[str, list[Run]] = {"this": [], "baseline": []}
    for _ in range(args.rounds):
        if args.baseline:
            runs["baseline"].append(await one([args.baseline], args, "baseline"))
        runs["this"].append(await one(this, args, "this"))
    n = args.contracts
    print(
        "| command | told contracts/s | wall contracts/s | CPU s command | CPU s server | contracts/CPU-s |"
    )
    print("|---|---|---|---|---|---|")
    for label, figures in runs.items():
        if figures:
            med = statistics.median
            print(
                f"| {label} | {med(f.told for f in figures):,.0f} | {med(f.wall for f in figures):,.0f} "
                f"| {med(f.cli_cpu for f in figures):.1f} | {med(f.server_cpu for f in figures):.1f} "
                f"| {med(f.per_cpu(n) for f in figures):,.0f} |"
            )
    if runs["baseline"]:
        med = statistics.median
        told = med(f.told for f in runs["this"]) / med(f.told for f in runs["baseline"])
        cpu = med(f.per_cpu(n) for f in runs["this"]) / med(f.per_cpu(n) for f in runs["baseline"])
        print(f"ratio this / baseline (medians): {told:.2f}x contracts/s told, {cpu:.2f}x contracts/CPU-s")


if __name__ == "__main__":
    asyncio.run(main())
