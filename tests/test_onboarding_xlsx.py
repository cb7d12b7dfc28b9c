"""Bulk invitation spreadsheets that are malformed, hostile or odd: every one gets a clear
413/415/422 answer in Chinese and nothing is sent — never a 500.

The files are real .xlsx made with openpyxl and then taken apart with zipfile where a hostile
variant needs hand-written XML; `tests/data/password_protected.xlsx` is a real password-protected
workbook (ECMA-376 agile encryption, made once with msoffcrypto-tool, password `secret123`)."""

from __future__ import annotations

import datetime
import io
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from laborsign.core import bulk
from laborsign.core.clock import FakeClock
from laborsign.core.errors import DomainError, Invalid
from tests.conftest import Api
from tests.test_onboarding import upload, xlsx

DATA = Path(__file__).with_name("data")
NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
HEADER_ROW = (
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>\xe5\xa7\x93\xe5\x90\x8d</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>\xe6\x89\x8b\xe6\x9c\xba\xe5\x8f\xb7</t></is></c></row>'
)


def with_parts(data: bytes, replace: dict[str, bytes | None]) -> bytes:
    """The same workbook with some zip members replaced (or dropped when None)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = replace.get(info.filename, source.read(info.filename))
            if content is not None:
                target.writestr(info.filename, content)
    return out.getvalue()


def sheet_xml(rows: bytes, dimension: bytes = b'<dimension ref="A1:C2"/>') -> bytes:
    return (
        b"<worksheet "
        + NS
        + b">"
        + dimension
        + b"<sheetData>"
        + HEADER_ROW
        + rows
        + b"</sheetData></worksheet>"
    )


def with_sheet(rows: bytes, **kw: Any) -> bytes:
    return with_parts(
        xlsx([["张三", "13800138001", ""]]), {"xl/worksheets/sheet1.xml": sheet_xml(rows, **kw)}
    )


def lying_zip_bomb() -> bytes:
    """A sheet that inflates to ~120 MB while the zip directory claims 1,000 bytes."""
    honest = with_parts(
        xlsx([]),
        {"xl/worksheets/sheet1.xml": b"<worksheet " + NS + b"><sheetData>" + b"<row/>" * 20_000_000 + b"</sheetData></worksheet>"},
    )  # fmt: skip
    data = bytearray(honest)
    name = b"xl/worksheets/sheet1.xml"
    for signature, size_at, name_len_at, name_at in (
        (b"PK\x01\x02", 24, 28, 46),
        (b"PK\x03\x04", 22, 26, 30),
    ):
        at = data.find(signature)
        while at >= 0:
            length = struct.unpack_from("<H", data, at + name_len_at)[0]
            if bytes(data[at + name_at : at + name_at + length]) == name:
                struct.pack_into("<I", data, at + size_at, 1000)
            at = data.find(signature, at + 4)
    return bytes(data)


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(
        b"<!ENTITY " + bytes([98 + i]) + b' "' + (b"&" + bytes([97 + i]) + b";") * 10 + b'">'
        for i in range(8)
    )
    + b"]>"
)

HOSTILE: list[tuple[str, bytes, int, str]] = [
    ("plain text", "姓名,手机号\n张三,13800138001\n".encode(), 415, "xlsx"),
    ("pdf renamed", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", 415, "xlsx"),
    ("broken zip", b"PK\x03\x04" + b"\x00" * 200, 415, "损坏"),
    ("zip without a workbook", with_parts(xlsx([]), {"xl/workbook.xml": None}), 415, "xlsx"),
    ("password protected", (DATA / "password_protected.xlsx").read_bytes(), 415, "密码"),
    ("legacy xls (OLE container)", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000, 415, ".xlsx"),
    ("zip bomb, honest sizes", b"", 413, "过大"),  # filled in below
    ("zip bomb, lying sizes", lying_zip_bomb(), 415, "损坏"),
    ("truncated sheet xml", b"", 415, "损坏"),  # filled in below
    ("billion laughs", b"", 415, "损坏"),  # filled in below
    ("external entity", b"", 415, "损坏"),  # filled in below
    ("shared string out of range", with_sheet(b'<row r="2"><c r="A2" t="s"><v>99999</v></c></row>'), 415, "损坏"),
    ("number cell holding text", with_sheet(b'<row r="2"><c r="B2" t="n"><v>abc</v></c></row>'), 415, "损坏"),
    ("impossible cell reference", with_sheet(b'<row r="2"><c r="ZZZZZZ2" t="inlineStr"><is><t>x</t></is></c></row>'), 415, "损坏"),
    ("row number not a number", with_sheet(b'<row r="abc"><c t="inlineStr"><is><t>x</t></is></c></row>'), 415, "损坏"),
    ("date cell holding garbage", with_sheet(b'<row r="2"><c r="A2" t="d"><v>notadate</v></c></row>'), 415, "损坏"),
    ("workbook without sheets", b"", 422, "工作表"),  # filled in below
    ("wrong header", xlsx([["张三", "13800138001"]], header=["name", "phone"]), 422, "表头"),
    ("header only", xlsx([]), 422, "没有需要邀请"),
]  # fmt: skip


def _fill_generated(cases: list[tuple[str, bytes, int, str]]) -> list[tuple[str, bytes, int, str]]:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", b"<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * (80 * 1024 * 1024))
    laughs = with_parts(
        xlsx([]),
        {"xl/worksheets/sheet1.xml": LAUGHS + sheet_xml(b'<row r="2"><c r="A2" t="inlineStr"><is><t>&i;</t></is></c></row>')},
    )  # fmt: skip
    external = with_parts(
        xlsx([]),
        {"xl/worksheets/sheet1.xml": b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
         + sheet_xml(b'<row r="2"><c r="A2" t="inlineStr"><is><t>&e;</t></is></c></row>')},
    )  # fmt: skip
    no_sheets = with_parts(
        xlsx([]),
        {"xl/workbook.xml": b"<workbook " + NS + b"><sheets/></workbook>"},
    )
    truncated = with_parts(
        xlsx([]),
        {"xl/worksheets/sheet1.xml": sheet_xml(b'<row r="2"><c r="A2" t="inlineStr"><is><t>x')[: -len("</sheetData></worksheet>")]},
    )  # fmt: skip
    generated = {
        "zip bomb, honest sizes": bomb.getvalue(),
        "billion laughs": laughs,
        "external entity": external,
        "workbook without sheets": no_sheets,
        "truncated sheet xml": truncated,
    }
    return [(name, generated.get(name, data), status, text) for name, data, status, text in cases]


HOSTILE = _fill_generated(HOSTILE)


@pytest.mark.parametrize(("name", "data", "status", "text"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_checker_refuses_hostile_files(name: str, data: bytes, status: int, text: str) -> None:
    """The checker alone (no database): the domain error carries the status and message."""
    with pytest.raises(DomainError) as caught:
        bulk.check_bulk(data, set(), {})
    assert caught.value.status == status, (name, caught.value)
    assert text in caught.value.message, (name, caught.value.message)


async def test_hostile_files_over_http_send_nothing(api: Api, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    for name, data, status, text in HOSTILE:
        answer = await upload(api, data, filename=f"{name}.xlsx")
        assert api.last_status == status, (name, answer)
        assert text in answer["message"] and answer["error"], (name, answer)
    sent = await api.get("/api/v1/dev/sms?phone=13800138001")
    assert sent["items"] == [], "no hostile file sent anything"
    # The service still answers normally afterwards.
    ok = await upload(api, xlsx([["张三", "13800138001", ""]]))
    assert api.last_status == 201 and ok == {"sent": 1}


def test_formulas_are_refused_per_cell() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["姓名", "手机号", "部门"])
    ws.append(["张三", "13800138001", ""])
    ws.append(["=A2", "=B2+1", ""])
    ws.append(['=HYPERLINK("http://example.invalid","点我")', "13800138003", ""])
    out = io.BytesIO()
    wb.save(out)
    checked = bulk.check_bulk(out.getvalue(), set(), {})
    cells = {(e["row"], e["column"]) for e in checked.errors}
    assert cells == {(3, "姓名"), (3, "手机号"), (4, "姓名")}
    assert all("公式" in e["message"] for e in checked.errors)


def test_odd_cell_types() -> None:
    checked = bulk.check_bulk(
        xlsx([
            ["数字手机号", 13800138001, ""], ["科学计数", 1.3800138002e10, ""], ["日期手机号", datetime.datetime(2020, 1, 1), ""],
            ["  空格  ", " 138 0013 8004 ", ""], ["超长" * 30, "13800138005", ""],
        ]),
        set(), {},
    )  # fmt: skip
    assert [r["phone"] for r in checked.rows] == ["13800138001", "13800138002", "13800138004"]
    assert checked.rows[2]["name"] == "空格"
    assert {(e["row"], e["column"]) for e in checked.errors} == {(4, "手机号"), (6, "姓名")}


def test_row_limit_counts_people_not_row_numbers() -> None:
    """A single person written far down the sheet is one row; 10,001 people are too many."""
    one_far_down = with_sheet(
        b'<row r="900000"><c r="A900000" t="inlineStr"><is><t>x</t></is></c>'
        b'<c r="B900000" t="inlineStr"><is><t>13800138001</t></is></c></row>',
        dimension=b'<dimension ref="A1:C900000"/>',
    )
    checked = bulk.check_bulk(one_far_down, set(), {})
    assert checked.rows == [{"name": "x", "phone": "13800138001", "department_id": None}]
    with pytest.raises(Invalid) as caught:
        bulk.check_bulk(xlsx([[f"员工{i}", f"138{i:08d}", ""] for i in range(bulk.MAX_ROWS + 1)]), set(), {})
    assert "10000" in caught.value.message
    exactly = bulk.check_bulk(
        xlsx([[f"员工{i}", f"138{i:08d}", ""] for i in range(bulk.MAX_ROWS)]), set(), {}
    )
    assert len(exactly.rows) == bulk.MAX_ROWS and not exactly.errors


def test_all_errors_reported_with_department_and_roster() -> None:
    checked = bulk.check_bulk(
        xlsx([["甲", "13800138001", "生产部"], ["乙", "13800138002", "销售部"], ["丙", "13800138003", ""]]),
        {"13800138003"},
        {"生产部": "d1"},
    )
    assert checked.rows == [{"name": "甲", "phone": "13800138001", "department_id": "d1"}]
    assert [(e["row"], e["column"]) for e in checked.errors] == [(3, "部门"), (4, "手机号")]
