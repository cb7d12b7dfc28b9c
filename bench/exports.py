"""Exports of issue 14 over HTTP: 100,000 roster rows and 100,000 contracts as xlsx, and the
contracts as JSON Lines — wall time and the process's RSS growth while it answers.

Run: .venv/bin/python bench/exports.py [--rows 100000] [--repeat 3] [--backends sqlite,postgresql]

The rows are inserted straight into a migrated database (ID numbers encrypted with the app's
own cipher), then each export is downloaded through a real HTTP server in this process while a
thread samples VmRSS. Baselines measured in the same run: reading the same records through the
list use case in the same pages without writing anything (what the database and row building
cost), and writing the same ledger rows with openpyxl's default in-memory workbook (what a
non-streaming export would hold in memory)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from aiohttp.test_utils import TestServer
from onboarding_bulk import Session, bench_stack, register
from openpyxl import Workbook
from sqlalchemy import insert, text

from laborsign.api.http import DEPS
from laborsign.core.exports import CONTRACT_COLUMNS, ledger_labels
from laborsign.core.ids import new_id
from laborsign.core.services import exports as export_svc
from laborsign.core.services.accounts import resolve_session
from laborsign.storage.contracts import contracts, parties
from laborsign.storage.roster import employees


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class PeakRss:
    """Samples VmRSS in a thread while the block runs; `growth` is the peak above the start."""

    def __enter__(self) -> PeakRss:
        self.start = self.peak = rss_kib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_kib())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kib())

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.start) / 1024


async def fill(server: TestServer, rows: int) -> None:
    deps = server.app[DEPS]  # type: ignore[index]
    async with deps.uow() as uow:
        session = uow.session  # type: ignore[attr-defined]
        enterprise_id, admin_id = (
            await session.execute(text("SELECT enterprise_id, user_id FROM members LIMIT 1"))
        ).one()
        now = datetime(2026, 12, 1, tzinfo=UTC)
        for start in range(0, rows, 5000):
            people, deals, sides = [], [], []
            for i in range(start, min(rows, start + 5000)):
                number = f"440101199{i % 10}0307{i % 1000:03d}X"
                eid, cid = new_id(), new_id()
                people.append({
                    "id": eid, "enterprise_id": enterprise_id, "name": f"员工{i}", "phone": f"139{i:08d}",
                    "gender": "male", "id_type": "resident_id",
                    "id_number_enc": deps.cipher.encrypt(number, "employees.id_number"),
                    "id_number_hash": None, "id_number_masked": number[:4] + "**********" + number[-4:],
                    "birth_date": date(1990, 3, 7), "address": "广州市", "emergency_contact": {},
                    "position": "装配工", "hire_date": date(2026, 1, 1) + timedelta(days=i % 300),
                    "status": "active", "created_at": now + timedelta(seconds=i),
                })  # fmt: skip
                deals.append({
                    "id": cid, "enterprise_id": enterprise_id, "batch_id": uuid.uuid4().hex, "name": "劳动合同",
                    "employee_id": eid, "worker_name": f"员工{i}", "worker_phone": f"139{i:08d}",
                    "created_by": admin_id, "created_at": now + timedelta(seconds=i), "source": "template",
                    "document_blob": "0" * 64, "document_sha256": f"{i:064x}", "original_blob": "0" * 64,
                    "original_sha256": f"{i:064x}", "files": [], "controls": [], "template_ids": [],
                    "values": {"contract_start_date": "2026-12-01", "contract_end_date": "2029-11-30",
                               "probation_months": "3", "monthly_wage": "6500", "position": "装配工"},
                    "enterprise_party": {"name": "广州测试科技有限公司", "credit_code": "91350100M000100Y43"},
                    "status": "completed", "launched_at": now, "completed_at": now, "version": 2,
                    "signing_order": "parallel",
                })  # fmt: skip
                for role in ("worker", "enterprise"):
                    sides.append({
                        "id": new_id(), "contract_id": cid, "role": role, "name": f"员工{i}", "status": "signed",
                        "signed_at": now,
                    })  # fmt: skip
            await session.execute(insert(employees), people)
            await session.execute(insert(contracts), deals)
            await session.execute(insert(parties), sides)
        await uow.commit()


async def timed_export(s: Session, path: str) -> tuple[float, float, int]:
    with PeakRss() as rss:
        start = time.perf_counter()
        size = await s.download(path)
        took = time.perf_counter() - start
    return took, rss.growth_mib, size


async def baseline_read(server: TestServer, token: str) -> float:
    """The same contracts through the list use case (ORM objects, parties, worker cards), pages
    of the same size, no writing: what the exports read before they read below the ORM."""
    deps = server.app[DEPS]  # type: ignore[index]
    actor = await resolve_session(deps, token)
    assert actor is not None
    start = time.perf_counter()
    async for _ in export_svc.contract_pages(deps, actor, None, None, None):
        pass
    return time.perf_counter() - start


async def baseline_in_memory(server: TestServer, token: str, path: Path) -> tuple[float, float]:
    """The same ledger written with openpyxl's default workbook: every cell held until saved."""
    deps = server.app[DEPS]  # type: ignore[index]
    actor = await resolve_session(deps, token)
    assert actor is not None
    with PeakRss() as rss:
        start = time.perf_counter()
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append([h for _, h in CONTRACT_COLUMNS])
        async for rows in export_svc.element_pages(deps, actor, None, None, None):
            for row in rows:
                labelled = ledger_labels(row)
                sheet.append([_naive(labelled.get(k)) for k, _ in CONTRACT_COLUMNS])
        await asyncio.to_thread(book.save, str(path))
        took = time.perf_counter() - start
    return took, rss.growth_mib


def _naive(value: Any) -> Any:
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value


async def run_backend(backend: str, rows: int, repeat: int) -> dict[str, list[tuple[float, float, int]]]:
    out: dict[str, list[tuple[float, float, int]]] = {}
    async with bench_stack(backend, "bench-export-") as (server, s, tmp):
        await register(s)
        started = time.perf_counter()
        await fill(server, rows)
        print(
            f"  {backend}: {rows} employees and contracts inserted in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        token = next(c.value for c in s.http.cookie_jar if c.key == "laborsign_session")
        for n in range(repeat):
            for name, path in (
                ("roster xlsx", "/api/v1/employees/export.xlsx"),
                ("ledger xlsx", "/api/v1/contracts/export.xlsx"),
                ("elements jsonl", "/api/v1/contracts/export.jsonl"),
            ):
                out.setdefault(name, []).append(await timed_export(s, path))
                print(f"  {backend} {name} {n + 1}: {out[name][-1][0]:.2f} s", file=sys.stderr)
            out.setdefault("baseline: read only", []).append((await baseline_read(server, token), 0.0, 0))
        for _ in range(repeat):  # last: it grows the heap, and Python keeps what it grew
            took, growth = await baseline_in_memory(server, token, Path(tmp) / "in-memory.xlsx")
            out.setdefault("baseline: in-memory xlsx", []).append((took, growth, 0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"exports, {args.rows} rows, {args.repeat} runs per backend (medians)")
    print(f"{'backend':<11} {'export':<26} {'s':>7} {'rows/s':>8} {'RSS +MiB':>9} {'MB':>7}")
    for backend in args.backends.split(","):
        results = asyncio.run(run_backend(backend, args.rows, args.repeat))
        for name, runs in results.items():
            took = statistics.median(r[0] for r in runs)
            growth = statistics.median(r[1] for r in runs)
            size = statistics.median(r[2] for r in runs) / 1e6
            print(
                f"{backend:<11} {name:<26} {took:>7.2f} {args.rows / took:>8.0f} {growth:>9.1f} {size:>7.1f}"
                f"   ({', '.join(f'{r[0]:.2f}' for r in runs)})"
            )


if __name__ == "__main__":
    main()
