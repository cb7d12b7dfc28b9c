"""The platform CA: a root whose key is encrypted at rest under a secret held by the caller
and decrypted only to certify the issuing CA and sign the root CRL ("offline-style"), an
issuing CA that certifies each signer at signing time, a time-stamping unit (EKU
timeStamping, critical) and the CRLs that let a signed file validate offline later.

Key type: EC P-256 throughout. Measured here (bench/pdf_sign.py, "raw key" lines): a P-256
signature costs ~0.05 ms against ~1 ms for RSA-2048, a P-256 key is generated in ~0.1 ms
against 50-200 ms for RSA-2048 (a fresh key per signing act), and certificates and
signatures are a fraction of the size. NSS (pdfsig), Adobe Reader and pyHanko all accept
ECDSA with SHA-256.

Files: root.pem root.key issuing.pem issuing.key tsa.pem tsa.key (the bundle: what must be
the same on every host), issuing.crl root.crl revoked.json; keys are PKCS#8 encrypted under
a passphrase derived from the secret with HKDF (one per key). They live in a directory
(`load_or_create`) or, for the platform, in a bundle that the composition root keeps in the
database (`create_bundle`, `from_bundle`), CRLs then being made in memory by each process."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UTC = dt.UTC
ROOT_YEARS = 20
ISSUING_YEARS = 10
# Signer certificates are issued per signing act, so they could be short-lived; pdfsig
# however judges validity at the current time, not at the timestamp, so a very short life
# would make archived contracts show "expired" there. Three years is a compromise.
LEAF_DAYS = 3 * 365
CRL_DAYS = 7
CRL_REFRESH_MARGIN = dt.timedelta(days=2)
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")

SignerKind = Literal["person", "organisation"]
BUNDLE = ("root.pem", "root.key", "issuing.pem", "issuing.key", "tsa.pem", "tsa.key")


class CaFiles(Protocol):
    def read(self, name: str) -> bytes | None: ...
    def write(self, name: str, data: bytes, mode: int = 0o644) -> None: ...


class DirectoryFiles:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def read(self, name: str) -> bytes | None:
        path = self.directory / name
        return path.read_bytes() if path.exists() else None

    def write(self, name: str, data: bytes, mode: int = 0o644) -> None:
        _atomic_write(self.directory / name, data, mode)


class MemoryFiles:
    def __init__(self, files: Mapping[str, bytes] | None = None) -> None:
        self.files = dict(files or {})

    def read(self, name: str) -> bytes | None:
        return self.files.get(name)

    def write(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self.files[name] = data


@dataclass(frozen=True)
class SignerCredentials:
    """A signer certificate and its key, with the chain and CRLs to embed.

    Plain DER bytes so it pickles cheaply into a worker process; parsed forms are cached
    per process by `signing.py`."""

    cert_der: bytes
    key_der: bytes  # PKCS#8, unencrypted: lives in memory only
    chain_der: tuple[bytes, ...]  # issuing CA, root
    crls_der: tuple[bytes, ...]  # issuing CA's CRL, root's CRL

    @cached_property
    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.cert_der)

    @property
    def common_name(self) -> str:
        attrs = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(attrs[0].value) if attrs else ""

    @property
    def serial(self) -> int:
        return self.certificate.serial_number


@dataclass(frozen=True)
class PlatformTsa:
    """The platform's own time-stamping unit, run in-process by `signing.py`."""

    cert_der: bytes
    key_der: bytes
    chain_der: tuple[bytes, ...]


@dataclass(frozen=True)
class HttpTsa:
    """An external RFC 3161 time-stamping authority reached over HTTP(S)."""

    url: str
    timeout: float = 10.0


Timestamper = PlatformTsa | HttpTsa


def _passphrase(secret: bytes, name: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"laborsign-pki", info=name.encode()).derive(
        secret
    )


def _name(
    cn: str, org: str = "LaborSign", *, serial: str | None = None, unit: str | None = None
) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
    ]
    if unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    if serial:
        # Masked IDs contain "*", which PrintableString (this attribute's default) lacks.
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial, _type=_ASN1Type.UTF8String))
    return x509.Name(attrs)


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _pkcs8(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class PlatformCA:
    """Loaded once per process; `issue_signer` is cheap (~1 ms) and thread-safe."""

    def __init__(self, files: CaFiles, secret: bytes, crl_url: str, root_crl_url: str) -> None:
        self.files = files
        self.crl_url = crl_url
        self.root_crl_url = root_crl_url
        self._secret = secret
        self._lock = threading.Lock()
        self.root = x509.load_pem_x509_certificate(_need(files, "root.pem"))
        self.issuing = x509.load_pem_x509_certificate(_need(files, "issuing.pem"))
        self.tsa_cert = x509.load_pem_x509_certificate(_need(files, "tsa.pem"))
        self._issuing_key = _load_key(files, "issuing.key", secret, "issuing")
        self._tsa_key = _load_key(files, "tsa.key", secret, "tsa")
        self._crls: tuple[bytes, bytes] | None = None

    @property
    def directory(self) -> Path:
        assert isinstance(self.files, DirectoryFiles), "this CA is not kept in a directory"
        return self.files.directory

    @classmethod
    def load_or_create(
        cls, directory: Path, secret: bytes, crl_url: str, root_crl_url: str | None = None
    ) -> PlatformCA:
        """`crl_url` is where the issuing CA's CRL is published (e.g.
        `{public_url}/api/v1/pki/crl`); the root's CRL defaults to a sibling `root-crl`."""
        if not secret:
            raise ValueError("the CA secret must not be empty")
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        root_crl_url = root_crl_url or _root_crl_url(crl_url)
        files = DirectoryFiles(directory)
        if files.read("issuing.pem") is None:
            _create(files, secret, crl_url, root_crl_url)
        ca = cls(files, secret, crl_url, root_crl_url)
        ca._ensure_fresh_crls()
        return ca

    @classmethod
    def from_bundle(
        cls, bundle: Mapping[str, bytes], secret: bytes, crl_url: str, root_crl_url: str | None = None
    ) -> PlatformCA:
        """A CA whose keys and certificates came from elsewhere (the database); its CRLs
        and revocations are kept in memory. Raises ValueError for another secret's keys."""
        missing = [name for name in BUNDLE if name not in bundle]
        if missing:
            raise ValueError(f"CA bundle lacks {', '.join(missing)}")
        files = MemoryFiles({name: bundle[name] for name in BUNDLE})
        return cls(files, secret, crl_url, root_crl_url or _root_crl_url(crl_url))

    def bundle(self) -> dict[str, bytes]:
        return {name: _need(self.files, name) for name in BUNDLE}

    # -- issuing ---------------------------------------------------------------------------

    def issue_signer(
        self,
        common_name: str,
        subject_ident: str,
        kind: SignerKind,
        organisation: str | None = None,
        unit: str | None = None,
    ) -> SignerCredentials:
        """A certificate for one signing act. person: name + masked ID number in the subject;
        organisation: name + unified social credit code. The key is fresh and never stored."""
        if kind not in ("person", "organisation"):
            raise ValueError(f"unknown signer kind {kind!r}")
        if not common_name.strip():
            raise ValueError("common name must not be empty")
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(UTC)
        org = organisation or ("个人" if kind == "person" else common_name)
        subject = _name(
            common_name[:64],
            org[:64],
            serial=subject_ident[:64] or None,
            unit=(unit or ("劳动者" if kind == "person" else "用人单位"))[:64],
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.issuing.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                # digitalSignature + nonRepudiation (contentCommitment)
                x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._issuing_key.public_key()),
                critical=False,
            )
            .add_extension(_cdp(self.crl_url), critical=False)
            .sign(self._issuing_key, hashes.SHA256())
        )
        return SignerCredentials(_der(cert), _pkcs8(key), self.chain_der(), self.crls_der())

    def chain_der(self) -> tuple[bytes, ...]:
        return (_der(self.issuing), _der(self.root))

    def tsa(self) -> PlatformTsa:
        return PlatformTsa(_der(self.tsa_cert), _pkcs8(self._tsa_key), self.chain_der())

    # -- publishing ------------------------------------------------------------------------

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def root_der(self) -> bytes:
        return _der(self.root)

    def fingerprint(self) -> str:
        return hashlib.sha256(self.root_der()).hexdigest()

    def crl_der(self) -> bytes:
        """The issuing CA's CRL (signer and TSA certificates), refreshed when near expiry."""
        return self.crls_der()[0]

    def root_crl_der(self) -> bytes:
        return self.crls_der()[1]

    def crls_der(self) -> tuple[bytes, bytes]:
        self._ensure_fresh_crls()
        assert self._crls is not None
        return self._crls

    # -- revocation ------------------------------------------------------------------------

    def revoked(self) -> dict[str, str]:
        data = self.files.read("revoked.json")
        return json.loads(data) if data else {}

    def revoke(self, serial: int) -> None:
        with self._lock:
            entries = self.revoked()
            entries[str(serial)] = dt.datetime.now(UTC).isoformat()
            self.files.write("revoked.json", json.dumps(entries).encode())
            self._publish_crls()

    def _ensure_fresh_crls(self) -> None:
        if self._crls is not None and not _stale(self._crls[0]):
            return
        with self._lock:
            issuing, root = self.files.read("issuing.crl"), self.files.read("root.crl")
            if issuing is not None and root is not None:
                if not _stale(issuing) and not _stale(root):
                    self._crls = (issuing, root)
                    return
            self._publish_crls()

    def _publish_crls(self) -> None:
        now = dt.datetime.now(UTC)
        builder = _crl_builder(self.issuing.subject, now)
        for serial, when in self.revoked().items():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(int(serial))
                .revocation_date(dt.datetime.fromisoformat(when))
                .build()
            )
        issuing_crl = builder.sign(self._issuing_key, hashes.SHA256()).public_bytes(
            serialization.Encoding.DER
        )
        # The root key is decrypted for this moment alone and never kept.
        root_key = _load_key(self.files, "root.key", self._secret, "root")
        root_crl = (
            _crl_builder(self.root.subject, now)
            .sign(root_key, hashes.SHA256())
            .public_bytes(serialization.Encoding.DER)
        )
        self.files.write("issuing.crl", issuing_crl)
        self.files.write("root.crl", root_crl)
        self._crls = (issuing_crl, root_crl)


def create_bundle(secret: bytes, crl_url: str, root_crl_url: str | None = None) -> dict[str, bytes]:
    """A new platform CA as the files that every host must share (keys encrypted)."""
    if not secret:
        raise ValueError("the CA secret must not be empty")
    files = MemoryFiles()
    _create(files, secret, crl_url, root_crl_url or _root_crl_url(crl_url))
    return {name: _need(files, name) for name in BUNDLE}


def bundle_from_directory(directory: Path) -> dict[str, bytes] | None:
    """The bundle of a CA kept in `directory` by an earlier version, if complete."""
    files = DirectoryFiles(directory)
    found = {name: files.read(name) for name in BUNDLE}
    return {k: v for k, v in found.items() if v is not None} if all(found.values()) else None


def _root_crl_url(crl_url: str) -> str:
    return crl_url.rsplit("/", 1)[0] + "/root-crl"


def _need(files: CaFiles, name: str) -> bytes:
    data = files.read(name)
    if data is None:
        raise ValueError(f"the platform CA lacks {name}")
    return data


def _crl_builder(issuer: x509.Name, now: dt.datetime) -> x509.CertificateRevocationListBuilder:
    return (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=CRL_DAYS))
        .add_extension(x509.CRLNumber(int(now.timestamp() * 1000)), critical=False)
    )


def _stale(crl_der: bytes) -> bool:
    next_update = x509.load_der_x509_crl(crl_der).next_update_utc
    return next_update is None or next_update - CRL_REFRESH_MARGIN < dt.datetime.now(UTC)


def _cdp(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]
    )


def _atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _store_key(files: CaFiles, filename: str, key: ec.EllipticCurvePrivateKey, secret: bytes, name: str) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_passphrase(secret, name)),
    )
    files.write(filename, pem, 0o600)


def _load_key(files: CaFiles, filename: str, secret: bytes, name: str) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(_need(files, filename), password=_passphrase(secret, name))
    except ValueError as exc:
        raise ValueError(f"cannot decrypt the CA key {filename}: wrong secret?") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{filename} is not an EC key")
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
            # digitalSignature + keyCertSign + cRLSign
            x509.KeyUsage(True, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
        )
    )
    if crl_url:
        builder = builder.add_extension(_cdp(crl_url), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _create(files: CaFiles, secret: bytes, crl_url: str, root_crl_url: str) -> None:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("LaborSign 平台根证书", unit="平台根证书")
    root = _ca_cert(root_name, root_name, root_key, root_key, ROOT_YEARS, 1, None)
    issuing_key = ec.generate_private_key(ec.SECP256R1())
    issuing = _ca_cert(
        _name("LaborSign 签署中级证书", unit="签署证书"),
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
        .subject_name(_name("LaborSign 可信时间戳服务", unit="时间戳服务"))
        .issuer_name(issuing.subject)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * ISSUING_YEARS - 2))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
        # RFC 3161 §2.3: the TSA certificate must carry exactly this EKU, marked critical.
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(tsa_key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuing_key.public_key()), critical=False
        )
        .add_extension(_cdp(crl_url), critical=False)
        .sign(issuing_key, hashes.SHA256())
    )
    # Keys first, then certificates, issuing.pem last: its presence marks a complete CA.
    _store_key(files, "root.key", root_key, secret, "root")
    _store_key(files, "issuing.key", issuing_key, secret, "issuing")
    _store_key(files, "tsa.key", tsa_key, secret, "tsa")
    for name, cert in (("root.pem", root), ("tsa.pem", tsa), ("issuing.pem", issuing)):
        files.write(name, cert.public_bytes(serialization.Encoding.PEM))
