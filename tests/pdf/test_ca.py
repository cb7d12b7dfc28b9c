from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from laborsign.core.pdf.ca import PlatformCA

CRL_URL = "https://sign.example.cn/api/v1/pki/crl"


def test_created_once_then_loaded(tmp_path: Path) -> None:
    first = PlatformCA.load_or_create(tmp_path, b"secret", CRL_URL)
    again = PlatformCA.load_or_create(tmp_path, b"secret", CRL_URL)
    assert first.root_pem() == again.root_pem() and first.fingerprint() == again.fingerprint()
    assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "root.key").read_bytes()
    assert (tmp_path / "root.key").stat().st_mode & 0o077 == 0
    with pytest.raises(ValueError):
        PlatformCA.load_or_create(tmp_path, b"wrong secret", CRL_URL)


def test_chain_tsa_and_crl_distribution(platform_ca: PlatformCA) -> None:
    issuing, tsa = platform_ca.issuing, platform_ca.tsa_cert
    assert issuing.issuer == platform_ca.root.subject
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    issuing.verify_directly_issued_by(platform_ca.root)
    tsa.verify_directly_issued_by(issuing)
    crl = x509.load_der_x509_crl(platform_ca.crl_der())
    assert crl.issuer == issuing.subject and crl.is_signature_valid(issuing.public_key())
    root_crl = x509.load_der_x509_crl(platform_ca.root_crl_der())
    assert root_crl.is_signature_valid(platform_ca.root.public_key())


def test_signer_certificates(platform_ca: PlatformCA) -> None:
    person = platform_ca.issue_signer("张三", "4401**********123X", "person")
    cert = person.certificate
    cert.verify_directly_issued_by(platform_ca.issuing)
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "4401**********123X"
    assert person.common_name == "张三"
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert cdp[0].full_name[0].value == CRL_URL.replace("https://sign.example.cn", "http://127.0.0.1:8080")
    org = platform_ca.issue_signer("广州测试科技有限公司", "91440101MA59TEST3X", "organisation")
    assert (
        org.certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
        == "广州测试科技有限公司"
    )
    assert person.serial != org.serial
    with pytest.raises(ValueError):
        platform_ca.issue_signer("x", "y", "robot")  # type: ignore[arg-type]


def test_revoked_serial_is_listed(tmp_path: Path) -> None:
    ca = PlatformCA.load_or_create(tmp_path, b"secret", CRL_URL)
    signer = ca.issue_signer("李四", "1101**********0011", "person")
    ca.revoke(signer.serial)
    crl = x509.load_der_x509_crl(ca.crl_der())
    assert crl.get_revoked_certificate_by_serial_number(signer.serial) is not None
    reloaded = PlatformCA.load_or_create(tmp_path, b"secret", CRL_URL)
    assert x509.load_der_x509_crl(reloaded.crl_der()).get_revoked_certificate_by_serial_number(signer.serial)
