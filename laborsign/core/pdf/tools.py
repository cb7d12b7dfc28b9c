"""`PdfTools` (core.ports) backed by a process pool: PDF parsing, rendering and signing are
CPU-bound Python and must stay off the event loop so webhooks keep their deadlines."""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import io
import os
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Invalid, TooLarge, UnsupportedType
from .pades import PkiSettings, SignSpec, sign_document
from .pki import PlatformCA
from .stamps import Stamp, add_stamps, flatten_stamps
from .verify import VerifyReport, verify_pdf

MAX_PDF_BYTES = 20 * 1024 * 1024
MAX_PAGES = 100


@dataclass(frozen=True)
class PageSize:
    width: float
    height: float


@dataclass(frozen=True)
class PdfFactsImpl:
    pages: list[PageSize]
    sha256: str


def inspect_pdf(data: bytes, *, max_bytes: int = MAX_PDF_BYTES, max_pages: int = MAX_PAGES) -> PdfFactsImpl:
    """Refuses anything that is not a readable, unencrypted PDF within the limits."""
    if len(data) > max_bytes:
        raise TooLarge(f"PDF文件不能超过{max_bytes // (1024 * 1024)}MB")
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise UnsupportedType("文件不是有效的PDF，请上传PDF格式的文件", "not_pdf")
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise Invalid.field("files", "PDF已加密，请上传未加密的文件", code="pdf_encrypted")
        count = len(reader.pages)
        if count == 0:
            raise UnsupportedType("PDF文件没有页面", "not_pdf")
        if count > max_pages:
            raise Invalid.field(
                "files", f"PDF页数不能超过{max_pages}页（当前{count}页）", code="too_many_pages"
            )
        pages = []
        for page in reader.pages:
            box = page.mediabox
            width, height = float(box.width), float(box.height)
            if page.get("/Rotate", 0) in (90, 270):
                width, height = height, width
            if not (10 <= width <= 14400 and 10 <= height <= 14400):
                raise Invalid.field("files", "PDF页面尺寸异常", code="bad_page_size")
            pages.append(PageSize(width, height))
    except (Invalid, UnsupportedType):
        raise
    except (
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        RecursionError,
        OSError,
        AssertionError,
    ):
        raise UnsupportedType("文件已损坏或不是有效的PDF", "not_pdf") from None
    # pypdf is lenient; pdfium must also open it or a viewer would fail later.
    _render(data, 1, 0.1)
    return PdfFactsImpl(pages, hashlib.sha256(data).hexdigest())


def _render(data: bytes, page_number: int, scale: float) -> bytes:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        raise UnsupportedType("文件已损坏或不是有效的PDF", "not_pdf") from None
    try:
        doc.init_forms()
        page = doc[page_number - 1]
        bitmap = page.render(scale=scale, may_draw_forms=True)
        image = bitmap.to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG", compress_level=1)
        return out.getvalue()
    finally:
        doc.close()


def render_page_png(data: bytes, page_number: int, scale: float = 1.0) -> bytes:
    return _render(data, page_number, scale)


_POOLS: dict[int, Executor] = {}


def _shared_pool(processes: int) -> Executor:
    """One pool per process and size: worker processes keep their parsed keys and fonts warm,
    and apps created again (tests, reloads) reuse them instead of spawning new ones."""
    pool = _POOLS.get(processes)
    if pool is None:
        if processes > 0:
            import multiprocessing

            pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
        else:
            pool = ThreadPoolExecutor(2)
        _POOLS[processes] = pool
        atexit.register(pool.shutdown, wait=False, cancel_futures=True)
    return pool


class PoolPdfTools:
    """Runs the PDF functions in worker processes (`processes=0`: threads)."""

    def __init__(self, processes: int | None = None, pki: PkiSettings | None = None) -> None:
        self._processes = processes if processes is not None else (os.cpu_count() or 1)
        self.pki = pki
        if pki is not None:
            # Create the CA here, once, before worker processes race to do it.
            PlatformCA.load_or_create(Path(pki.directory), pki.secret, pki.base_url)

    @property
    def executor(self) -> Executor:
        return _shared_pool(self._processes)

    async def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        if kwargs:
            import functools

            fn = functools.partial(fn, **kwargs)
        return await loop.run_in_executor(self.executor, fn, *args)

    async def inspect(self, data: bytes) -> PdfFactsImpl:
        result: PdfFactsImpl = await self.run(inspect_pdf, data)
        return result

    async def render(self, data: bytes, page: int, scale: float = 1.0) -> bytes:
        result: bytes = await self.run(render_page_png, data, page, scale)
        return result

    async def stamp(self, data: bytes, stamps: list[Stamp], flatten: bool = False) -> bytes:
        result: bytes = await self.run(flatten_stamps if flatten else add_stamps, data, stamps)
        return result

    async def sign(self, data: bytes, spec: SignSpec) -> bytes:
        if self.pki is None:
            raise RuntimeError("PKI settings missing")
        result: bytes = await self.run(sign_document, data, spec, self.pki)
        return result

    async def verify(self, data: bytes) -> VerifyReport:
        roots = [self.root_der()] if self.pki else []
        result: VerifyReport = await self.run(verify_pdf, data, roots)
        return result

    def root_der(self) -> bytes:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        assert self.pki is not None
        pem = (Path(self.pki.directory) / "root.pem").read_bytes()
        return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
