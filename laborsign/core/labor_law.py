"""Labor-law rules (SPEC §2.11, issue 13): the terms of a contract as data, the checks made
before anything is sent (worker age, end before start, probation length and its wage against
Labor Contract Law Art. 19, 20 and 70, wages against the local minimum) and the minimum wage
table by region and effective date. Pure rules: the services feed them facts."""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .controls import Control, ControlKind, FilledBy
from .errors import Invalid
from .identity_rules import age_on

MIN_WORKING_AGE = 16

# Field keys a template may use for these facts (dates as YYYY-MM-DD, money in yuan). The
# designer's presets use the first of each; older templates' keys keep working.
START_KEYS = ("contract_start_date", "start_date")
END_KEYS = ("contract_end_date", "end_date")
PROBATION_MONTHS_KEYS = ("probation_months",)
PROBATION_END_KEYS = ("probation_end_date",)
WAGE_KEYS = ("monthly_wage", "wage", "salary")
PROBATION_WAGE_KEYS = ("probation_wage",)
POSITION_KEYS = ("position", "worker_position", "job_title")
WORK_PLACE_KEYS = ("work_place", "work_location", "workplace")
TERM_TYPE_KEYS = ("term_type",)

ART_15_LABOR_LAW = "《劳动法》第十五条"
ART_19 = "《劳动合同法》第十九条"
ART_19_2 = "《劳动合同法》第十九条第二款"
ART_20 = "《劳动合同法》第二十条"
ART_70 = "《劳动合同法》第七十条"
ART_48_LABOR_LAW = "《劳动法》第四十八条"


class TermType(enum.StrEnum):
    FIXED = "fixed"
    OPEN_ENDED = "open_ended"
    TASK_BASED = "task_based"
    PART_TIME = "part_time"


TERM_TYPE_LABELS = {
    TermType.FIXED: "固定期限",
    TermType.OPEN_ENDED: "无固定期限",
    TermType.TASK_BASED: "以完成一定工作任务为期限",
    TermType.PART_TIME: "非全日制",
}

# Template type (core.templates.TEMPLATE_TYPES) → the term it stands for.
TEMPLATE_TERM_TYPES = {
    "fixed_term": TermType.FIXED,
    "open_ended": TermType.OPEN_ENDED,
    "task_based": TermType.TASK_BASED,
    "part_time": TermType.PART_TIME,
}


# The designer's presets: a button label and the controls it places (key, kind, label), all
# filled by the initiator; worker_ keys are prefilled from the roster at launch, the others
# are the term's facts above.
CONTROL_PRESETS: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    ("乙方姓名", (("worker_name", "text", "乙方姓名"),)),
    ("身份证号", (("worker_id_number", "text", "身份证号码"),)),
    ("乙方手机号", (("worker_phone", "text", "乙方手机号"),)),
    ("乙方住址", (("worker_address", "text", "乙方住址"),)),
    (
        "合同起止日期",
        (("contract_start_date", "date", "合同开始日期"), ("contract_end_date", "date", "合同终止日期")),
    ),
    ("试用期", (("probation_end_date", "date", "试用期截止日期"),)),
    ("月工资", (("monthly_wage", "number", "月工资（元）"),)),
    ("试用期工资", (("probation_wage", "number", "试用期工资（元）"),)),
    ("岗位", (("position", "text", "岗位"),)),
    ("工作地点", (("work_place", "text", "工作地点"),)),
)


# What a launch from an uploaded PDF may say of its term: the presets' term facts (the PDF
# already holds the text, so these are data only), all optional.
UPLOAD_TERM_CONTROLS: tuple[Control, ...] = tuple(
    Control(key=key, label=label, kind=ControlKind(kind), filled_by=FilledBy.INITIATOR, required=False)
    for _, controls in CONTROL_PRESETS
    for key, kind, label in controls
    if not key.startswith("worker_")
)


# 确认离职: why the contract ends, as the certificate says it.
REASON_TYPE_LABELS = {
    "mutual_agreement": "双方协商一致",
    "employee_resigned": "劳动者提出解除劳动合同",
    "contract_expired": "劳动合同期满",
    "employer_terminated": "用人单位解除劳动合同",
    "other": "其他原因",
}

ALERT_KIND_LABELS = {
    "no_written_contract": "尚未订立书面劳动合同",
    "renewal_due": "劳动合同即将到期",
    "open_ended_due": "续订应订立无固定期限劳动合同",
    "probation_ending": "试用期即将结束",
}


@dataclass(frozen=True)
class Warning_:
    code: str
    message: str
    article: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "article": self.article}


@dataclass(eq=False)
class ContractTerm:
    """The facts of a labor contract the law cares about, stored beside the contract."""

    contract_id: str = ""
    type: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    probation_end_date: date | None = None
    monthly_wage: Decimal | None = None
    probation_wage: Decimal | None = None
    position: str | None = None
    work_place: str | None = None
    renewal_of: str | None = None  # the contract this one renews

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "type_label": TERM_TYPE_LABELS.get(TermType(self.type)) if self.type else None,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "probation_end_date": self.probation_end_date.isoformat() if self.probation_end_date else None,
            "monthly_wage": _money_text(self.monthly_wage),
            "probation_wage": _money_text(self.probation_wage),
            "position": self.position,
            "work_place": self.work_place,
        }

    @property
    def has_probation(self) -> bool:
        return self.probation_end_date is not None


def _money_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.quantize(Decimal("0.01")), "f")


def _first(values: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if values.get(key) not in (None, ""):
            return values[key]
    return None


def _date(raw: Any) -> date | None:
    try:
        return date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def _money(raw: Any) -> Decimal | None:
    try:
        value = Decimal(str(raw)) if raw not in (None, "") else None
    except InvalidOperation:
        return None
    # A text field may hold anything: only amounts a wage can be are amounts.
    return value if value is not None and value.is_finite() and abs(value) < Decimal("1e12") else None


def _text(raw: Any, limit: int) -> str | None:
    text = str(raw).strip() if raw not in (None, "") else ""
    return text[:limit] or None


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day where it is shorter), kept within the
    calendar: dates typed by people reach the year 9999."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    if not 1 <= year <= 9999:
        return date.max if year > 9999 else date.min
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_days(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def months_between(start: date, end: date) -> float:
    return (end.year - start.year) * 12 + (end.month - start.month) + (end.day - start.day) / 30.0


def max_probation_months(start: date, end: date | None) -> int:
    """Art. 19: < 3 months → none; 3 months–1 year → 1; 1–3 years → 2; ≥ 3 years or open-ended → 6."""
    if end is None:
        return 6
    term = months_between(start, end)
    if term < 3:
        return 0
    if term < 12:
        return 1
    if term < 36:
        return 2
    return 6


def parse_term_type(raw: object, field_name: str = "term_type") -> TermType | None:
    if raw in (None, ""):
        return None
    try:
        return TermType(str(raw))
    except ValueError:
        raise Invalid.field(
            field_name, "合同期限类型应为 fixed（固定期限）、open_ended（无固定期限）、task_based（以完成一定工作任务为期限）或 part_time（非全日制）"
        ) from None  # fmt: skip


def derive_term(
    values: dict[str, Any],
    template_types: Iterable[str] = (),
    chosen_type: object = None,
    roster_position: str | None = None,
) -> ContractTerm:
    """The term from a contract's values: the type chosen at launch, else the template's type
    (a general labor contract is fixed-term when it has an end date, else open-ended)."""
    start = _date(_first(values, START_KEYS))
    end = _date(_first(values, END_KEYS))
    kind = parse_term_type(chosen_type) or parse_term_type(_first(values, TERM_TYPE_KEYS))
    types = list(template_types)
    if kind is None:
        kind = next((TEMPLATE_TERM_TYPES[t] for t in types if t in TEMPLATE_TERM_TYPES), None)
    if kind is None and "labor_contract" in types:
        kind = TermType.FIXED if end is not None else TermType.OPEN_ENDED
    return ContractTerm(
        type=kind.value if kind else None,
        start_date=start,
        end_date=end,
        probation_end_date=_probation_end(values, start),
        monthly_wage=_money(_first(values, WAGE_KEYS)),
        probation_wage=_money(_first(values, PROBATION_WAGE_KEYS)),
        position=_text(_first(values, POSITION_KEYS), 100) or roster_position,
        work_place=_text(_first(values, WORK_PLACE_KEYS), 200),
    )


def _probation_end(values: dict[str, Any], start: date | None) -> date | None:
    given = _date(_first(values, PROBATION_END_KEYS))
    if given is not None:
        return given
    months = _money(_first(values, PROBATION_MONTHS_KEYS))
    if start is None or months is None or months <= 0:
        return None
    whole = int(months)
    end = add_days(add_months(start, whole), round(float(months - whole) * 30))
    return add_days(end, -1)


def probation_months(term: ContractTerm) -> float | None:
    if term.start_date is None or term.probation_end_date is None:
        return None
    return round(months_between(term.start_date, add_days(term.probation_end_date, 1)), 2)


# -- minimum wage ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MinimumWage:
    region: str  # a city (广州市) or a district (深圳市南山区)
    effective: date
    monthly: Decimal


# Guangdong's published monthly minimums (粤府函 2018 / 2021 / 2025), oldest first.
DEFAULT_MINIMUM_WAGES: tuple[MinimumWage, ...] = (
    MinimumWage("广州市", date(2018, 7, 1), Decimal("2100")),
    MinimumWage("广州市", date(2021, 12, 1), Decimal("2300")),
    MinimumWage("广州市", date(2025, 3, 1), Decimal("2500")),
    MinimumWage("深圳市", date(2018, 7, 1), Decimal("2200")),
    MinimumWage("深圳市", date(2022, 1, 1), Decimal("2360")),
    MinimumWage("深圳市", date(2025, 3, 1), Decimal("2520")),
)


@dataclass(frozen=True)
class MinimumWageTable:
    entries: tuple[MinimumWage, ...]
    default_region: str
    fallback: Decimal | None = None  # for a region the table does not know

    def region_for(self, work_place: str | None) -> str:
        """The most specific known region named in the work place, else the enterprise's."""
        known = sorted({e.region for e in self.entries}, key=len, reverse=True)
        if work_place:
            for region in known:
                if region in work_place:
                    return region
        return self.default_region

    def lookup(self, region: str, on: date) -> Decimal | None:
        """The value in force on `on` for the region, or for the city a district lies in."""
        candidates = [e for e in self.entries if region.startswith(e.region) and e.effective <= on]
        if not candidates:
            return self.fallback
        best = max(candidates, key=lambda e: (len(e.region), e.effective))
        return best.monthly


# -- the checks -----------------------------------------------------------------------------


@dataclass
class WorkerCheck:
    employee_id: str
    worker_name: str = ""
    errors: list[Warning_] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)
    term: ContractTerm | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "employee_id": self.employee_id,
            "worker_name": self.worker_name,
            "errors": [e.as_dict() for e in self.errors],
            "warnings": [w.as_dict() for w in self.warnings],
        }


def underage(birth_date: date | None, on: date) -> str | None:
    if birth_date is not None and age_on(birth_date, on) < MIN_WORKING_AGE:
        return f"劳动者未满{MIN_WORKING_AGE}周岁，不得招用（《劳动法》第十五条）"
    return None


def term_errors(term: ContractTerm, birth_date: date | None, today: date) -> list[Warning_]:
    """What makes a launch impossible."""
    out = []
    start = term.start_date or today
    too_young = underage(birth_date, start)
    if too_young:
        out.append(Warning_("worker_underage", too_young, ART_15_LABOR_LAW))
    if term.start_date and term.end_date and term.end_date <= term.start_date:
        out.append(Warning_("end_before_start", "合同终止日期早于或等于起始日期", ""))
    if term.start_date and term.probation_end_date and term.probation_end_date < term.start_date:
        out.append(Warning_("probation_before_start", "试用期截止日期早于合同起始日期", ""))
    return out


def term_warnings(
    term: ContractTerm, minimum: Decimal | None, region: str, *, earlier_probation: bool = False
) -> list[Warning_]:
    """What HR must confirm knowingly: the law says otherwise."""
    out: list[Warning_] = []
    months = probation_months(term)
    if months is not None and months > 0:
        out.extend(_probation_warnings(term, months, earlier_probation))
    if term.type == TermType.PART_TIME:
        return out  # its minimum is an hourly rate, not a monthly one
    wage, probation_wage = term.monthly_wage, term.probation_wage
    if probation_wage is not None:
        floor = minimum or Decimal("0")
        if wage is not None:
            floor = max(floor, (wage * Decimal("0.8")).quantize(Decimal("0.01")))
        if probation_wage < floor:
            minimum_text = f"且不得低于{region}最低工资标准{minimum}元" if minimum is not None else ""
            out.append(
                Warning_(
                    "probation_wage_too_low",
                    f"试用期工资不得低于约定工资的80%{minimum_text}，应不低于{floor}元，当前为{probation_wage}元",
                    ART_20,
                )
            )
    if wage is not None and minimum is not None and wage < minimum:
        out.append(
            Warning_(
                "wage_below_minimum",
                f"约定月工资{wage}元低于{region}最低工资标准{minimum}元",
                ART_48_LABOR_LAW,
            )
        )
    return out


def _probation_warnings(term: ContractTerm, months: float, earlier_probation: bool) -> list[Warning_]:
    out = []
    if term.type == TermType.PART_TIME:
        out.append(Warning_("probation_not_allowed", "非全日制用工双方当事人不得约定试用期", ART_70))
    elif term.type == TermType.TASK_BASED:
        out.append(
            Warning_("probation_not_allowed", "以完成一定工作任务为期限的劳动合同不得约定试用期", ART_19)
        )
    elif term.start_date is not None:
        end = None if term.type == TermType.OPEN_ENDED else term.end_date
        limit = max_probation_months(term.start_date, end)
        if months > limit + 0.01:
            text = "不得约定试用期" if limit == 0 else f"试用期不得超过{limit}个月"
            out.append(
                Warning_("probation_too_long", f"按合同期限，{text}，当前约定约{months:g}个月", ART_19)
            )
    if earlier_probation:
        out.append(
            Warning_(
                "second_probation", "该劳动者已与本单位约定过试用期，同一用人单位与同一劳动者只能约定一次试用期", ART_19_2
            )
        )  # fmt: skip
    return out


def check_terms(values: dict[str, Any], minimum_wage: Decimal, region: str) -> list[Warning_]:
    """The checks of one contract's values against a single minimum (kept for callers that
    have no table); dates the contract has not are skipped."""
    term = derive_term(values)
    errors = [e for e in term_errors(term, None, date.today()) if e.code == "end_before_start"]
    return errors or term_warnings(term, minimum_wage, region)


# -- the term as people read it (chat messages and cards, the certificate) ------------------


def date_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def period_text(term: ContractTerm) -> str | None:
    """合同期限 in words: the type and the dates, as far as the contract says them."""
    kind = TERM_TYPE_LABELS.get(TermType(term.type)) if term.type else None
    if term.start_date is None:
        return kind
    if term.end_date is None or term.type == TermType.OPEN_ENDED:
        dates = f"自{date_text(term.start_date)}起"
    else:
        dates = f"{date_text(term.start_date)}至{date_text(term.end_date)}"
    return f"{kind}，{dates}" if kind else dates


def term_lines(term: ContractTerm | None) -> list[str]:
    """The term's facts, one per line (empty when the contract states none): 合同期限, 试用期,
    月工资, 岗位, 工作地点; the same facts `GET /contracts/{id}` answers as `term`."""
    if term is None:
        return []
    out = []
    period = period_text(term)
    if period:
        out.append(f"合同期限：{period}")
    if term.probation_end_date is not None:
        out.append(f"试用期：至{date_text(term.probation_end_date)}")
    if term.monthly_wage is not None:
        wage = f"月工资：{_money_text(term.monthly_wage)}元"
        if term.probation_wage is not None:
            wage += f"（试用期{_money_text(term.probation_wage)}元）"
        out.append(wage)
    if term.position:
        out.append(f"岗位：{term.position}")
    if term.work_place:
        out.append(f"工作地点：{term.work_place}")
    return out


def term_summary(term: ContractTerm | None) -> str:
    """The term in one line for a list (a worker's 我的合同 in chat): the lines above but the
    work place, joined."""
    return "；".join(line for line in term_lines(term) if not line.startswith("工作地点"))


ART_10_82 = "《劳动合同法》第十条、第八十二条"


def written_contract_due(hire_date: date) -> date:
    """Art. 10: a written contract within one month of the first day of work."""
    return add_months(hire_date, 1)


def double_wages_from(hire_date: date) -> date:
    """Art. 82: from the day after that month the employer owes double wages each month."""
    return add_days(written_contract_due(hire_date), 1)


def hiring_note(birth_date: date | None, hire_date: date) -> str:
    """What HR reviewing a new hire is reminded of: a worker under 16 may not be hired; else
    the day the written contract is due and from when double wages accrue without it."""
    too_young = underage(birth_date, hire_date)
    if too_young:
        return too_young
    return (
        f"按{date_text(hire_date)}入职计，应于{date_text(written_contract_due(hire_date))}前订立书面劳动合同，"
        f"逾期未订立的，自{date_text(double_wages_from(hire_date))}起应每月支付二倍工资（{ART_10_82}）"
    )
