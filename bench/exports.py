"""Exports of issue 14 over HTTP: 100,000 roster rows and 100,000 contracts as xlsx, and the
contracts as JSON Lines — wall time and the process's RSS growth while it answers.

Run: .venv/bin/python bench/exports.py [--rows 100000] [--repeat 3] [--backends sqlite,postgresql]
     [--only roster,ledger,jsonl,zip] [--baseline SRC] [--zip-pdfs 2000] [--pdf-kib 200]

`--baseline SRC` runs the ledger and JSON Lines cases once more in a child process that
imports laborsign from SRC (e.g. `git archive main | tar -x -C SRC`), in the same run. The zip
case stores `--zip-pdfs` signed-contract files of `--pdf-kib` each and zips them as the
background job (POST export.zip → 202, polled until done, then downloaded).

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
if "--src" in sys.argv:  # the baseline child: the package under test comes from there
    sys.path.insert(0, sys.argv[sys.argv.index("--src") + 1])
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


CASES = {
    "roster": ("roster xlsx", "/api/v1/employees/export.xlsx"),
    "ledger": ("ledger xlsx", "/api/v1/contracts/export.xlsx"),
    "jsonl": ("elements jsonl", "/api/v1/contracts/export.jsonl"),
}


async def store_pdfs(server: TestServer, count: int, kib: int) -> None:
    """Gives the first `count` contracts a stored file of their own (incompressible bytes of
    `kib` KiB behind a PDF header: what is measured is moving them, not checking them)."""
    import os

    deps = server.app[DEPS]  # type: ignore[index]
    async with deps.uow() as uow:
        session = uow.session  # type: ignore[attr-defined]
        ids = list((await session.execute(text("SELECT id FROM contracts ORDER BY created_at LIMIT :n"), {"n": count})).scalars())
    keys = [await deps.blobs.put(b"%PDF-1.7\n" + os.urandom(kib * 1024)) for _ in ids]
    async with deps.uow() as uow:
        session = uow.session  # type: ignore[attr-defined]
        for cid, key in zip(ids, keys, strict=True):
            await session.execute(
                text("UPDATE contracts SET document_blob = :k, document_sha256 = :k WHERE id = :id"), {"k": key, "id": cid}
            )
        await session.execute(text("UPDATE contracts SET status = 'signing' WHERE document_blob = :z"), {"z": "0" * 64})
        await uow.commit()


async def timed_zip_job(server: TestServer, s: Session) -> tuple[float, float, int]:
    server.app[DEPS].config.jobs.export_zip_stream_max = 0  # type: ignore[index]
    with PeakRss() as rss:
        start = time.perf_counter()
        status, job = await s.call("POST", "/api/v1/contracts/export.zip")
        assert status == 202, (status, job)
        while job["status"] in ("queued", "running"):
            await asyncio.sleep(0.2)
            _, job = await s.call("GET", job["url"])
        assert job["status"] == "done", job
        zipped = time.perf_counter() - start
        size = await s.download(job["download_url"])
    print(f"  zip job: {zipped:.2f} s to zip, {time.perf_counter() - start:.2f} s with the download", file=sys.stderr)
    return zipped, rss.growth_mib, size


async def run_zip(backend: str, pdfs: int, kib: int, repeat: int) -> dict[str, list[tuple[float, float, int]]]:
    out: dict[str, list[tuple[float, float, int]]] = {}
    async with bench_stack(backend, "bench-export-zip-") as (server, s, _):
        await register(s)
        await fill(server, pdfs)
        await store_pdfs(server, pdfs, kib)
        for _ in range(repeat):
            out.setdefault(f"zip job ({pdfs}x{kib} KiB)", []).append(await timed_zip_job(server, s))
    return out


async def run_backend(
    backend: str, rows: int, repeat: int, only: list[str]
) -> dict[str, list[tuple[float, float, int]]]:
    out: dict[str, list[tuple[float, float, int]]] = {}
    if only == ["zip"]:
        return out
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
            for name, path in (CASES[c] for c in only if c in CASES):
                out.setdefault(name, []).append(await timed_export(s, path))
                print(f"  {backend} {name} {n + 1}: {out[name][-1][0]:.2f} s", file=sys.stderr)
            if "baselines" in only:
                out.setdefault("baseline: read only", []).append((await baseline_read(server, token), 0.0, 0))
        for _ in range(repeat if "baselines" in only else 0):  # last: it grows the heap, and Python keeps what it grew
            took, growth = await baseline_in_memory(server, token, Path(tmp) / "in-memory.xlsx")
            out.setdefault("baseline: in-memory xlsx", []).append((took, growth, 0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--only", default="roster,ledger,jsonl,zip,baselines")
    parser.add_argument("--baseline", default="", help="source tree of the version to compare with")
    parser.add_argument("--src", default="", help=argparse.SUPPRESS)
    parser.add_argument("--zip-pdfs", type=int, default=2000)
    parser.add_argument("--pdf-kib", type=int, default=200)
    args = parser.parse_args()
    only = args.only.split(",")
    label = " (baseline)" if args.src else ""
    if not args.src:
        print(f"exports, {args.rows} rows, {args.repeat} runs per backend (medians)")
        print(f"{'backend':<11} {'export':<37} {'s':>7} {'rows/s':>8} {'RSS +MiB':>9} {'MB':>7}")
    for backend in args.backends.split(","):
        results = asyncio.run(run_backend(backend, args.rows, args.repeat, only))
        if "zip" in only:
            results.update(asyncio.run(run_zip(backend, args.zip_pdfs, args.pdf_kib, args.repeat)))
        for name, runs in results.items():
            took = statistics.median(r[0] for r in runs)
            growth = statistics.median(r[1] for r in runs)
            size = statistics.median(r[2] for r in runs) / 1e6
            count = args.zip_pdfs if name.startswith("zip") else args.rows
            print(
                f"{backend:<11} {name + label:<37} {took:>7.2f} {count / took:>8.0f} {growth:>9.1f} {size:>7.1f}"
                f"   ({', '.join(f'{r[0]:.2f}' for r in runs)})",
                flush=True,
            )
    if args.baseline:
        import subprocess

        subprocess.run(
            [sys.executable, __file__, "--rows", str(args.rows), "--repeat", str(args.repeat),
             "--backends", args.backends, "--only", "ledger,jsonl", "--src", args.baseline],
            check=True,
        )  # fmt: skip


if __name__ == "__main__":
    main()
