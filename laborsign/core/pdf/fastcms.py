"""CMS structures for PAdES signatures and RFC 3161 tokens, written as DER directly.

Why: profiling (bench/pdf_sign.py --profile) showed ~90% of a pyHanko signature spent in
asn1crypto building and re-encoding constructed structures (a constructed value is
re-encoded recursively on every dump(), and pyHanko dumps the container several times),
~50 ms a signature against ~5 ms for everything PDF. The structures a PAdES baseline
signature needs are few and fixed, so they are assembled here from DER pieces; pyHanko still
does the PDF side (incremental update, byte range, appearance, DSS). The output is checked in
tests against pyHanko's validator and poppler's pdfsig, and the signed attributes are the
ones pyHanko itself emits for PAdES (content-type, message-digest, signing-certificate-v2)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from asn1crypto import core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@lru_cache(maxsize=64)
def oid(dotted: str) -> bytes:
    return bytes(core.ObjectIdentifier(dotted).dump())


ID_DATA = "1.2.840.113549.1.7.1"
ID_SIGNED_DATA = "1.2.840.113549.1.7.2"
ID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
ID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
ID_SIGNING_TIME = "1.2.840.113549.1.9.5"
ID_SIGNING_CERT_V2 = "1.2.840.113549.1.9.16.2.47"
ID_TIMESTAMP_TOKEN = "1.2.840.113549.1.9.16.2.14"
ID_CT_TSTINFO = "1.2.840.113549.1.9.16.1.4"
SHA256 = "2.16.840.1.101.3.4.2.1"
ECDSA_SHA256 = "1.2.840.10045.4.3.2"
RSA_SHA256 = "1.2.840.113549.1.1.11"


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def seq(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


def set_of(*parts: bytes) -> bytes:
    # DER: elements of a SET OF in ascending order of their encodings.
    return tlv(0x31, b"".join(sorted(parts)))


def integer(n: int) -> bytes:
    length = max(1, (n.bit_length() + 8) // 8)  # room for the sign bit
    return tlv(0x02, n.to_bytes(length, "big", signed=True))


def octets(data: bytes) -> bytes:
    return tlv(0x04, data)


def explicit(n: int, content: bytes) -> bytes:
    return tlv(0xA0 + n, content)


def algorithm(dotted: str, null_params: bool = False) -> bytes:
    # RFC 5754: SHA-2 digest and ECDSA identifiers carry no parameters; RSA PKCS#1 has NULL.
    return seq(oid(dotted), b"\x05\x00" if null_params else b"")


def attribute(dotted: str, *values: bytes) -> bytes:
    return seq(oid(dotted), set_of(*values))


def generalized_time(when: datetime) -> bytes:
    when = when.astimezone(UTC)
    text = when.strftime("%Y%m%d%H%M%S")
    if when.microsecond:
        text += f".{when.microsecond // 1000:03d}".rstrip("0").rstrip(".")
    return tlv(0x18, (text + "Z").encode())


def utc_time(when: datetime) -> bytes:
    return tlv(0x17, when.astimezone(UTC).strftime("%y%m%d%H%M%SZ").encode())


@dataclass(frozen=True)
class CertInfo:
    """What a signer info needs from a certificate, parsed once."""

    der: bytes
    issuer_der: bytes
    subject_der: bytes
    serial: int
    sha256: bytes
    rsa: bool

    @classmethod
    def of(cls, der: bytes) -> CertInfo:
        return _cert_info(der)

    def issuer_and_serial(self) -> bytes:
        return seq(self.issuer_der, integer(self.serial))

    def signing_certificate_v2(self) -> bytes:
        # ESSCertIDv2 with the DEFAULT hash algorithm (SHA-256) left out, as DER requires.
        general_names = seq(tlv(0xA4, self.issuer_der))
        ess_cert_id = seq(octets(self.sha256), seq(general_names, integer(self.serial)))
        return seq(seq(ess_cert_id))

    def signature_algorithm(self) -> bytes:
        return algorithm(RSA_SHA256, null_params=True) if self.rsa else algorithm(ECDSA_SHA256)


@lru_cache(maxsize=512)
def _cert_info(der: bytes) -> CertInfo:
    cert = x509.load_der_x509_certificate(der)
    # The names exactly as encoded in the certificate (a re-encoding could differ and then
    # no validator would match the signer identifier to it).
    tbs = asn1_x509.Certificate.load(der)["tbs_certificate"]
    return CertInfo(
        der=der,
        issuer_der=tbs["issuer"].dump(),
        subject_der=tbs["subject"].dump(),
        serial=cert.serial_number,
        sha256=hashlib.sha256(der).digest(),
        rsa=isinstance(cert.public_key(), rsa.RSAPublicKey),
    )


def raw_sign(key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _signer_info(signer: CertInfo, signed_attrs: bytes, signature: bytes, unsigned: bytes = b"") -> bytes:
    return seq(
        integer(1),
        signer.issuer_and_serial(),
        algorithm(SHA256),
        b"\xa0" + signed_attrs[1:],  # [0] IMPLICIT SET OF Attribute: same contents, context tag
        signer.signature_algorithm(),
        octets(signature),
        unsigned,
    )


def _signed_data(version: int, encap: bytes, certs: list[bytes], signer_info: bytes) -> bytes:
    body = seq(
        integer(version),
        set_of(algorithm(SHA256)),
        encap,
        b"\xa0" + set_of(*dict.fromkeys(certs))[1:],  # [0] IMPLICIT CertificateSet
        set_of(signer_info),
    )
    return seq(oid(ID_SIGNED_DATA), explicit(0, body))


def pades_signed_attrs(document_digest: bytes, signer: CertInfo) -> bytes:
    """The SET OF signed attributes (DER, universal SET tag: what the signature covers)."""
    return set_of(
        attribute(ID_CONTENT_TYPE, oid(ID_DATA)),
        attribute(ID_MESSAGE_DIGEST, octets(document_digest)),
        attribute(ID_SIGNING_CERT_V2, signer.signing_certificate_v2()),
    )


def pades_signature(
    *,
    signed_attrs: bytes,
    signature: bytes,
    signer: CertInfo,
    chain: list[bytes],
    timestamp_token: bytes | None,
) -> bytes:
    """A detached CMS SignedData (ETSI.CAdES.detached) over a PDF byte-range digest, with the
    signature-time-stamp token (over the signature value) as unsigned attribute. Returns the
    ContentInfo DER."""
    unsigned = b""
    if timestamp_token is not None:
        unsigned = b"\xa1" + set_of(attribute(ID_TIMESTAMP_TOKEN, timestamp_token))[1:]
    info = _signer_info(signer, signed_attrs, signature, unsigned)
    return _signed_data(1, seq(oid(ID_DATA)), [signer.der, *chain], info)


def timestamp_token(
    *,
    imprint: bytes,
    tsa: CertInfo,
    key: PrivateKey,
    chain: list[bytes],
    policy: str,
    when: datetime | None = None,
    nonce: int | None = None,
) -> bytes:
    """An RFC 3161 TimeStampToken (ContentInfo DER) signed by the time-stamping unit."""
    when = when or datetime.now(UTC)
    tst_fields = [
        integer(1),
        oid(policy),
        seq(algorithm(SHA256), octets(imprint)),
        integer(secrets.randbits(127)),
        generalized_time(when),
        seq(integer(1)),  # accuracy: one second
    ]
    if nonce is not None:
        tst_fields.append(integer(nonce))
    tst_fields.append(explicit(0, tlv(0xA4, tsa.subject_der)))  # tsa [0] GeneralName directoryName
    tst_info = seq(*tst_fields)
    signed_attrs = set_of(
        attribute(ID_CONTENT_TYPE, oid(ID_CT_TSTINFO)),
        attribute(ID_SIGNING_TIME, utc_time(when)),
        attribute(ID_MESSAGE_DIGEST, octets(hashlib.sha256(tst_info).digest())),
        attribute(ID_SIGNING_CERT_V2, tsa.signing_certificate_v2()),
    )
    info = _signer_info(tsa, signed_attrs, raw_sign(key, signed_attrs))
    encap = seq(oid(ID_CT_TSTINFO), explicit(0, octets(tst_info)))
    return _signed_data(3, encap, [tsa.der, *chain], info)


def private_key_from_der(der: bytes) -> PrivateKey:
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError("only EC and RSA keys are supported")
    return key
