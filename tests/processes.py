"""A real `laborsign serve` process for the tests that need one (crashes, memory): started
with the tests' configuration on a free port, followed through /proc."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    base: str

    @property
    def pid(self) -> int:
        return self.process.pid


@asynccontextmanager
async def serve(env: dict[str, str], log: Path, cwd: Path | None = None) -> AsyncIterator[Served]:
    """`cwd`: where it runs — a source folder there is imported before the installed package
    (python -m puts the working folder first), which is how a benchmark runs another checkout."""
    port = free_port()
    full = {**os.environ, **env, "LABORSIGN_SERVER__PORT": str(port), "LABORSIGN_SERVER__HOST": "127.0.0.1"}
    process = _start([sys.executable, "-m", "laborsign", "serve"], full, log, cwd)
    served = Served(process, f"http://127.0.0.1:{port}")
    try:
        await _until_healthy(served, log)
        yield served
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _start(argv: list[str], env: dict[str, str], log: Path, cwd: Path | None) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def _until_healthy(served: Served, log: Path) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):  # up to a minute on a busy machine
            if served.process.poll() is not None:
                raise AssertionError(f"laborsign serve exited: {_tail(log)}")
            try:
                async with http.get(served.base + "/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"laborsign serve never became healthy: {_tail(log)}")


def _parents() -> dict[int, int]:
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # "pid (comm) state ppid …": comm may hold spaces, so split after the last ')'.
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[int(entry.name)] = int(fields[1])
    return out


def descendants(pid: int) -> set[int]:
    parents = _parents()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


async def until_gone(pids: set[int], limit: float = 30.0) -> set[int]:
    """Waits for the processes to end (the state, not a duration, is what is asserted);
    returns those still running when the limit is reached."""
    for _ in range(int(limit / 0.1)):
        left = {pid for pid in pids if alive(pid)}
        if not left:
            return left
        await asyncio.sleep(0.1)
    return {pid for pid in pids if alive(pid)}


def kill_hard(served: Served) -> None:
    os.kill(served.pid, signal.SIGKILL)
    served.process.wait(timeout=30)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")
