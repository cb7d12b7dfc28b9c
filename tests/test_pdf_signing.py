"""PAdES signing checked by independent verifiers: pyHanko's validation and poppler's pdfsig
with the platform root in a throw-away NSS database."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from laborsign.core.pdf.pades import PkiSettings, SignSpec, sign_document
from laborsign.core.pdf.pki import PlatformCA
from laborsign.core.pdf.stamps import Stamp, flatten_stamps
from laborsign.core.pdf.verify import verify_pdf
from tests.pdfs import make_pdf


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiSettings:
    return PkiSettings(str(tmp_path_factory.mktemp("pki")), b"test-secret", "http://127.0.0.1:8080")


def root_der(pki: PkiSettings) -> bytes:
    from cryptography.hazmat.primitives import serialization

    ca = PlatformCA.load_or_create(Path(pki.directory), pki.secret, pki.base_url)
    return ca.root.public_bytes(serialization.Encoding.DER)


def three_party(pki: PkiSettings) -> bytes:
    filled = flatten_stamps(make_pdf(2), [Stamp(1, 100, 200, 160, 20, text="月工资：伍仟元整")])
    worker = sign_document(
        filled,
        SignSpec("张三", "4401**********123X", "person", "worker", "劳动者签署",
                 stamps=[Stamp(2, 300, 650, 120, 20, text="2026年11月27日")]),
        pki,
    )  # fmt: skip
    enterprise = sign_document(
        worker,
        SignSpec("广州测试科技有限公司", "91350100M000100Y43", "organisation", "enterprise", "用人单位签署"),
        pki,
    )
    return sign_document(
        enterprise, SignSpec("LaborSign", "平台", "organisation", "platform", "平台存证"), pki
    )


def test_three_signatures_validate_in_pyhanko(pki: PkiSettings) -> None:
    signed = three_party(pki)
    report = verify_pdf(signed, [root_der(pki)])
    assert [s.signer for s in report.signatures] == ["张三", "广州测试科技有限公司", "LaborSign"]
    assert all(s.intact and s.trusted and s.timestamped for s in report.signatures)
    assert [s.covers_whole_document for s in report.signatures] == [False, False, True]
    assert "4401**********123X" in report.signatures[0].signer_subject


def test_filled_chinese_text_is_extractable_and_drawn(pki: PkiSettings) -> None:
    filled = flatten_stamps(make_pdf(1), [Stamp(1, 100, 200, 160, 20, text="月工资：伍仟元整")])
    assert "月工资：伍仟元整" in PdfReader(io.BytesIO(filled)).pages[0].extract_text()
    image = pdfium.PdfDocument(filled)[0].render(scale=1).to_pil().convert("L")
    box = image.crop((100, 200, 260, 220))
    assert box.getextrema()[0] < 100, "glyphs are drawn in the box (an unembedded font would leave it blank)"


def test_tampering_is_detected(pki: PkiSettings) -> None:
    signed = bytearray(three_party(pki))
    signed[700] ^= 0x01
    report = verify_pdf(bytes(signed), [root_der(pki)])
    assert report.signatures and not any(s.intact for s in report.signatures)


def test_unknown_root_is_not_trusted(pki: PkiSettings) -> None:
    report = verify_pdf(three_party(pki), [])
    assert all(s.intact and not s.trusted for s in report.signatures)


@pytest.mark.skipif(
    shutil.which("pdfsig") is None or shutil.which("certutil") is None, reason="poppler-utils/libnss3-tools"
)
def test_pdfsig_accepts_and_flags(pki: PkiSettings, tmp_path: Path) -> None:
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
    root = tmp_path / "root.der"
    root.write_bytes(root_der(pki))
    subprocess.run(
        ["certutil", "-A", "-n", "root", "-t", "CT,C,C", "-i", str(root), "-d", f"sql:{nss}"], check=True
    )
    good = tmp_path / "good.pdf"
    good.write_bytes(three_party(pki))
    out = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nss}", str(good)], capture_output=True, text=True
    ).stdout
    assert out.count("Signature is Valid.") == 3 and out.count("Certificate is Trusted.") == 3
    assert out.count("Not total document signed") == 2, "the last signature covers the whole file"
    bad = bytearray(good.read_bytes())
    bad[700] ^= 0x01
    tampered = tmp_path / "bad.pdf"
    tampered.write_bytes(bytes(bad))
    out = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nss}", str(tampered)], capture_output=True, text=True
    ).stdout
    assert "Signature is Valid." not in out and "Digest Mismatch" in out
