from datetime import date
from decimal import Decimal

from laborsign.core.labor_law import check_terms, max_probation_months, underage

MIN = Decimal("2500")


def codes(values: dict) -> list[str]:
    return [w.code for w in check_terms(values, MIN, "广州市")]


def test_probation_limits_follow_article_19() -> None:
    start = date(2027, 1, 1)
    assert max_probation_months(start, date(2027, 3, 1)) == 0
    assert max_probation_months(start, date(2027, 11, 30)) == 1
    assert max_probation_months(start, date(2027, 12, 31)) == 2  # a full year is "一年以上"
    assert max_probation_months(start, date(2029, 11, 30)) == 2
    assert max_probation_months(start, date(2029, 12, 31)) == 6
    assert max_probation_months(start, date(2030, 1, 1)) == 6
    assert max_probation_months(start, None) == 6
    assert codes(
        {"contract_start_date": "2027-01-01", "contract_end_date": "2027-11-30", "probation_months": "2"}
    ) == ["probation_too_long"]
    assert (
        codes(
            {"contract_start_date": "2027-01-01", "contract_end_date": "2030-01-01", "probation_months": "6"}
        )
        == []
    )
    assert codes(
        {
            "contract_start_date": "2027-01-01",
            "contract_end_date": "2027-02-15",
            "probation_end_date": "2027-01-15",
        }
    ) == ["probation_too_long"]


def test_probation_wage_and_minimum_wage() -> None:
    assert codes({"wage": "5000", "probation_wage": "3999"}) == ["probation_wage_too_low"]
    assert codes({"wage": "5000", "probation_wage": "4000"}) == []
    assert codes({"wage": "2600", "probation_wage": "2400"}) == ["probation_wage_too_low"]
    assert codes({"wage": "2000"}) == ["wage_below_minimum"]


def test_age() -> None:
    assert underage(date(2011, 6, 1), date(2027, 5, 31)) is not None
    assert underage(date(2011, 6, 1), date(2027, 6, 1)) is None
