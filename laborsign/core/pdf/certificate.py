"""The 解除（终止）劳动合同证明 (Labor Contract Law Art. 50; Implementing Regulations Art. 24:
the term of the contract, the leaving date, the position and the years of service) as a one-page
A4 PDF with a seal area for the employer. The enterprise seals it with its usual signature."""

from __future__ import annotations

import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

from ..controls import Control, ControlKind, FilledBy
from .fonts import reportlab_font

PAGE_WIDTH, PAGE_HEIGHT = 595.28, 841.89
# Where the employer's seal goes, in the controls' coordinates (points from the top-left).
SEAL_BOX = (360.0, 560.0, 130.0, 130.0)


@dataclass(frozen=True)
class CertificateData:
    enterprise_name: str
    worker_name: str
    id_masked: str
    hire_date: str  # 2026年1月5日, or "—"
    position: str
    term: str  # 2026年1月5日至2029年1月4日 / 无固定期限（自…起）
    last_day: str
    ending: str  # 解除 or 终止
    reason: str
    years_of_service: str
    issued_on: str
    number: str


def build_certificate(data: CertificateData) -> bytes:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfgen import canvas
    from reportlab.platypus import Paragraph

    font = reportlab_font()
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=(PAGE_WIDTH, PAGE_HEIGHT))
    page.setTitle("解除（终止）劳动合同证明")
    page.setFont(font, 20)
    page.drawCentredString(PAGE_WIDTH / 2, PAGE_HEIGHT - 110, "解除（终止）劳动合同证明")
    page.setFont(font, 9)
    page.drawRightString(PAGE_WIDTH - 70, PAGE_HEIGHT - 135, f"编号：{data.number}")
    body = ParagraphStyle("body", fontName=font, fontSize=12, leading=24, firstLineIndent=24, wordWrap="CJK")
    paragraphs = [
        f"兹证明{data.worker_name}（证件号码：{data.id_masked}）自{data.hire_date}起在本单位工作，"
        f"担任{data.position}岗位。",
        f"双方订立的劳动合同期限为：{data.term}。",
        f"因{data.reason}，双方的劳动合同于{data.last_day}{data.ending}，{data.last_day}为该劳动者在本单位的最后工作日。",
        f"该劳动者在本单位的工作年限为{data.years_of_service}。",
        "特此证明。",
    ]
    y = PAGE_HEIGHT - 170
    for text in paragraphs:
        para = Paragraph(escape(text), body)
        _, height = para.wrap(PAGE_WIDTH - 140, PAGE_HEIGHT)
        y -= height
        para.drawOn(page, 70, y)
        y -= 6
    _, top, _, height = SEAL_BOX
    page.setFont(font, 12)
    page.drawString(300, PAGE_HEIGHT - top - height - 20, f"用人单位（盖章）：{data.enterprise_name}")
    page.drawString(300, PAGE_HEIGHT - top - height - 44, f"日期：{data.issued_on}")
    page.setFont(font, 9)
    page.drawString(
        70,
        60,
        "本证明一式两份，用人单位与劳动者各执一份；用人单位应对已解除或终止的劳动合同文本至少保存二年备查。",
    )
    page.showPage()
    page.save()
    return out.getvalue()


def seal_control() -> Control:
    x, y, width, height = SEAL_BOX
    return Control(
        key="enterprise_seal", label="用人单位盖章", kind=ControlKind.SEAL, filled_by=FilledBy.ENTERPRISE,
        page=1, x=x, y=y, width=width, height=height,
    )  # fmt: skip
