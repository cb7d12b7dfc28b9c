"""The standard labor contract (劳动合同书): its text, written for this project with every
clause Art. 17 of the PRC Labor Contract Law requires, laid out as a PDF, and the template
controls placed on its blanks. A fresh install offers it as a public template
(laborsign/first_start.py); `laborsign demo` uploads it for its enterprise."""

from __future__ import annotations

import copy
import io
from functools import lru_cache
from typing import Any

# A blank: (key, label, kind, width in points, options). Everything filled by the initiator
# comes from the roster or the launch's fields; the parties sign and seal.
Blank = tuple[str, str, str, float, tuple[str, ...]]
Line = list[str | Blank]

NAME = "标准劳动合同（全日制）"
POSITIONS = ("普工", "技工", "文员", "销售代表", "仓管员")


def _b(key: str, label: str, width: float = 120, kind: str = "text", options: tuple[str, ...] = ()) -> Blank:
    return (key, label, kind, width, options)


TITLE = "劳动合同书"
PAGES: list[list[Line | str]] = [
    [
        ["甲方（用人单位）：", _b("enterprise_name", "甲方名称", 260)],
        ["统一社会信用代码：", _b("enterprise_credit_code", "统一社会信用代码", 200)],
        ["住所：", _b("enterprise_address", "甲方住所", 300)],
        ["法定代表人（主要负责人）：", _b("enterprise_legal_rep", "法定代表人", 120)],
        [
            "乙方（劳动者）：",
            _b("worker_name", "乙方姓名", 100),
            "  联系电话：",
            _b("worker_phone", "乙方电话", 110),
        ],
        ["居民身份证号码：", _b("worker_id_number", "乙方证件号码", 200)],
        ["户籍或经常居住地址：", _b("worker_address", "乙方住址", 280)],
        "根据《中华人民共和国劳动法》《中华人民共和国劳动合同法》等法律法规，甲乙双方遵循合法、公平、"
        "平等自愿、协商一致、诚实信用的原则，订立本合同，共同遵守。",
        "第一条 合同期限",
        [
            "本合同为固定期限劳动合同，自",
            _b("contract_start_date", "合同开始日期", 95, "date"),
            "起至",
            _b("contract_end_date", "合同结束日期", 95, "date"),
            "止。",
        ],
        [
            "其中试用期",
            _b("probation_months", "试用期（月）", 30, "number"),
            "个月，自合同开始之日起计算（可选条款，不约定的填0）。",
        ],
        "第二条 工作内容和工作地点",
        [
            "乙方同意在",
            _b("position", "工作岗位", 90, "choice", POSITIONS),
            "岗位工作，工作地点为",
            _b("work_place", "工作地点", 170),
            "。",
        ],
        "乙方应按照甲方依法制定的岗位职责和质量、数量要求完成工作任务。甲方因生产经营需要调整乙方岗位或"
        "工作地点的，应与乙方协商一致并以书面形式变更本合同。",
        "第三条 工作时间和休息休假",
        "甲方实行标准工时制度，乙方每日工作不超过八小时、平均每周工作不超过四十小时，每周至少休息一日。"
        "甲方因生产经营需要安排加班的，应与工会和乙方协商，并依法支付加班工资或安排补休。乙方依法享有"
        "法定节假日、年休假、婚丧假、产假等假期。",
        "第四条 劳动报酬",
        [
            "乙方月工资为人民币",
            _b("monthly_wage", "月工资（元）", 80, "number"),
            "元，试用期月工资为人民币",
            _b("probation_wage", "试用期工资（元）", 80, "number"),
            "元。",
        ],
        [
            "甲方于每月",
            _b("pay_day", "发薪日", 30, "number"),
            "日前以货币形式足额支付乙方上月工资，不得克扣或无故"
            "拖欠。试用期工资不低于本单位相同岗位最低档工资的百分之八十或本合同约定工资的百分之八十，并不低于"
            "当地最低工资标准。",
        ],
    ],
    [
        "第五条 社会保险",
        "甲乙双方应依法参加基本养老、医疗、工伤、失业、生育等社会保险，按时足额缴纳社会保险费；乙方个人"
        "应缴部分由甲方从工资中代扣代缴。甲方应依法为乙方缴存住房公积金。",
        "第六条 劳动保护、劳动条件和职业危害防护",
        "甲方应建立健全劳动安全卫生制度，为乙方提供符合国家规定的劳动安全卫生条件和必要的劳动防护用品；"
        "对可能产生职业病危害的岗位，应如实告知乙方危害及其后果、防护措施和待遇，并组织上岗前、在岗期间"
        "和离岗时的职业健康检查。乙方有权拒绝违章指挥、强令冒险作业。",
        "第七条 培训（可选条款）",
        "甲方为乙方提供专项培训费用、进行专业技术培训的，双方可另行签订培训协议约定服务期；乙方违反服务期"
        "约定的，违约金不超过服务期尚未履行部分所应分摊的培训费用。",
        "第八条 保守秘密（可选条款）",
        "乙方应保守甲方的商业秘密和与知识产权相关的保密事项。对负有保密义务的乙方，双方可另行签订保密协议"
        "或竞业限制协议，竞业限制期限不超过二年，期间甲方按月给予乙方经济补偿。",
        "第九条 合同的变更、解除和终止",
        "本合同的变更、解除、终止和续订，依照《中华人民共和国劳动合同法》的规定执行。解除或终止本合同时，"
        "甲方应出具解除或终止劳动合同的证明，并在十五日内为乙方办理档案和社会保险关系转移手续。",
        "第十条 劳动争议处理",
        "双方因履行本合同发生劳动争议的，可以协商解决，也可以向本单位劳动争议调解委员会申请调解；不愿调解"
        "或调解不成的，可以向劳动争议仲裁委员会申请仲裁。",
        "第十一条 其他",
        "本合同以电子形式订立，经双方以可靠的电子签名签署后生效，与纸质合同具有同等法律效力，双方各持有"
        "一份，内容一致。",
        ["甲方（盖章）：", _b("company_seal", "甲方盖章", 130, "seal")],
        ["乙方（签名）：", _b("worker_sign", "乙方签名", 150, "signature")],
        ["乙方签署日期：", _b("worker_sign_date", "乙方签署日期", 110, "sign_date")],
    ],
]

_SIZE = 10.5
_LEAD = 19.0
_LEFT = 62.0
_RIGHT = 533.0
_TOP = 72.0
_HEIGHTS = {"signature": 60.0, "seal": 110.0}


_NO_LINE_START = "，。、；：）》”！？"


def _wrap(text: str, width: float, measure: Any, first: float | None = None) -> list[str]:
    """Lines of at most `width` points (`first` for the first line); closing punctuation stays
    at the end of its line rather than starting the next."""
    lines: list[str] = []
    current = ""
    for char in text:
        room = first if first is not None and not lines else width
        if measure(current + char) > room and char not in _NO_LINE_START and current:
            lines.append(current)
            current = char
        else:
            current += char
    return [*lines, current] if current else lines


def build_template_pdf() -> tuple[bytes, list[dict[str, Any]]]:
    """The PDF (A4) and its controls as the designer sends them (shipping the template checks
    them into `Control`s), in PDF points from each page's top-left corner."""
    pdf, controls = _built()
    return pdf, copy.deepcopy(list(controls))


@lru_cache(maxsize=1)
def _built() -> tuple[bytes, tuple[dict[str, Any], ...]]:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    from .pdf.fonts import reportlab_font

    font = reportlab_font()
    height = A4[1]
    out = io.BytesIO()
    # invariant: the same bytes on every host (no timestamp or random id), so processes shipping
    # it at the same time store one file.
    pdf = canvas.Canvas(out, pagesize=A4, invariant=1)
    pdf.setTitle(NAME)
    controls: list[dict[str, Any]] = []

    def measure(text: str) -> float:
        return float(stringWidth(text, font, _SIZE))

    for number, page in enumerate(PAGES, start=1):
        y = _TOP
        if number == 1:
            pdf.setFont(font, 20)
            pdf.drawCentredString(A4[0] / 2, height - y, TITLE)
            y += 36
        pdf.setFont(font, _SIZE)
        for item in page:
            if isinstance(item, str):
                heading = item.startswith("第") and "条" in item[:5] and len(item) < 30
                for text in _wrap(item if heading else "　　" + item, _RIGHT - _LEFT, measure):
                    pdf.drawString(_LEFT, height - y, text)
                    y += _LEAD
                continue
            x = _LEFT
            tallest = _LEAD
            for part in item:
                if isinstance(part, str):
                    for k, text in enumerate(_wrap(part, _RIGHT - _LEFT, measure, _RIGHT - x) or [""]):
                        if k:
                            x, y = _LEFT, y + _LEAD
                        pdf.drawString(x, height - y, text)
                        x += measure(text)
                    continue
                key, label, kind, width, options = part
                box_h = _HEIGHTS.get(kind, _SIZE + 6)
                if x + width > _RIGHT:
                    x, y = _LEFT, y + _LEAD
                pdf.line(x, height - y - 2, x + width, height - y - 2)
                top = y - _SIZE - 2 if kind not in _HEIGHTS else y - box_h + 8
                control: dict[str, Any] = {
                    "key": key, "label": label, "kind": kind, "file": 0, "page": number,
                    "x": round(x + 2, 1), "y": round(max(top, 20), 1), "width": width - 4, "height": box_h,
                    "required": True,
                    "filled_by": {"signature": "worker", "sign_date": "worker", "seal": "enterprise"}.get(
                        kind, "initiator"
                    ),
                }  # fmt: skip
                if options:
                    control["options"] = list(options)
                controls.append(control)
                x += width + 4
                tallest = max(tallest, box_h - 4 if kind in _HEIGHTS else _LEAD)
            y += tallest + (8 if tallest > _LEAD else 0)
        pdf.setFont(font, 8)
        pdf.drawCentredString(A4[0] / 2, 30, f"第 {number} 页 共 {len(PAGES)} 页")
        pdf.showPage()
    pdf.save()
    return out.getvalue(), tuple(controls)
