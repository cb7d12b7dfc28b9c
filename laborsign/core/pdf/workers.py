"""A process pool for the PDF engine. Parsing, filling, rendering and signing are CPU-bound
Python (and pyHanko's sync API runs its own event loop), so they run in worker processes:
the web process keeps answering webhooks within their deadlines, and each worker keeps its
parsed keys, fonts and encoded images warm between calls.

Only picklable arguments cross the boundary (bytes, frozen dataclasses); domain errors come
back with their code and fields intact; a worker that crashes (a native parser on a hostile
file) or runs past the timeout is replaced, never left hanging."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import logging
import multiprocessing
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from ..errors import DomainError, Unavailable, UnsupportedType
from .ca import SignerCredentials, Timestamper
from .evidence import EvidenceData
from .fill import FillItem
from .geometry import Box
from .inspect import PdfInfo
from .validate import SignatureReport

T = TypeVar("T")
log = logging.getLogger("laborsign.pdf")
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with(parent: int) -> None:
    """A worker must not outlive the service, however the service ends (kill -9 included):
    the kernel kills it when its parent goes (Linux), and a watchdog thread checks the
    parent everywhere else. A parent that went before this ran is caught by the check."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the watchdog alone

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _warm(font_path: str | None, parent: int | None = None) -> None:
    """Worker initialiser: tied to the parent's life; imports, font registration and quiet
    PDF-library logs paid once, not on the first request."""
    if parent is not None:
        _die_with(parent)
    _quiet_logs()
    from . import fill, signing, validate  # noqa: F401
    from .fonts import configure_font, reportlab_font

    configure_font(font_path)
    try:
        reportlab_font()
    except Exception:
        pass  # reported on first use, with the Debian package to install


class _Complaints(logging.Handler):
    """What the PDF libraries say about one file (pypdf writes a warning per broken object:
    thousands for a hostile file): counted in the worker, reported by the parent as one line."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if not self.first:
            self.first = f"{record.name}: {record.getMessage()}"[:300]

    def take(self, extra: list[warnings.WarningMessage]) -> tuple[int, str]:
        count, first = self.count + len(extra), self.first or (str(extra[0].message)[:300] if extra else "")
        self.count, self.first = 0, ""
        return count, first


_COMPLAINTS = _Complaints()


def _quiet_logs() -> None:
    root = logging.getLogger()
    root.handlers[:] = [_COMPLAINTS]  # nothing reaches stderr from here (no lastResort either)
    root.setLevel(logging.WARNING)


def _call(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[str, Any, tuple[int, str]]:
    """Runs in the worker. Domain errors travel as data: pickling an exception keeps only its
    args, which would lose the code and per-field messages. The third item: how many
    complaints the libraries made, and the first."""
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        try:
            return "ok", fn(*args, **kwargs), _COMPLAINTS.take(said)
        except DomainError as exc:
            payload = (type(exc), exc.message, exc.code, getattr(exc, "fields", None), exc.extra)
            return "error", payload, _COMPLAINTS.take(said)


def _rebuild(payload: tuple[Any, ...]) -> DomainError:
    cls, message, code, fields, extra = payload
    exc: DomainError = cls.__new__(cls)
    Exception.__init__(exc, message)
    exc.message, exc.code, exc.extra = message, code, dict(extra)
    if fields is not None:
        exc.fields = dict(fields)  # type: ignore[attr-defined]
    for key, value in extra.items():
        setattr(exc, key, value)
    return exc


class PdfWorkers:
    """Owns a pool of worker processes (default: one per CPU)."""

    def __init__(
        self, processes: int | None = None, *, timeout: float = 60.0, font_path: str | None = None
    ) -> None:
        self.size = processes or os.cpu_count() or 1
        self.timeout = timeout
        self._font_path = font_path
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: forking a process that runs an event loop and threads is unsafe.
            self._pool = ProcessPoolExecutor(
                self.size,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_warm,
                initargs=(self._font_path, os.getpid()),
            )
        return self._pool

    def _discard_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # A stuck worker would block shutdown(); these are processes this object started.
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        job = functools.partial(_call, fn, args, kwargs)
        try:
            status, value, (complaints, first) = await asyncio.wait_for(
                loop.run_in_executor(self._executor(), job), timeout=self.timeout
            )
        except TimeoutError:
            self._discard_pool()
            raise Unavailable("PDF处理超时，请稍后重试", "pdf_timeout") from None
        except BrokenProcessPool:
            self._discard_pool()
            raise UnsupportedType("文件无法处理（可能已损坏）", "pdf_crashed") from None
        if complaints:
            log.warning(
                "the PDF library complained about a file",
                extra={"operation": getattr(fn, "__name__", "?"), "complaints": complaints, "first": first},
            )
        if status == "error":
            raise _rebuild(value)
        result: T = value
        return result

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.get_running_loop().run_in_executor(
                None, functools.partial(pool.shutdown, wait=True)
            )

    async def __aenter__(self) -> PdfWorkers:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the engine's operations ------------------------------------------------------------

    async def inspect(self, data: bytes, **limits: int) -> PdfInfo:
        from .inspect import inspect_pdf

        return await self.run(inspect_pdf, data, **limits)

    async def render(self, data: bytes, page_number: int, scale: float = 1.0) -> bytes:
        from .render import render_page_png

        return await self.run(render_page_png, data, page_number, scale)

    async def fill(self, data: bytes, items: list[FillItem]) -> bytes:
        from .fill import fill_pdf

        return await self.run(fill_pdf, data, items)

    async def sign(
        self,
        data: bytes,
        *,
        credentials: SignerCredentials,
        field_name: str,
        timestamper: Timestamper,
        box: Box | None = None,
        appearance_png: bytes | None = None,
        reason: str = "",
        location: str = "中国",
    ) -> bytes:
        from .signing import sign_pdf

        return await self.run(
            sign_pdf,
            data,
            credentials=credentials,
            field_name=field_name,
            timestamper=timestamper,
            box=box,
            appearance_png=appearance_png,
            reason=reason,
            location=location,
        )

    async def verify(
        self, data: bytes, trust_roots: list[bytes], *, crls: list[bytes] | None = None
    ) -> list[SignatureReport]:
        from .validate import verify_pdf

        return await self.run(verify_pdf, data, list(trust_roots), crls=crls)

    async def evidence(self, data: EvidenceData) -> bytes:
        from .evidence import build_evidence_report

        return await self.run(build_evidence_report, data)
