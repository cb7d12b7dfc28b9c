"""PAdES signing as the contract service calls it (`PdfTools.sign`): one party's act becomes
an incremental update carrying its marks (stamp annotations, stamps.py) and a signature by
a certificate issued for that act, timestamped, with the chain and CRLs embedded (B-LT).

The signature itself is made by `signing.sign_pdf` (cached keys, DER-built CMS and RFC 3161
tokens; see bench/pdf_sign.py). Meant to run in a worker process (`PoolPdfTools`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .ca import HttpTsa, PlatformTsa, SignerCredentials
from .pki import PlatformCA
from .signing import sign_pdf
from .stamps import Stamp, add_stamps


@dataclass(frozen=True)
class SignSpec:
    common_name: str
    ident: str  # masked ID number or credit code, shown in the certificate subject
    kind: str  # person | organisation
    field_name: str
    reason: str
    location: str = "中国"
    organisation: str | None = None
    stamps: list[Stamp] = field(default_factory=list)  # marks added in the same update


@dataclass(frozen=True)
class PkiSettings:
    directory: str
    secret: bytes
    base_url: str
    tsa_url: str = ""


@lru_cache(maxsize=4)
def _ca(settings: PkiSettings) -> PlatformCA:
    return PlatformCA.load_or_create(Path(settings.directory), settings.secret, settings.base_url)


def _der(cert: Any) -> bytes:
    return bytes(cert.public_bytes(serialization.Encoding.DER))


def _pkcs8(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def sign_document(data: bytes, spec: SignSpec, settings: PkiSettings) -> bytes:
    """Returns the document with one more incremental revision; the input bytes are its prefix.
    Raises Unavailable (and returns nothing) when the time-stamping authority fails."""
    ca = _ca(settings)
    issued = ca.issue_signer(spec.common_name, spec.ident, spec.kind, spec.organisation)
    chain = (_der(ca.issuing.cert), _der(ca.root))
    credentials = SignerCredentials(
        _der(issued.cert), _pkcs8(issued.key), chain, (ca.crl_der(), ca.root_crl_der())
    )
    timestamper: HttpTsa | PlatformTsa = (
        HttpTsa(settings.tsa_url)
        if settings.tsa_url
        else PlatformTsa(_der(ca.tsa.cert), _pkcs8(ca.tsa.key), chain)
    )
    return sign_pdf(
        add_stamps(data, spec.stamps),
        credentials=credentials,
        field_name=spec.field_name,
        timestamper=timestamper,
        reason=spec.reason,
        location=spec.location,
    )
