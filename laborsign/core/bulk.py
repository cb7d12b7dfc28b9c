"""The bulk invitation spreadsheet: the template HR downloads and the all-or-nothing check
of a filled one. Errors come back per row and column, in Chinese."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from .errors import DomainError, Invalid, TooLarge, UnsupportedType
from .values import Phone

MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024
# A real 10,000-row sheet unpacks to a few MB; far more means a zip bomb.
MAX_UNPACKED = 60 * 1024 * 1024
HEADERS = ("姓名", "手机号", "部门")
FORMULA = "不能使用公式，请复制后“粘贴为数值”再上传"


def template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "批量邀请"
    ws.append(list(HEADERS))
    ws.append(["张三", "13800138000", "生产部"])
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="C8102E")
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 18
    ws.column_dimensions["C"].width = 20
    ws["E1"] = "填写说明：姓名、手机号必填；部门选填，须与系统中的部门名称一致；第2行为示例，请删除后填写。"
    phone_rule = DataValidation(type="textLength", operator="equal", formula1="11", allow_blank=False)
    phone_rule.error = "手机号应为11位"
    ws.add_data_validation(phone_rule)
    phone_rule.add("B2:B10001")
    for row in range(2, 10002):
        ws.cell(row=row, column=2).number_format = "@"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@dataclass
class BulkCheck:
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # phones typed as numbers come back as floats
    return str(value).strip()


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A password-protected .xlsx is an OLE container holding these streams (names in UTF-16).
ENCRYPTED_MARKERS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
CORRUPT = "文件已损坏或不是有效的.xlsx表格，请用Excel或WPS另存为.xlsx后重新上传"


def _open(data: bytes) -> Any:
    if len(data) > MAX_BYTES:
        raise TooLarge("文件不能超过5MB")
    if data[:8] == OLE_MAGIC:
        if any(marker in data for marker in ENCRYPTED_MARKERS):
            raise UnsupportedType("文件设置了打开密码，请取消密码后另存为.xlsx再上传", "xlsx_encrypted")
        raise UnsupportedType("不支持旧版.xls格式，请用Excel或WPS另存为.xlsx后上传", "xls_not_supported")
    if not data.startswith(b"PK"):
        raise UnsupportedType("请上传.xlsx格式的Excel文件（可先下载模板）", "not_xlsx")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(info.file_size for info in zf.infolist()) > MAX_UNPACKED:
                raise TooLarge("文件解压后过大，请检查文件内容")
            if "xl/workbook.xml" not in zf.namelist():
                raise UnsupportedType("文件不是有效的.xlsx表格", "not_xlsx")
    except zipfile.BadZipFile:
        raise UnsupportedType(CORRUPT, "not_xlsx") from None
    from openpyxl import load_workbook

    try:
        # Not data_only: a formula must be seen as one (and refused), not as its cached value.
        return load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:
        raise UnsupportedType(CORRUPT, "not_xlsx") from None


def check_bulk(data: bytes, taken_phones: set[str], departments: dict[str, str]) -> BulkCheck:
    workbook = _open(data)
    try:
        if not workbook.worksheets:
            raise Invalid.field("file", "表格中没有工作表，请使用下载的模板填写")
        return _check_sheet(workbook.worksheets[0], taken_phones, departments)
    except DomainError:
        raise
    except Exception:
        # read-only sheets are parsed while iterating: malformed XML, impossible cell
        # references or values, or a zip member whose real size differs from the directory
        raise UnsupportedType(CORRUPT, "not_xlsx") from None
    finally:
        workbook.close()


def _check_sheet(sheet: Any, taken_phones: set[str], departments: dict[str, str]) -> BulkCheck:
    result = BulkCheck()
    seen: dict[str, int] = {}
    rows = sheet.iter_rows(max_col=3)
    header = next(rows, None)
    if header is None or [_cell_text(c.value) for c in header[:2]] != list(HEADERS[:2]):
        raise Invalid.field("file", "表头应为“姓名、手机号、部门”，请使用下载的模板填写")
    people = 0
    for cells in rows:
        texts = [_cell_text(c.value) for c in cells[:3]] + ["", "", ""]
        if not (texts[0] or texts[1] or texts[2]):
            continue
        people += 1
        if people > MAX_ROWS:
            raise Invalid.field("file", f"一次最多邀请{MAX_ROWS}人，请分批上传")
        number = next(c.row for c in cells if getattr(c, "row", None))
        formulas = [i for i, c in enumerate(cells[:3]) if getattr(c, "data_type", None) == "f"]
        if formulas:
            for i in formulas:
                result.errors.append({"row": number, "column": HEADERS[i], "message": FORMULA})
            continue
        _check_row(number, texts[0], texts[1], texts[2], taken_phones, departments, seen, result)
    if not result.rows and not result.errors:
        raise Invalid.field("file", "表格中没有需要邀请的人员")
    return result


def _check_row(
    number: int, name: str, phone_raw: str, department: str, taken: set[str], departments: dict[str, str],
    seen: dict[str, int], result: BulkCheck,
) -> None:  # fmt: skip
    ok = True
    if not name:
        result.errors.append({"row": number, "column": "姓名", "message": "姓名不能为空"})
        ok = False
    elif len(name) > 50:
        result.errors.append({"row": number, "column": "姓名", "message": "姓名不能超过50个字符"})
        ok = False
    phone = ""
    if not phone_raw:
        result.errors.append({"row": number, "column": "手机号", "message": "手机号不能为空"})
        ok = False
    else:
        try:
            phone = Phone.parse(phone_raw).value
        except Invalid as exc:
            result.errors.append(
                {"row": number, "column": "手机号", "message": next(iter(exc.fields.values()))}
            )
            ok = False
    if phone:
        if phone in seen:
            result.errors.append(
                {"row": number, "column": "手机号", "message": f"与第{seen[phone]}行手机号重复"}
            )
            ok = False
        elif phone in taken:
            result.errors.append(
                {"row": number, "column": "手机号", "message": "该手机号已在花名册中或已邀请"}
            )
            ok = False
        seen.setdefault(phone, number)
    department_id = None
    if department:
        department_id = departments.get(department)
        if department_id is None:
            result.errors.append({"row": number, "column": "部门", "message": f"部门“{department}”不存在"})
            ok = False
    if ok:
        result.rows.append({"name": name, "phone": phone, "department_id": department_id})
