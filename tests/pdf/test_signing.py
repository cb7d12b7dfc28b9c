"""Real PAdES signatures checked by independent verifiers: pyHanko's validation API and
poppler's pdfsig with the platform root in a throw-away NSS database."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from laborsign.core.errors import Invalid, Unavailable
from laborsign.core.pdf.ca import HttpTsa, PlatformCA
from laborsign.core.pdf.fill import FillItem, fill_pdf
from laborsign.core.pdf.geometry import Box
from laborsign.core.pdf.seals import draw_round_seal
from laborsign.core.pdf.signing import sign_pdf
from laborsign.core.pdf.validate import verify_pdf

from .factory import flip_byte_in, handwriting_png, make_pdf
from .tsa_server import tsa_server

PARTIES = [
    ("张三", "4401**********123X", "person", "worker", "劳动者签署"),
    ("广州测试科技有限公司", "91440101MA59TEST3X", "organisation", "enterprise", "用人单位签署"),
    ("LaborSign 电子劳动合同平台", "平台存证", "organisation", "platform", "平台存证"),
]


def three_party(ca: PlatformCA, pages: int = 2) -> bytes:
    doc = fill_pdf(make_pdf(pages), [FillItem(1, 100, 200, 200, 20, text="月工资：伍仟元整")])
    images = [handwriting_png(), draw_round_seal("广州测试科技有限公司", "合同专用章"), None]
    for index, (name, ident, kind, field, reason) in enumerate(PARTIES):
        credentials = ca.issue_signer(name, ident, kind)  # type: ignore[arg-type]
        box = Box(pages, 80 + 160 * index, 600, 120, 120) if index < 2 else None
        doc = sign_pdf(
            doc,
            credentials=credentials,
            field_name=field,
            timestamper=ca.tsa(),
            box=box,
            appearance_png=images[index],
            reason=reason,
        )
    return doc


@pytest.fixture(scope="module")
def signed(platform_ca: PlatformCA) -> bytes:
    return three_party(platform_ca)


def test_each_signature_is_an_incremental_update(platform_ca: PlatformCA) -> None:
    doc = make_pdf()
    once = sign_pdf(doc, credentials=platform_ca.issue_signer("张三", "4401**", "person"),
                    field_name="worker", timestamper=platform_ca.tsa())  # fmt: skip
    twice = sign_pdf(once, credentials=platform_ca.issue_signer("某公司", "9144", "organisation"),
                     field_name="enterprise", timestamper=platform_ca.tsa())  # fmt: skip
    assert once.startswith(doc) and twice.startswith(once)


def test_three_parties_validate_in_pyhanko(platform_ca: PlatformCA, signed: bytes) -> None:
    reports = verify_pdf(signed, [platform_ca.root_der()])
    assert [r.signer for r in reports] == [p[0] for p in PARTIES]
    assert all(r.intact and r.trusted and r.timestamp_valid for r in reports), reports
    assert [r.covers_whole_document for r in reports] == [False, False, True]
    assert all(r.time_source == "timestamp" and r.signed_at is not None for r in reports)
    assert reports[-1].modification_level == "NONE"
    assert all(r.modification_level in ("NONE", "FORM_FILLING", "LTA_UPDATES") for r in reports)
    assert "4401**********123X" in reports[0].signer_subject
    assert "91440101MA59TEST3X" in reports[1].signer_subject


def test_chain_and_crls_are_embedded_for_offline_validation(signed: bytes) -> None:
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    dss = DocumentSecurityStore.read_dss(PdfFileReader(BytesIO(signed)))
    names = {c.subject.native["common_name"] for c in dss.load_certs()}
    assert {"LaborSign 平台根证书", "LaborSign 签署中级证书", "LaborSign 可信时间戳服务", "张三"} <= names
    assert len(dss.crls) >= 2


def test_only_the_platform_root_is_trusted(signed: bytes) -> None:
    from cryptography.hazmat.primitives import serialization

    other = PlatformCA.load_or_create(
        Path(__import__("tempfile").mkdtemp()), b"other", "http://example.invalid/crl"
    )
    reports = verify_pdf(signed, [other.root.public_bytes(serialization.Encoding.DER)])
    assert reports and all(r.intact and not r.trusted for r in reports)


def test_one_byte_changed_is_detected(platform_ca: PlatformCA, signed: bytes) -> None:
    tampered = flip_byte_in(signed, b"ReportLab PDF Library")
    reports = verify_pdf(tampered, [platform_ca.root_der()])
    assert reports and not any(r.intact for r in reports)
    assert all(r.problem for r in reports)


def test_appended_change_is_not_covered(platform_ca: PlatformCA, signed: bytes) -> None:
    reports = verify_pdf(signed + b"\n% appended after signing\n", [platform_ca.root_der()])
    assert reports and not any(r.covers_whole_document for r in reports)


def test_tsa_failure_produces_nothing(platform_ca: PlatformCA) -> None:
    doc = make_pdf()
    before = bytes(doc)
    credentials = platform_ca.issue_signer("张三", "4401**", "person")
    for url_mode in ("closed", "error", "garbage"):
        if url_mode == "closed":
            with pytest.raises(Unavailable) as caught:
                sign_pdf(
                    doc,
                    credentials=credentials,
                    field_name="w",
                    timestamper=HttpTsa("http://127.0.0.1:9/tsa", 2),
                )
        else:
            with tsa_server(platform_ca.tsa(), url_mode) as url, pytest.raises(Unavailable) as caught:
                sign_pdf(doc, credentials=credentials, field_name="w", timestamper=HttpTsa(url, 2))
        assert caught.value.code == "tsa_unavailable" and "时间戳" in caught.value.message
    assert doc == before


def test_external_rfc3161_tsa_over_http(platform_ca: PlatformCA) -> None:
    credentials = platform_ca.issue_signer("张三", "4401**", "person")
    with tsa_server(platform_ca.tsa()) as url:
        signed = sign_pdf(make_pdf(), credentials=credentials, field_name="w", timestamper=HttpTsa(url, 5))
    [report] = verify_pdf(signed, [platform_ca.root_der()])
    assert report.intact and report.trusted and report.timestamp_valid and report.covers_whole_document


def test_signing_twice_in_the_same_field_is_refused(platform_ca: PlatformCA, signed: bytes) -> None:
    with pytest.raises(Invalid):
        sign_pdf(signed, credentials=platform_ca.issue_signer("李四", "1", "person"),
                 field_name="worker", timestamper=platform_ca.tsa())  # fmt: skip


def test_box_outside_the_page_is_refused(platform_ca: PlatformCA) -> None:
    with pytest.raises(Invalid):
        sign_pdf(make_pdf(), credentials=platform_ca.issue_signer("李四", "1", "person"),
                 field_name="w", timestamper=platform_ca.tsa(), box=Box(1, 500, 800, 200, 100))  # fmt: skip


def test_visible_signature_renders(platform_ca: PlatformCA, signed: bytes) -> None:
    from io import BytesIO

    from PIL import Image

    from laborsign.core.pdf.render import render_page_png

    image = Image.open(BytesIO(render_page_png(signed, 2))).convert("RGB")
    seal = image.crop((240, 600, 360, 720))
    reds = sum(1 for r, g, b in seal.get_flattened_data() if r > 180 and g < 90 and b < 90)
    assert reds > 300, "the enterprise seal is drawn where its signature box is"
    ink = image.crop((80, 600, 200, 720)).convert("L")
    assert ink.getextrema()[0] < 80, "the handwritten signature is drawn"


async def test_sync_api_works_inside_a_running_event_loop(platform_ca: PlatformCA) -> None:
    signed = sign_pdf(make_pdf(), credentials=platform_ca.issue_signer("张三", "1", "person"),
                      field_name="w", timestamper=platform_ca.tsa())  # fmt: skip
    assert verify_pdf(signed, [platform_ca.root_der()])[0].intact


def _nss_db(tmp_path: Path, root_der: bytes) -> str:
    db = tmp_path / "nss"
    db.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True, capture_output=True)
    root = tmp_path / "root.der"
    root.write_bytes(root_der)
    subprocess.run(
        ["certutil", "-A", "-n", "LaborSign Root CA", "-t", "CT,C,C", "-i", str(root), "-d", f"sql:{db}"],
        check=True,
        capture_output=True,
    )
    return f"sql:{db}"


def _pdfsig(nss: str, path: Path) -> str:
    result = subprocess.run(["pdfsig", "-nssdir", nss, str(path)], capture_output=True, text=True, timeout=60)
    return result.stdout + result.stderr


@pytest.mark.skipif(
    shutil.which("pdfsig") is None or shutil.which("certutil") is None,
    reason="needs Debian poppler-utils (pdfsig) and libnss3-tools (certutil)",
)
def test_pdfsig_accepts_and_flags_tampering(platform_ca: PlatformCA, signed: bytes, tmp_path: Path) -> None:
    nss = _nss_db(tmp_path, platform_ca.root_der())
    good = tmp_path / "good.pdf"
    good.write_bytes(signed)
    out = _pdfsig(nss, good)
    assert out.count("Signature is Valid.") == 3, out
    assert out.count("Certificate is Trusted.") == 3, out
    assert out.count("Total document signed") == 1 and out.count("Not total document signed") == 2, out
    assert "ETSI.CAdES.detached" in out

    bad = tmp_path / "bad.pdf"
    bad.write_bytes(flip_byte_in(signed, b"ReportLab PDF Library"))
    out = _pdfsig(nss, bad)
    assert "Signature is Valid." not in out and "Digest Mismatch" in out, out


@pytest.mark.parametrize("rotation", [90, 270])
def test_visible_signature_on_a_rotated_page(platform_ca: PlatformCA, rotation: int) -> None:
    from io import BytesIO

    from PIL import Image
    from pypdf import PdfReader, PdfWriter

    from laborsign.core.pdf.render import render_page_png

    writer = PdfWriter(clone_from=PdfReader(BytesIO(make_pdf())))
    writer.pages[0].rotate(rotation)
    out = BytesIO()
    writer.write(out)
    signed = sign_pdf(out.getvalue(), credentials=platform_ca.issue_signer("张三", "1", "person"),
                      field_name="w", timestamper=platform_ca.tsa(), box=Box(1, 100, 100, 200, 80),
                      appearance_png=handwriting_png())  # fmt: skip
    image = Image.open(BytesIO(render_page_png(signed, 1))).convert("L")
    ink = image.crop((100, 100, 300, 180)).point(lambda v: 255 if v < 128 else 0).getbbox()
    assert ink is not None and ink[2] - ink[0] > ink[3] - ink[1], "drawn upright inside the displayed box"


def test_certificate_revoked_after_signing_is_reported(tmp_path: Path) -> None:
    ca = PlatformCA.load_or_create(tmp_path, b"secret", "http://127.0.0.1:8080/api/v1/pki/crl")
    credentials = ca.issue_signer("张三", "4401**", "person")
    signed = sign_pdf(make_pdf(), credentials=credentials, field_name="w", timestamper=ca.tsa())
    assert verify_pdf(signed, [ca.root_der()])[0].trusted
    ca.revoke(credentials.serial)
    [report] = verify_pdf(signed, [ca.root_der()], crls=[ca.crl_der()])
    assert report.intact and not report.trusted and report.problem == "签名证书已被吊销"


def _two_acts(doc: bytes, ca: PlatformCA, *, slots: bool) -> tuple[bytes, list[list[Any]]]:
    from laborsign.core.pdf.stamps import Stamp, add_slots

    acts: list[list[Any]] = [
        ["张三", "person", "worker", [Stamp(2, 80, 600, 120, 60, image_png=handwriting_png()),
                                      Stamp(1, 100, 300, 200, 20, text="工资卡号 6222020000000000")]],
        ["广州测试科技有限公司", "organisation", "enterprise",
         [Stamp(2, 300, 560, 120, 120, image_png=draw_round_seal("广州测试科技有限公司", "合同专用章")),
          Stamp(2, 300, 700, 120, 20, text="2026-11-27")]],
    ]  # fmt: skip
    if slots:
        n = 0
        for act in acts:
            named = []
            for stamp in act[3]:
                named.append(replace(stamp, slot=f"ls_mark_{n}"))
                n += 1
            act[3] = named
        doc = add_slots(doc, [replace(s, text=None, image_png=None) for act in acts for s in act[3]])
    for name, kind, field, stamps in acts:
        doc = sign_pdf(doc, credentials=ca.issue_signer(name, "44**", kind),
                       field_name=field, timestamper=ca.tsa(), stamps=stamps)  # fmt: skip
    return doc, acts


def test_a_partys_marks_fill_its_prepared_fields_under_its_own_signature(
    platform_ca: PlatformCA, tmp_path: Path
) -> None:
    """Each act is one revision; the values, images and date a party adds give the fields
    prepared before anyone signed their appearance, in the revision its signature covers. An
    earlier signature then sees form filling — allowed — and nothing unexplained."""
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    prepared = make_pdf(2)
    doc, acts = _two_acts(prepared, platform_ca, slots=True)
    reader = PdfFileReader(BytesIO(doc))
    assert reader.xrefs.total_revisions == 4, "the original, its prepared fields, one revision per act"
    assert [s.signed_revision for s in reader.embedded_signatures] == [2, 3]
    for revision in (2, 3):
        view = reader.get_historical_resolver(revision)
        painted = {
            f.get_object()["/T"]
            for f in view(reader.root.raw_get("/AcroForm")).get_object()["/Fields"]
            if f.get_object().get("/FT") == "/Btn" and f.get_object()["/AP"]["/N"].data
        }
        assert painted == {s.slot for act in acts[: revision - 1] for s in act[3]}
    reports = verify_pdf(doc, [platform_ca.root_der()])
    assert all(r.intact and r.trusted for r in reports)
    assert [r.modification_level for r in reports] == ["FORM_FILLING", "NONE"]
    assert [r.problem for r in reports] == ["", ""]
    assert reports[-1].covers_whole_document
    if shutil.which("pdfsig"):
        path = tmp_path / "acts.pdf"
        path.write_bytes(doc)
        out = subprocess.run(["pdfsig", "-nocert", str(path)], capture_output=True, text=True)
        assert out.stdout.count("Signature is Valid.") == 2, out.stdout
    # Without prepared fields the marks can only be new annotations, which pyHanko cannot
    # explain: the earlier signature is reported as followed by an unexplained change.
    legacy, _ = _two_acts(prepared, platform_ca, slots=False)
    first = verify_pdf(legacy, [platform_ca.root_der()])[0]
    assert first.modification_level == "OTHER" and first.problem == "签名后文件被修改"
