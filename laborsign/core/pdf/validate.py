"""Reporting the signatures of any uploaded PDF: signer, time (the timestamp's when present),
whether the signed bytes are intact, whether the chain leads to a trusted root, whether the
signature covers the whole file and what was changed after it. Uses pyHanko's async
validation API with the chain and CRLs embedded in the file (offline, B-LT).

Hostile input never raises anything but a domain error: every failure inside a signature's
check becomes a report saying it is not intact."""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..clock import iso
from ..errors import Invalid, TooLarge, UnsupportedType
from ._runner import run_sync

MAX_VERIFY_BYTES = 50 * 1024 * 1024
MAX_SIGNATURES = 50

TrustRoot = bytes | x509.Certificate


@dataclass(frozen=True)
class SignatureReport:
    field_name: str
    signer: str  # common name
    signer_subject: str
    signed_at: datetime | None
    time_source: str  # "timestamp" (trusted time), "claimed" (signer's clock) or "none"
    intact: bool  # the signed bytes are unchanged and the signature value verifies
    trusted: bool  # the chain leads to one of the given roots, not revoked
    covers_whole_document: bool
    timestamp_valid: bool
    modification_level: str  # NONE, LTA_UPDATES, FORM_FILLING, ANNOTATIONS, OTHER, UNKNOWN
    problem: str = ""  # Chinese, for people

    @property
    def ok(self) -> bool:
        return self.intact and self.trusted

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["signed_at"] = iso(self.signed_at)
        return out


def _roots(trust_roots: list[TrustRoot]) -> list[asn1_x509.Certificate]:
    out = []
    for root in trust_roots:
        if isinstance(root, x509.Certificate):
            der = root.public_bytes(serialization.Encoding.DER)
        elif root.lstrip().startswith(b"-----BEGIN"):
            der = x509.load_pem_x509_certificate(root).public_bytes(serialization.Encoding.DER)
        else:
            der = root
        out.append(asn1_x509.Certificate.load(der))
    return out


def verify_pdf(
    data: bytes,
    trust_roots: list[TrustRoot],
    *,
    crls: list[bytes] | None = None,
    tsa_roots: list[TrustRoot] | None = None,
) -> list[SignatureReport]:
    """Synchronous entry point (worker process, CLI); see `async_verify_pdf`."""
    return run_sync(async_verify_pdf(data, trust_roots, crls=crls, tsa_roots=tsa_roots))


async def async_verify_pdf(
    data: bytes,
    trust_roots: list[TrustRoot],
    *,
    crls: list[bytes] | None = None,
    tsa_roots: list[TrustRoot] | None = None,
) -> list[SignatureReport]:
    """[] for a PDF without signatures. Raises TooLarge / UnsupportedType / Invalid only.

    `crls`: current CRLs (DER) besides those embedded, so a certificate revoked after the
    file was signed shows as such. `tsa_roots`: roots trusted for timestamps (an external
    TSA's), in addition to `trust_roots`."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    if len(data) > MAX_VERIFY_BYTES:
        raise TooLarge(f"文件不能超过{MAX_VERIFY_BYTES // (1024 * 1024)}MB")
    if b"%PDF-" not in data[:1024]:
        raise UnsupportedType("文件不是有效的PDF", "not_pdf")
    roots = _roots(trust_roots)
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted:
            raise Invalid("PDF已加密，无法验证签名", code="pdf_encrypted")
        embedded = list(reader.embedded_signatures)[:MAX_SIGNATURES]
    except Invalid:
        raise
    except Exception:
        raise Invalid("文件已损坏或不是有效的PDF，无法验证", code="not_pdf") from None
    context_kwargs = _embedded_validation_data(reader)
    if crls:
        from asn1crypto import crl as asn1_crl

        extra = [asn1_crl.CertificateList.load(der) for der in crls]
        context_kwargs["crls"] = [*extra, *context_kwargs.get("crls", [])]
    ts_roots = roots + _roots(tsa_roots or [])
    return [await _check(sig, roots, ts_roots, context_kwargs) for sig in embedded]


def _embedded_validation_data(reader: Any) -> dict[str, Any]:
    """Certificates and CRLs from the DSS: what lets the file validate offline years later."""
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    try:
        dss = DocumentSecurityStore.read_dss(reader)
        certs = list(dss.load_certs())
        crls = []
        from asn1crypto import crl as asn1_crl
        from pyhanko.pdf_utils.decode_limits import DecodePurpose

        for ref in dss.crls:
            crls.append(asn1_crl.CertificateList.load(ref.get_object().read_data(DecodePurpose.CRL)))
        return {"other_certs": certs, "crls": crls}
    except Exception:
        return {}


async def _check(
    sig: Any, roots: list[asn1_x509.Certificate], ts_roots: list[asn1_x509.Certificate], extra: dict[str, Any]
) -> SignatureReport:
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    field_name = str(getattr(sig, "field_name", "") or "")
    name = subject = ""
    try:
        cert = sig.signer_cert
        name = str(cert.subject.native.get("common_name", ""))
        subject = cert.subject.human_friendly
    except Exception:
        pass
    try:
        context = ValidationContext(
            trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail", **extra
        )
        ts_context = ValidationContext(
            trust_roots=ts_roots, allow_fetching=False, revocation_mode="soft-fail", **extra
        )
        status = await async_validate_pdf_signature(
            sig, signer_validation_context=context, ts_validation_context=ts_context
        )
    except Exception:
        return SignatureReport(
            field_name, name, subject, None, "none", False, False, False, False, "UNKNOWN",
            "签名数据已损坏，无法验证",
        )  # fmt: skip
    ts = status.timestamp_validity
    timestamp_valid = ts is not None and bool(ts.intact and ts.valid and ts.trusted)
    signed_at: datetime | None
    if ts is not None and ts.intact and ts.valid:
        signed_at, source = ts.timestamp, "timestamp"
    elif status.signer_reported_dt is not None:
        signed_at, source = status.signer_reported_dt, "claimed"
    else:
        signed_at, source = None, "none"
    intact = bool(status.intact and status.valid)
    trusted = bool(intact and status.trusted and not getattr(status, "revoked", False))
    coverage = getattr(status.coverage, "name", "")
    level = getattr(status.modification_level, "name", None) or "UNKNOWN"
    return SignatureReport(
        field_name=field_name,
        signer=name,
        signer_subject=subject,
        signed_at=signed_at,
        time_source=source,
        intact=intact,
        trusted=trusted,
        covers_whole_document=intact and coverage == "ENTIRE_FILE",
        timestamp_valid=timestamp_valid,
        modification_level=level,
        problem=_problem(intact, trusted, coverage, level, bool(getattr(status, "revoked", False))),
    )


def _problem(intact: bool, trusted: bool, coverage: str, level: str, revoked: bool) -> str:
    if not intact:
        return "签名后文件已被篡改"
    if revoked:
        return "签名证书已被吊销"
    if not trusted:
        return "签名证书不受信任"
    if level == "OTHER":
        return "签名后文件被修改"
    if coverage not in ("ENTIRE_FILE", "ENTIRE_REVISION"):
        return "签名未覆盖其所在版本"
    return ""
