"""The evidence report (出证报告): an A4 Chinese PDF describing a contract, its parties and
how each was verified, its file hashes and its whole audit trail. The platform signs it."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from .stamps import register_cjk_font


@dataclass(frozen=True)
class EvidenceData:
    contract_id: str
    name: str
    status: str
    enterprise: str
    credit_code: str
    worker: str
    worker_id_masked: str
    original_sha256: str
    final_sha256: str
    generated_at: str
    chain_intact: bool
    parties: list[dict[str, Any]] = field(default_factory=list)  # role, name, status, signed_at, method
    events: list[dict[str, Any]] = field(default_factory=list)  # at, label, actor, ip, method, sha256, hash


def build_evidence_report(data: EvidenceData) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = register_cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=10)
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=24, alignment=1, spaceAfter=6)
    heading = ParagraphStyle("heading", parent=body, fontSize=12, leading=18, spaceBefore=10, spaceAfter=4)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=16 * mm, bottomMargin=16 * mm,
        title="电子劳动合同出证报告", author="LaborSign",
    )  # fmt: skip

    def p(text: Any, style: ParagraphStyle = body) -> Paragraph:
        from xml.sax.saxutils import escape

        return Paragraph(escape(str(text if text is not None else "")), style)

    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f2f2f2")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )
    story: list[Any] = [
        p("电子劳动合同出证报告", title),
        p(f"报告生成时间：{data.generated_at}", small),
        Spacer(1, 6),
    ]
    facts = [
        ["合同编号", data.contract_id], ["合同名称", data.name], ["合同状态", data.status],
        ["用人单位", f"{data.enterprise}（统一社会信用代码 {data.credit_code}）"],
        ["劳动者", f"{data.worker}（证件号 {data.worker_id_masked}）"],
        ["原始文件 SHA-256", data.original_sha256], ["最终文件 SHA-256", data.final_sha256],
        ["审计记录哈希链", "完整，未被删改" if data.chain_intact else "异常：审计记录被删除或篡改"],
    ]  # fmt: skip
    story.append(p("一、合同信息", heading))
    table = Table([[p(k), p(v)] for k, v in facts], colWidths=[38 * mm, 140 * mm])
    table.setStyle(
        TableStyle(
            [("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        )
    )
    story.append(table)
    story.append(p("二、签署方与身份核验", heading))
    rows = [[p("角色"), p("名称"), p("状态"), p("签署时间"), p("意愿认证")]]
    for party in data.parties:
        rows.append(
            [
                p(party["role"]),
                p(party["name"]),
                p(party["status"]),
                p(party.get("signed_at") or "-"),
                p(party.get("method") or "-"),
            ]
        )
    t = Table(rows, colWidths=[20 * mm, 62 * mm, 22 * mm, 42 * mm, 32 * mm])
    t.setStyle(grid)
    story.append(t)
    story.append(
        p(
            "每一方的签署均由平台在意愿认证通过后签发数字证书，并以 PAdES 数字签名（含可信时间戳）施加于合同文件，"
            "签署后对文件的任何修改均可被验签工具发现。",
            small,
        )
    )
    story.append(p("三、审计记录", heading))
    rows = [
        [
            p("时间", small),
            p("事件", small),
            p("操作人", small),
            p("IP / 方式", small),
            p("文件哈希 / 记录哈希", small),
        ]
    ]
    for e in data.events:
        rows.append(
            [
                p(e["at"], small), p(e["label"], small), p(e["actor"], small),
                p(f"{e.get('ip') or '-'} / {e.get('method') or '-'}", small),
                p(f"{e['sha256'][:16]}… / {e['hash'][:16]}…", small),
            ]
        )  # fmt: skip
    t = Table(rows, colWidths=[30 * mm, 24 * mm, 34 * mm, 36 * mm, 54 * mm], repeatRows=1)
    t.setStyle(grid)
    story.append(t)
    doc.build(story)
    return out.getvalue()
