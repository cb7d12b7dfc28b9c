"""Labor-law checks made when a contract is initiated (SPEC §2.11): worker age, probation
length against the contract term (Labor Contract Law Art. 19) and probation wage against
the contract wage and the local minimum wage (Art. 20)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .identity_rules import age_on

MIN_WORKING_AGE = 16

# Field keys a template may use for these facts (dates as YYYY-MM-DD, money in yuan).
START_KEYS = ("contract_start_date", "start_date")
END_KEYS = ("contract_end_date", "end_date")
PROBATION_MONTHS_KEYS = ("probation_months",)
PROBATION_END_KEYS = ("probation_end_date",)
WAGE_KEYS = ("wage", "monthly_wage", "salary")
PROBATION_WAGE_KEYS = ("probation_wage",)


@dataclass(frozen=True)
class Warning_:
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


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
        return Decimal(str(raw)) if raw not in (None, "") else None
    except InvalidOperation:
        return None


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


def underage(birth_date: date | None, on: date) -> str | None:
    if birth_date is not None and age_on(birth_date, on) < MIN_WORKING_AGE:
        return f"劳动者未满{MIN_WORKING_AGE}周岁，不得招用（《劳动法》第十五条）"
    return None


def check_terms(values: dict[str, Any], minimum_wage: Decimal, region: str) -> list[Warning_]:
    warnings: list[Warning_] = []
    start = _date(_first(values, START_KEYS))
    end = _date(_first(values, END_KEYS))
    if start and end and end <= start:
        warnings.append(Warning_("end_before_start", "合同终止日期早于或等于起始日期"))
        return warnings
    probation = _probation_months(values, start)
    if start is not None and probation is not None:
        limit = max_probation_months(start, end)
        if probation > limit + 0.01:
            text = "不得约定试用期" if limit == 0 else f"试用期不得超过{limit}个月"
            warnings.append(
                Warning_(
                    "probation_too_long",
                    f"按合同期限，{text}（《劳动合同法》第十九条），当前约定约{probation:g}个月",
                )
            )
    wage, probation_wage = _money(_first(values, WAGE_KEYS)), _money(_first(values, PROBATION_WAGE_KEYS))
    if probation_wage is not None:
        floor = minimum_wage
        if wage is not None:
            floor = max(floor, (wage * Decimal("0.8")).quantize(Decimal("0.01")))
        if probation_wage < floor:
            warnings.append(
                Warning_(
                    "probation_wage_too_low",
                    f"试用期工资不得低于约定工资的80%且不得低于{region}最低工资标准{minimum_wage}元"
                    f"（《劳动合同法》第二十条），应不低于{floor}元",
                )
            )
    if wage is not None and wage < minimum_wage:
        warnings.append(Warning_("wage_below_minimum", f"约定工资低于{region}最低工资标准{minimum_wage}元"))
    return warnings


def _probation_months(values: dict[str, Any], start: date | None) -> float | None:
    raw = _first(values, PROBATION_MONTHS_KEYS)
    if raw is not None:
        amount = _money(raw)
        return float(amount) if amount is not None else None
    probation_end = _date(_first(values, PROBATION_END_KEYS))
    if start and probation_end:
        return round(months_between(start, probation_end), 2)
    return None
