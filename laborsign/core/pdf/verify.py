"""Reporting the signatures in any PDF: who signed, when (timestamp time when present),
whether the signed bytes are intact, whether the chain leads to the platform root, and
whether the signature covers the whole file. Never raises on hostile input."""

from __future__ import annotations

import asyncio
import hashlib
import io
from dataclasses import asdict, dataclass
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from ..errors import TooLarge, UnsupportedType

MAX_VERIFY_BYTES = 50 * 1024 * 1024


@dataclass
class SignatureReport:
    field: str
    signer: str
    signer_subject: str
    signed_at: str | None
    intact: bool
    trusted: bool
    covers_whole_document: bool
    timestamped: bool
    modification: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class VerifyReport:
    sha256: str
    signatures: list[SignatureReport]


def verify_pdf(data: bytes, trust_roots_der: list[bytes]) -> VerifyReport:
    """Synchronous entry point for a worker process."""
    return asyncio.run(averify_pdf(data, trust_roots_der))


async def averify_pdf(data: bytes, trust_roots_der: list[bytes]) -> VerifyReport:
    if len(data) > MAX_VERIFY_BYTES:
        raise TooLarge("文件不能超过50MB")
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise UnsupportedType("文件不是有效的PDF", "not_pdf")
    sha = hashlib.sha256(data).hexdigest()
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception:
        raise UnsupportedType("文件已损坏或不是有效的PDF", "not_pdf") from None
    roots = [asn1_x509.Certificate.load(der) for der in trust_roots_der]
    reports = []
    for sig in embedded:
        reports.append(await _check(sig, roots))
    return VerifyReport(sha, reports)


async def _check(sig: Any, roots: list[asn1_x509.Certificate]) -> SignatureReport:
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    name = subject = ""
    try:
        cert = sig.signer_cert
        name = cert.subject.native.get("common_name", "")
        subject = cert.subject.human_friendly
    except Exception:
        pass
    try:
        status = await async_validate_pdf_signature(sig, signer_validation_context=context)
    except Exception:
        return SignatureReport(
            sig.field_name or "", name, subject, None, False, False, False, False, "unknown"
        )
    when = None
    if status.timestamp_validity is not None:
        when = status.timestamp_validity.timestamp.isoformat()
    elif status.signer_reported_dt is not None:
        when = status.signer_reported_dt.isoformat()
    coverage = getattr(status.coverage, "name", str(status.coverage))
    return SignatureReport(
        field=sig.field_name or "",
        signer=name,
        signer_subject=subject,
        signed_at=when,
        intact=bool(status.intact and status.valid),
        trusted=bool(status.trusted),
        covers_whole_document=coverage == "ENTIRE_FILE",
        timestamped=status.timestamp_validity is not None and bool(status.timestamp_validity.intact),
        modification=getattr(status.modification_level, "name", "unknown")
        if status.modification_level
        else "none",
    )
