"""The platform CA: a root (its key encrypted at rest under the platform secret, used only to
certify the issuing CA and sign the root CRL), an issuing CA that certifies each signer at
signing time, a time-stamping unit, and the CRLs that let a signed file validate offline.

EC P-256 throughout: signing with it costs a fraction of RSA-2048 (see bench/pdf_sign.py)
and it is supported by Adobe Reader, NSS (pdfsig) and pyHanko."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UTC = dt.UTC
ROOT_YEARS = 20
ISSUING_YEARS = 10
LEAF_DAYS = 3 * 365
CRL_DAYS = 7
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")


def _passphrase(secret: bytes, name: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"laborsign-pki", info=name.encode()).derive(
        secret
    )


def _name(cn: str, org: str = "LaborSign", **extra: str) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ]
    if "serial" in extra:
        # Masked IDs contain "*", which PrintableString (the default for this attribute) lacks.
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, extra["serial"], _type=_ASN1Type.UTF8String))
    if "unit" in extra:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, extra["unit"]))
    return x509.Name(attrs)


@dataclass(frozen=True)
class Credentials:
    """A certificate with its private key (kept in memory only)."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


class PlatformCA:
    def __init__(
        self,
        directory: Path,
        root: x509.Certificate,
        issuing: Credentials,
        tsa: Credentials,
        crl_url: str,
        root_crl_url: str,
        secret: bytes,
    ) -> None:
        self.directory = directory
        self.root = root
        self.issuing = issuing
        self.tsa = tsa
        self.crl_url = crl_url
        self.root_crl_url = root_crl_url
        self._secret = secret

    # -- persistence -------------------------------------------------------------------------

    @classmethod
    def load_or_create(cls, directory: Path, secret: bytes, base_url: str) -> PlatformCA:
        directory.mkdir(parents=True, exist_ok=True)
        crl_url = f"{base_url}/api/v1/pki/crl"
        root_crl_url = f"{base_url}/api/v1/pki/root-crl"
        if not (directory / "issuing.pem").exists():
            _create(directory, secret, crl_url, root_crl_url)
        root = x509.load_pem_x509_certificate((directory / "root.pem").read_bytes())
        issuing = Credentials(
            x509.load_pem_x509_certificate((directory / "issuing.pem").read_bytes()),
            _load_key(directory / "issuing.key", secret, "issuing"),
        )
        tsa = Credentials(
            x509.load_pem_x509_certificate((directory / "tsa.pem").read_bytes()),
            _load_key(directory / "tsa.key", secret, "tsa"),
        )
        ca = cls(directory, root, issuing, tsa, crl_url, root_crl_url, secret)
        if not (directory / "issuing.crl").exists() or ca._crl_stale(directory / "issuing.crl"):
            ca.publish_crls()
        return ca

    def _crl_stale(self, path: Path) -> bool:
        crl = x509.load_der_x509_crl(path.read_bytes())
        next_update = crl.next_update_utc
        return next_update is None or next_update - dt.timedelta(days=2) < dt.datetime.now(UTC)

    # -- issuing ----------------------------------------------------------------------------------

    def issue_signer(
        self, common_name: str, subject_ident: str, kind: str, organisation: str | None = None
    ) -> Credentials:
        """A certificate for one signing act: worker (name + masked ID) or enterprise
        (name + credit code). The key is fresh and never stored."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(UTC)
        org = organisation or ("个人" if kind == "person" else common_name)
        subject = _name(
            common_name, org, serial=subject_ident, unit="劳动者" if kind == "person" else "用人单位"
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.issuing.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
            )
            .add_extension(
                x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.issuing.key.public_key()),
                critical=False,
            )
            .add_extension(_cdp(self.crl_url), critical=False)
            .sign(self.issuing.key, hashes.SHA256())
        )
        return Credentials(cert, key)

    # -- revocation ---------------------------------------------------------------------------------

    def revoked(self) -> dict[str, str]:
        path = self.directory / "revoked.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def revoke(self, serial: int) -> None:
        entries = self.revoked()
        entries[str(serial)] = dt.datetime.now(UTC).isoformat()
        _atomic_write(self.directory / "revoked.json", json.dumps(entries).encode())
        self.publish_crls()

    def publish_crls(self) -> None:
        now = dt.datetime.now(UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.issuing.cert.subject)
            .last_update(now)
            .next_update(now + dt.timedelta(days=CRL_DAYS))
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
        )
        for serial, when in self.revoked().items():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(int(serial))
                .revocation_date(dt.datetime.fromisoformat(when))
                .build()
            )
        crl = builder.sign(self.issuing.key, hashes.SHA256())
        _atomic_write(self.directory / "issuing.crl", crl.public_bytes(serialization.Encoding.DER))
        # The root signs its CRL only here; its key is decrypted for this moment alone.
        root_key = _load_key(self.directory / "root.key", self._secret, "root")
        root_crl = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.root.subject)
            .last_update(now)
            .next_update(now + dt.timedelta(days=CRL_DAYS))
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        _atomic_write(self.directory / "root.crl", root_crl.public_bytes(serialization.Encoding.DER))

    def crl_der(self) -> bytes:
        return (self.directory / "issuing.crl").read_bytes()

    def root_crl_der(self) -> bytes:
        return (self.directory / "root.crl").read_bytes()

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def fingerprint(self) -> str:
        return hashlib.sha256(self.root.public_bytes(serialization.Encoding.DER)).hexdigest()


def _cdp(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]
    )


def _atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _store_key(path: Path, key: ec.EllipticCurvePrivateKey, secret: bytes, name: str) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_passphrase(secret, name)),
    )
    _atomic_write(path, pem, 0o600)


def _load_key(path: Path, secret: bytes, name: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=_passphrase(secret, name))
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _ca_cert(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    signer: ec.EllipticCurvePrivateKey,
    years: int,
    path_length: int | None,
    crl_url: str | None,
) -> x509.Certificate:
    now = dt.datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
        )
    )
    if crl_url:
        builder = builder.add_extension(_cdp(crl_url), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _create(directory: Path, secret: bytes, crl_url: str, root_crl_url: str) -> None:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("LaborSign Root CA", unit="平台根证书")
    root = _ca_cert(root_name, root_name, root_key, root_key, ROOT_YEARS, 1, None)
    issuing_key = ec.generate_private_key(ec.SECP256R1())
    issuing = _ca_cert(
        _name("LaborSign Signing CA", unit="签署证书"),
        root_name,
        issuing_key,
        root_key,
        ISSUING_YEARS,
        0,
        root_crl_url,
    )
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(UTC)
    tsa = (
        x509.CertificateBuilder()
        .subject_name(_name("LaborSign Time Stamping Unit", unit="时间戳服务"))
        .issuer_name(issuing.subject)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * ISSUING_YEARS - 2))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuing_key.public_key()), critical=False
        )
        .add_extension(_cdp(crl_url), critical=False)
        .sign(issuing_key, hashes.SHA256())
    )
    _store_key(directory / "root.key", root_key, secret, "root")
    _store_key(directory / "issuing.key", issuing_key, secret, "issuing")
    _store_key(directory / "tsa.key", tsa_key, secret, "tsa")
    for name, cert in (("root.pem", root), ("tsa.pem", tsa), ("issuing.pem", issuing)):
        _atomic_write(directory / name, cert.public_bytes(serialization.Encoding.PEM))
