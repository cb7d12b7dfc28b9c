"""A streaming xlsx writer for exports of one sheet: each row is formatted straight into the
deflated sheet part of the zip, so memory stays flat and a row costs a string join.

openpyxl (even write-only) and XlsxWriter spend tens of microseconds per cell in Python
objects and checks; an export of 100,000 ledger rows is nearly two million cells. Strings are
written inline (no shared-strings table to grow with each distinct value), dates and times as
Excel serial numbers with a date style, so Excel and openpyxl read them as dates."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "application/vnd.openxmlformats-officedocument.spreadsheetml"

CONTENT_TYPES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" ContentType="{OFFICE}.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{OFFICE}.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" ContentType="{OFFICE}.styles+xml"/></Types>"""

ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" \
Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>"""

WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PACKAGE_RELS}">\
<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" Type="{RELS}/styles" Target="styles.xml"/></Relationships>"""

# Style 1: a date, style 2: a date and time (numFmt ids from 164 are the file's own).
STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{MAIN}"><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>\
<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>\
<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""

EPOCH = date(1899, 12, 30)  # Excel's day 0 in its 1900 date system (day 60 is its phantom 29 Feb)
EPOCH_TIME = datetime(1899, 12, 30)
# Characters XML 1.0 cannot carry at all: dropped rather than making the file unreadable.
UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
SHEET_NAME_UNSAFE = re.compile(r"[\[\]:*?/\\]")


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value: str) -> str:
    if UNWRITABLE.search(value):
        value = UNWRITABLE.sub("", value)
    return escape(value)


class XlsxStream:
    """`append` rows of values (str, int, float, Decimal, bool, date, datetime — naive, as
    the reader should see it — or None for an empty cell), then `close`."""

    def __init__(self, path: Path, title: str, width: int) -> None:
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        name = SHEET_NAME_UNSAFE.sub("_", title)[:31] or "Sheet1"
        self._zip.writestr("[Content_Types].xml", CONTENT_TYPES)
        self._zip.writestr("_rels/.rels", ROOT_RELS)
        self._zip.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{MAIN}" '
            f'xmlns:r="{RELS}"><sheets><sheet name={quoteattr(name)} sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>",
        )
        self._zip.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        self._zip.writestr("xl/styles.xml", STYLES)
        self._sheet = io.TextIOWrapper(
            self._zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True), encoding="utf-8"
        )
        self._sheet.write(
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}"><sheetData>'
        )
        self._letters = [column_letters(i) for i in range(width)]
        self.rows = 0

    def _cell(self, ref: str, value: Any) -> str:
        kind = type(value)
        if kind is str:
            if not value:
                return ""
            return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'
        if kind is datetime:
            serial = (value.replace(tzinfo=None) - EPOCH_TIME).total_seconds() / 86400
            return f'<c r="{ref}" s="2"><v>{serial!r}</v></c>'
        if kind is date:
            return f'<c r="{ref}" s="1"><v>{(value - EPOCH).days}</v></c>'
        if kind is bool:
            return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
        if kind is int or kind is float or kind is Decimal:
            return f'<c r="{ref}"><v>{value}</v></c>'
        if value is None:
            return ""
        return self._cell(ref, str(value))

    def append(self, values: Sequence[Any]) -> None:
        self.rows += 1
        n = str(self.rows)
        cells = "".join([self._cell(letter + n, v) for letter, v in zip(self._letters, values, strict=False)])
        self._sheet.write(f'<row r="{n}">{cells}</row>')

    def close(self) -> None:
        self._sheet.write("</sheetData></worksheet>")
        self._sheet.close()
        self._zip.close()
