"""PAdES signing: one party's act becomes an incremental update carrying its marks (stamp
annotations) and a CAdES-detached signature by a certificate issued for that act, with a
RFC 3161 timestamp and the chain plus CRLs embedded (PAdES B-LT), so the file validates
offline in pyHanko, poppler's pdfsig and Adobe Reader with the platform root trusted.

Meant to run in a worker process (`PoolPdfTools`): pyHanko's synchronous API starts its own
event loop, and the parsed CA keys stay cached per process."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from asn1crypto import algos, cms, core, keys
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.general import get_pyca_cryptography_hash, simple_cms_attribute
from pyhanko.sign.signers.pdf_signer import DSSContentSettings, SigDSSPlacementPreference
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ..errors import Unavailable
from .pki import Credentials, PlatformCA
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


def _asn1_cert(cert: Any) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _asn1_key(key: ec.EllipticCurvePrivateKey) -> keys.PrivateKeyInfo:
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return keys.PrivateKeyInfo.load(der)


class CachedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner re-parses the private key on every raw signature (twice per PDF
    signature: size estimate and real). Keeping the parsed key object avoids that."""

    def __init__(self, credentials: Credentials, registry: SimpleCertificateStore) -> None:
        super().__init__(
            signing_cert=_asn1_cert(credentials.cert),
            signing_key=_asn1_key(credentials.key),
            cert_registry=registry,
        )
        self._key = credentials.key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        return self._key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))


class PlatformTimeStamper(DummyTimeStamper):
    """The platform's own time-stamping unit: real RFC 3161 tokens signed by the TSU
    certificate (EKU timeStamping), with an ECDSA key kept parsed."""

    def __init__(self, tsa: Credentials, embed: SimpleCertificateStore) -> None:
        super().__init__(tsa_cert=_asn1_cert(tsa.cert), tsa_key=_asn1_key(tsa.key), certs_to_embed=embed)
        self._ec_key = tsa.key

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        from pyhanko.sign import general

        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                simple_cms_attribute("signing_certificate", general.as_signing_certificate(self.tsa_cert)),
                simple_cms_attribute("message_digest", digest.finalize()),
            ]
        )
        signature = self._ec_key.sign(signed_attrs.dump(), ec.ECDSA(get_pyca_cryptography_hash(md_algorithm)))
        return signature, signed_attrs

    def _build_signed_data(
        self, tst_info_data: bytes, md_algorithm: str, signature: bytes, signed_attrs: cms.CMSAttributes
    ) -> dict[str, Any]:
        data: dict[str, Any] = super()._build_signed_data(
            tst_info_data, md_algorithm, signature, signed_attrs
        )
        for info in data["signer_infos"]:
            info["signature_algorithm"] = algos.SignedDigestAlgorithm({"algorithm": f"{md_algorithm}_ecdsa"})
        return data


@dataclass
class _Pki:
    ca: PlatformCA
    registry: SimpleCertificateStore
    validation: ValidationContext
    timestamper: timestamps.TimeStamper


@lru_cache(maxsize=4)
def _pki(settings: PkiSettings) -> _Pki:
    ca = PlatformCA.load_or_create(Path(settings.directory), settings.secret, settings.base_url)
    root, issuing = _asn1_cert(ca.root), _asn1_cert(ca.issuing.cert)
    registry = SimpleCertificateStore.from_certs([issuing, root])
    validation = ValidationContext(
        trust_roots=[root],
        other_certs=[issuing, _asn1_cert(ca.tsa.cert)],
        crls=[asn1_crl.CertificateList.load(ca.crl_der()), asn1_crl.CertificateList.load(ca.root_crl_der())],
        allow_fetching=False,
    )
    stamper: timestamps.TimeStamper
    if settings.tsa_url:
        stamper = timestamps.HTTPTimeStamper(settings.tsa_url, timeout=10)
    else:
        stamper = PlatformTimeStamper(ca.tsa, SimpleCertificateStore.from_certs([issuing, root]))
    return _Pki(ca, registry, validation, stamper)


def sign_document(data: bytes, spec: SignSpec, settings: PkiSettings) -> bytes:
    """Returns the document with one more incremental revision; the input bytes are its prefix."""
    pki = _pki(settings)
    credentials = pki.ca.issue_signer(spec.common_name, spec.ident, spec.kind, spec.organisation)
    signer = CachedKeySigner(credentials, pki.registry)
    marked = add_stamps(data, spec.stamps)
    writer = IncrementalPdfFileWriter(io.BytesIO(marked))
    meta = signers.PdfSignatureMetadata(
        field_name=spec.field_name,
        md_algorithm="sha256",
        reason=spec.reason,
        location=spec.location,
        name=spec.common_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=True,
        validation_context=pki.validation,
        # Chain and CRLs go into the same revision as the signature, so the last signature
        # still covers the whole file.
        dss_settings=DSSContentSettings(
            placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE, include_vri=False
        ),
    )
    pdf_signer = signers.PdfSigner(
        meta, signer, timestamper=pki.timestamper, new_field_spec=fields.SigFieldSpec(spec.field_name)
    )
    out = io.BytesIO()
    try:
        pdf_signer.sign_pdf(writer, output=out)
    except Exception as exc:
        if settings.tsa_url and _is_tsa_failure(exc):
            raise Unavailable("时间戳服务不可用，签署未完成，请稍后重试", "tsa_unavailable") from exc
        raise
    return out.getvalue()


def _is_tsa_failure(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return any(word in text for word in ("timestamp", "tsa", "connect", "timeout", "http"))
