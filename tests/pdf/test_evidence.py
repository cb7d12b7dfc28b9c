from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta

from pypdf import PdfReader

from laborsign.core.pdf.ca import PlatformCA
from laborsign.core.pdf.evidence import EvidenceData, EvidenceEvent, EvidenceParty, build_evidence_report
from laborsign.core.pdf.signing import sign_pdf
from laborsign.core.pdf.validate import verify_pdf


def evidence(events: int = 120) -> EvidenceData:
    start = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    chain = "0" * 64
    rows = []
    for i in range(events):
        chain = hashlib.sha256(f"{chain}{i}".encode()).hexdigest()
        rows.append(
            EvidenceEvent(
                at=start + timedelta(minutes=i),
                actor="张三" if i % 2 else "HR 李四",
                action=["创建", "查看", "填写", "签署", "意愿认证"][i % 5],
                ip="203.0.113.7",
                user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0",
                method="短信验证码" if i % 5 == 4 else "",
                document_sha256=hashlib.sha256(str(i).encode()).hexdigest(),
                chain_hash=chain,
            )
        )
    return EvidenceData(
        contract_id="LC-2026-000123",
        contract_name="劳动合同（固定期限）",
        original_sha256="a" * 64,
        final_sha256="b" * 64,
        enterprise_name="广州测试科技有限公司",
        status="已完成",
        parties=[
            EvidenceParty("劳动者", "张三", "4401**********123X", "运营商三要素", "短信验证码", start),
            EvidenceParty(
                "用人单位", "广州测试科技有限公司", "91440101MA59TEST3X", "对公打款", "短信验证码", start
            ),
        ],
        events=rows,
        generated_at=start + timedelta(days=1),
    )


def test_report_is_paginated_chinese_and_extractable() -> None:
    pdf = build_evidence_report(evidence())
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) > 2
    first = reader.pages[0].extract_text()
    for needle in ("出证报告", "LC-2026-000123", "劳动合同（固定期限）", "4401**********123X", "对公打款"):
        assert needle in first.replace("\n", ""), needle
    assert "共 " in reader.pages[-1].extract_text()
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    assert text.count("203.0.113.7") == 120


def test_report_signed_by_the_platform_validates(platform_ca: PlatformCA) -> None:
    pdf = build_evidence_report(evidence(10))
    signed = sign_pdf(
        pdf,
        credentials=platform_ca.issue_signer("LaborSign 电子劳动合同平台", "平台", "organisation"),
        field_name="platform",
        timestamper=platform_ca.tsa(),
        reason="出证",
    )
    [report] = verify_pdf(signed, [platform_ca.root_der()])
    assert report.intact and report.trusted and report.covers_whole_document and report.timestamp_valid
