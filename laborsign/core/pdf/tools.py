"""`PdfTools` (core.ports) on top of the engine's worker processes: PDF parsing, filling,
rendering, signing and validation are CPU-bound and stay off the event loop."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .evidence import EvidenceData, build_evidence_report
from .fill import FillItem, fill_pdf
from .inspect import PdfInfo
from .pades import PkiSettings, SignSpec, platform_ca, sign_document
from .stamps import Stamp, add_slots, add_stamps
from .validate import SignatureReport
from .workers import PdfWorkers

_SHARED: dict[int, PdfWorkers] = {}


def shared_workers(processes: int) -> PdfWorkers:
    """One pool per process size: app instances created again (tests, reloads) reuse warm
    workers instead of spawning new ones."""
    if processes not in _SHARED:
        _SHARED[processes] = PdfWorkers(processes)
    return _SHARED[processes]


@dataclass(frozen=True)
class VerifyReport:
    sha256: str
    signatures: list[SignatureReport]


class PdfEngine:
    def __init__(self, workers: PdfWorkers, pki: PkiSettings) -> None:
        self.workers = workers
        self.pki = pki
        # Load (or, kept in a directory, create) the CA here, before worker processes could
        # race to create it; a wrong secret fails here, at start-up.
        self._ca = platform_ca(pki)

    async def inspect(self, data: bytes) -> PdfInfo:
        return await self.workers.inspect(data)

    async def render(self, data: bytes, page: int, scale: float = 1.0) -> bytes:
        return await self.workers.render(data, page, scale)

    async def stamp(self, data: bytes, stamps: list[Stamp], flatten: bool = False) -> bytes:
        """flatten: into the page content (an unsigned document, text extractable);
        otherwise as annotations in an incremental update (earlier signatures stay valid)."""
        if not stamps:
            return data
        if flatten:
            items = [
                FillItem(s.page, s.x, s.y, s.width, s.height, text=s.text, image_png=s.image_png)
                for s in stamps
            ]
            return await self.workers.run(fill_pdf, data, items)
        return await self.workers.run(add_stamps, data, stamps)

    async def add_slots(self, data: bytes, slots: list[Stamp]) -> bytes:
        """Empty read-only fields where the parties' marks will go (before anyone signs)."""
        if not slots:
            return data
        return await self.workers.run(add_slots, data, slots)

    async def sign(self, data: bytes, spec: SignSpec) -> bytes:
        return await self.workers.run(sign_document, data, spec, self.pki)

    async def verify(self, data: bytes) -> VerifyReport:
        reports = await self.workers.verify(data, [self.root_der()])
        return VerifyReport(hashlib.sha256(data).hexdigest(), reports)

    async def evidence(self, data: EvidenceData) -> bytes:
        return await self.workers.run(build_evidence_report, data)

    def root_der(self) -> bytes:
        return self._ca.root_der()

    def root_pem(self) -> bytes:
        return self._ca.root_pem()

    def crl_der(self) -> bytes:
        """The issuing CA's current CRL, made by this process from the shared keys."""
        return self._ca.crl_der()

    def root_crl_der(self) -> bytes:
        return self._ca.root_crl_der()
