"""One party's signing act as the contract service asks for it (`PdfEngine.sign`): its marks
(stamp annotations, stamps.py) and a PAdES signature by a certificate issued for that act,
timestamped, with chain and CRLs embedded (B-LT), all in one incremental update. The signature is
made by `signing.sign_pdf`. Runs in a worker process."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .ca import HttpTsa, PlatformCA, PlatformTsa
from .signing import sign_pdf
from .stamps import Stamp


@dataclass(frozen=True)
class SignSpec:
    common_name: str
    ident: str  # masked ID number or credit code, shown in the certificate subject
    kind: str  # person | organisation
    field_name: str
    reason: str
    location: str = "中国"
    organisation: str | None = None
    # The certificate's organisational unit; default 劳动者 / 用人单位. An enterprise signature
    # names the operator who proved who they are here (用人单位 经办人 <verified name>).
    unit: str | None = None
    stamps: list[Stamp] = field(default_factory=list)  # marks added just before the signature


@dataclass(frozen=True)
class PkiSettings:
    """`bundle`: the CA's shared files (the platform keeps them in the database, so every
    host and worker process signs with the same CA); without one, `directory` holds it."""

    secret: bytes
    base_url: str
    tsa_url: str = ""
    bundle: tuple[tuple[str, bytes], ...] = ()
    directory: str = ""

    @property
    def crl_url(self) -> str:
        return f"{self.base_url}/api/v1/pki/crl"


@lru_cache(maxsize=4)
def platform_ca(settings: PkiSettings) -> PlatformCA:
    if settings.bundle:
        return PlatformCA.from_bundle(dict(settings.bundle), settings.secret, settings.crl_url)
    return PlatformCA.load_or_create(Path(settings.directory), settings.secret, settings.crl_url)


def sign_document(data: bytes, spec: SignSpec, settings: PkiSettings) -> bytes:
    """Returns the document with its new revisions; the input bytes are its prefix.
    Raises Unavailable (and returns nothing) when the time-stamping authority fails."""
    ca = platform_ca(settings)
    credentials = ca.issue_signer(spec.common_name, spec.ident, spec.kind, spec.organisation, spec.unit)  # type: ignore[arg-type]
    timestamper: HttpTsa | PlatformTsa = HttpTsa(settings.tsa_url) if settings.tsa_url else ca.tsa()
    return sign_pdf(
        data,
        credentials=credentials,
        field_name=spec.field_name,
        timestamper=timestamper,
        reason=spec.reason,
        location=spec.location,
        stamps=spec.stamps,
    )
