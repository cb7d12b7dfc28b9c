"""The streaming xlsx writer read back with openpyxl: text stays text (a formula-looking cell
is not run), characters XML cannot carry are dropped, dates and times come back as dates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from laborsign.core.xlsx import XlsxStream, column_letters


def test_cells_read_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    sheet = XlsxStream(path, "合同台账[1]", 30)
    sheet.append(["姓名", "日期", "时间", "金额", "数量", "是否", "公式", *[f"列{i}" for i in range(23)]])
    sheet.append(
        ["王五 <&> ", date(2026, 12, 1), datetime(2026, 12, 1, 9, 30, 15), Decimal("6500.50"), 3, True,
         "=HYPERLINK(\"http://x\")\x00\x1f", *[None] * 22, "末列"]
    )  # fmt: skip
    sheet.close()
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["合同台账_1_"]
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    assert rows[0][:7] == ["姓名", "日期", "时间", "金额", "数量", "是否", "公式"]
    name, day, time, money, count, flag, text = rows[1][:7]
    assert name == "王五 <&> " and day == datetime(2026, 12, 1) and time == datetime(2026, 12, 1, 9, 30, 15)
    assert money == 6500.5 and count == 3 and flag is True
    assert text == '=HYPERLINK("http://x")', "text is never a formula; unwritable characters are gone"
    assert rows[1][7:29] == [None] * 22 and rows[1][29] == "末列"
    assert [column_letters(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
