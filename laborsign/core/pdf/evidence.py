"""The evidence report (出证报告) for one contract: identifiers, the document's original and
final SHA-256, each party and how they were verified, and the hash-chained audit events, as
an A4 Chinese PDF. The caller signs it with the platform's credentials (signing.py), so the
report itself is tamper-evident and timestamped."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from ..clock import china_text
from .fonts import reportlab_font


@dataclass(frozen=True)
class EvidenceParty:
    role: str  # 劳动者 / 用人单位 / 平台
    name: str
    ident_masked: str  # masked ID number or credit code
    verification: str  # how the identity was verified, e.g. 运营商三要素 / 人脸识别 / 对公打款
    intent: str = ""  # intent verification at signing, e.g. 短信验证码
    signed_at: datetime | None = None
    certificate_serial: str = ""


@dataclass(frozen=True)
class EvidenceEvent:
    at: datetime
    actor: str
    action: str
    ip: str = ""
    user_agent: str = ""
    method: str = ""
    document_sha256: str = ""
    chain_hash: str = ""


@dataclass(frozen=True)
class EvidenceData:
    contract_id: str
    contract_name: str
    original_sha256: str
    final_sha256: str
    parties: list[EvidenceParty]
    events: list[EvidenceEvent]
    generated_at: datetime
    enterprise_name: str = ""
    status: str = ""
    platform_name: str = "LaborSign 电子劳动合同平台"
    notes: list[str] = field(default_factory=list)


def _when(value: datetime | None) -> str:
    return china_text(value, seconds=True, empty="—")


def build_evidence_report(data: EvidenceData) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = reportlab_font()
    # wordWrap="CJK" breaks anywhere, which is what Chinese text and long hashes both need.
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    small = ParagraphStyle("small", parent=base, fontSize=6.5, leading=8.5)
    title = ParagraphStyle("title", parent=base, fontSize=18, leading=24, alignment=1, spaceAfter=4)
    heading = ParagraphStyle("heading", parent=base, fontSize=11.5, leading=16, spaceBefore=10, spaceAfter=4)
    muted = ParagraphStyle("muted", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#555555"))

    def p(text: object, style: ParagraphStyle = base) -> Paragraph:
        return Paragraph(escape(str(text) if text not in (None, "") else "—"), style)

    grid = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
    )
    width = A4[0] - 30 * mm
    story: list[Any] = [
        p("电子劳动合同出证报告", title),
        p(f"{data.platform_name}　　生成时间：{_when(data.generated_at)}（北京时间）", muted),
        Spacer(1, 6),
        p("一、合同信息", heading),
    ]
    facts = [
        ("合同编号", data.contract_id),
        ("合同名称", data.contract_name),
        ("用人单位", data.enterprise_name),
        ("合同状态", data.status),
        ("原始文件 SHA-256", data.original_sha256),
        ("最终文件 SHA-256", data.final_sha256),
    ]
    table = Table([[p(k), p(v)] for k, v in facts], colWidths=[32 * mm, width - 32 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eeeeee")),
            ]
        )
    )
    story.append(table)

    story.append(p("二、签署方", heading))
    rows = [[p(h) for h in ("角色", "名称", "证件号/信用代码", "实名认证方式", "意愿认证", "签署时间")]]
    rows += [
        [p(x.role), p(x.name), p(x.ident_masked), p(x.verification), p(x.intent), p(_when(x.signed_at))]
        for x in data.parties
    ]
    parties = Table(
        rows, colWidths=[18 * mm, 38 * mm, 36 * mm, 28 * mm, 22 * mm, width - 142 * mm], repeatRows=1
    )
    parties.setStyle(grid)
    story.append(parties)

    story.append(p("三、操作记录（审计日志，逐条哈希链接）", heading))
    header = ("时间", "操作人", "操作", "IP", "设备/浏览器", "验证方式", "文件哈希", "链哈希")
    events = [[p(h, small) for h in header]]
    for e in data.events:
        events.append(
            [
                p(_when(e.at), small),
                p(e.actor, small),
                p(e.action, small),
                p(e.ip, small),
                p(e.user_agent[:160], small),
                p(e.method, small),
                p(e.document_sha256, small),
                p(e.chain_hash, small),
            ]
        )
    col = [20, 18, 18, 17, 30, 15, 31, 31]
    scale = width / (sum(col) * mm)
    log = Table(events, colWidths=[c * mm * scale for c in col], repeatRows=1)
    log.setStyle(grid)
    story.append(log)

    story.append(Spacer(1, 8))
    notes = data.notes or [
        "本报告由平台根据合同签署过程中记录的数据自动生成，并由平台使用其数字证书签名、加盖可信时间戳。",
        "文件哈希可与所持合同文件的 SHA-256 值比对；操作记录逐条哈希链接，删除或篡改任一记录均可被发现。",
    ]
    story.extend(p(n, muted) for n in notes)

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=f"出证报告 {data.contract_id}",
        author=data.platform_name,
        subject=data.contract_name,
    )
    doc.build(story, canvasmaker=_numbered_canvas(font, data.contract_id))
    return out.getvalue()


def _numbered_canvas(font: str, contract_id: str) -> Any:
    """A canvas that writes "第 n 页 / 共 N 页" once the page count is known."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(font, 8)
                width = self._pagesize[0]
                self.drawCentredString(
                    width / 2, 10 * mm, f"合同编号 {contract_id}　第 {self._pageNumber} 页 / 共 {total} 页"
                )
                super().showPage()
            super().save()

    return NumberedCanvas
