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


def test_minimum_wage_table_by_region_and_date() -> None:
    from laborsign.core.labor_law import DEFAULT_MINIMUM_WAGES, MinimumWage, MinimumWageTable

    table = MinimumWageTable(
        (*DEFAULT_MINIMUM_WAGES, MinimumWage("深圳市南山区", date(2025, 6, 1), Decimal("2600"))), "广州市"
    )
    assert table.lookup("广州市", date(2025, 2, 28)) == Decimal("2300")
    assert table.lookup("广州市", date(2025, 3, 1)) == Decimal("2500")
    assert table.lookup("广州市", date(2018, 6, 30)) is None  # before the table starts, no fallback
    assert table.region_for("广东省深圳市南山区科技园") == "深圳市南山区"
    assert table.lookup("深圳市南山区", date(2025, 5, 1)) == Decimal("2520"), (
        "the city's value before the district's"
    )
    assert table.lookup("深圳市南山区", date(2025, 6, 1)) == Decimal("2600")
    assert table.region_for("上海市浦东新区") == "广州市", "unknown: the enterprise's own city"
    fallback = MinimumWageTable(DEFAULT_MINIMUM_WAGES, "北京市", Decimal("2420"))
    assert fallback.lookup("北京市", date(2026, 1, 1)) == Decimal("2420")


def test_terms_typed_by_people_never_break_the_checks() -> None:
    from laborsign.core.labor_law import add_months, derive_term, term_errors, term_warnings

    term = derive_term(
        {"contract_start_date": "9999-12-01", "probation_months": "99999999999", "wage": "1e999999"},
        ["labor_contract"],
    )
    assert term.monthly_wage is None and term.probation_end_date == date(9999, 12, 30)
    assert term_errors(term, None, date(2026, 1, 1)) == []
    assert [
        w.code for w in term_warnings(term, MIN, "广州市")
    ] == []  # clamped to the calendar, within 6 months
    assert term.as_dict()["type"] == "open_ended"
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(9999, 12, 31), 1) == date.max and add_months(date(1, 1, 1), -1) == date.min
