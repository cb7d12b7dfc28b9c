"""Exports (issue 14): the roster and the contract ledger as xlsx, the MOHRSS electronic labor
contract information elements as JSON Lines, signed PDFs as a zip.

Row shapes and streaming writers only; the service layer gathers the records page by page, so
memory stays flat however many rows there are."""

from __future__ import annotations

import enum
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .clock import china_time
from .contracts import CONTRACT_STATUS_LABELS, Contract, ContractStatus
from .identity_rules import ID_TYPE_LABELS
from .labor_law import END_KEYS, PROBATION_END_KEYS, PROBATION_MONTHS_KEYS, START_KEYS, WAGE_KEYS
from .roster import EMPLOYEE_STATUS_LABELS, Employee, EmployeeStatus, RosterRow
from .xlsx import XlsxStream

Columns = list[tuple[str, str]]  # (key, Chinese header)

EMPLOYEE_COLUMNS: Columns = [
    ("name", "姓名"),
    ("phone", "手机号"),
    ("gender", "性别"),
    ("id_type", "证件类型"),
    ("id_number_masked", "证件号码"),
    ("birth_date", "出生日期"),
    ("department", "部门"),
    ("position", "岗位"),
    ("hire_date", "入职日期"),
    ("status", "状态"),
    ("resigned_at", "离职时间"),
]

# The information elements of an electronic labor contract as MOHRSS lists them for filing
# (人社部《电子劳动合同信息要素》): one dictionary per contract, the same keys in every export.
CONTRACT_COLUMNS: Columns = [
    ("contract_no", "合同编号"),
    ("contract_name", "合同名称"),
    ("employer_name", "用人单位名称"),
    ("employer_credit_code", "统一社会信用代码"),
    ("worker_name", "劳动者姓名"),
    ("worker_id_type", "证件类型"),
    ("worker_id_number", "证件号码"),
    ("term_type", "合同期限类型"),
    ("start_date", "合同起始日期"),
    ("end_date", "合同终止日期"),
    ("probation_months", "试用期（月）"),
    ("probation_end_date", "试用期截止日期"),
    ("position", "工作岗位"),
    ("work_place", "工作地点"),
    ("monthly_wage", "劳动报酬（元/月）"),
    ("worker_signed_at", "劳动者签署时间"),
    ("employer_signed_at", "用人单位签署时间"),
    ("status", "合同状态"),
    ("sha256", "合同文件SHA-256"),
]

TERM_TYPE_LABELS = {
    "fixed_term": "固定期限",
    "open_ended": "无固定期限",
    "task_based": "以完成一定工作任务为期限",
}
TERM_TYPE_KEYS = ("term_type", "contract_term_type")
POSITION_KEYS = ("position", "job_title", "post", "worker_position")
WORK_PLACE_KEYS = ("work_place", "work_location", "workplace")
GENDER_LABELS = {"male": "男", "female": "女"}
_ID_LABELS: dict[str, str] = {str(k): v for k, v in ID_TYPE_LABELS.items()}


def _first(values: dict[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        if values.get(key) not in (None, ""):
            return values[key]
    return None


def _day(raw: object) -> date | None:
    try:
        return date.fromisoformat(str(raw)) if raw not in (None, "") else None
    except ValueError:
        return None


def _money(raw: object) -> Decimal | None:
    try:
        return Decimal(str(raw).replace(",", "")) if raw not in (None, "") else None
    except InvalidOperation:
        return None


def _int(raw: object) -> int | None:
    try:
        return int(str(raw)) if raw not in (None, "") else None
    except ValueError:
        return None


def employee_row(e: Employee | RosterRow, departments: dict[str, str]) -> dict[str, Any]:
    return {
        "name": e.name,
        "phone": e.phone,
        "gender": GENDER_LABELS.get(e.gender or "", e.gender),
        "id_type": _ID_LABELS.get(e.id_type, e.id_type) if e.id_type else None,
        "id_number_masked": e.id_number_masked,
        "birth_date": e.birth_date,
        "department": departments.get(e.department_id or ""),
        "position": e.position,
        "hire_date": e.hire_date,
        "status": EMPLOYEE_STATUS_LABELS[EmployeeStatus(e.status)],
        "resigned_at": e.resigned_at,
    }


@dataclass(frozen=True)
class LedgerRecord:
    """What one ledger row needs of a contract, its two signatures and its worker, read in one
    statement (the worker's ID number still encrypted: only the exports that show it decrypt)."""

    id: str
    created_at: datetime
    name: str
    worker_name: str
    values: dict[str, Any]
    enterprise_party: dict[str, Any]
    template_ids: list[str]
    status: str
    document_sha256: str
    worker_signed_at: datetime | None
    employer_signed_at: datetime | None
    id_type: str | None
    id_number_enc: str | None


def term_type(values: dict[str, Any], template_ids: list[str], template_types: dict[str, str]) -> str | None:
    """From a field the initiator filled, else the template's type, else a fixed term when the
    contract names an end date; unknown stays None."""
    given = _first(values, TERM_TYPE_KEYS)
    if given in TERM_TYPE_LABELS:
        return str(given)
    for tid in template_ids:
        if template_types.get(tid) in TERM_TYPE_LABELS:
            return template_types[tid]
    return "fixed_term" if _first(values, END_KEYS) else None


def contract_elements(
    record: LedgerRecord,
    id_number: str | None,
    *,
    employer_credit_code: str,
    template_types: dict[str, str],
) -> dict[str, Any]:
    """The information elements of one contract, typed (dates, Decimal, datetimes)."""
    values = record.values
    return {
        "contract_no": record.id,
        "contract_name": record.name,
        "employer_name": record.enterprise_party.get("name"),
        "employer_credit_code": record.enterprise_party.get("credit_code") or employer_credit_code,
        "worker_name": record.worker_name,
        "worker_id_type": record.id_type,
        "worker_id_number": id_number,
        "term_type": term_type(values, record.template_ids, template_types),
        "start_date": _day(_first(values, START_KEYS)),
        "end_date": _day(_first(values, END_KEYS)),
        "probation_months": _int(_first(values, PROBATION_MONTHS_KEYS)),
        "probation_end_date": _day(_first(values, PROBATION_END_KEYS)),
        "position": _first(values, POSITION_KEYS),
        "work_place": _first(values, WORK_PLACE_KEYS),
        "monthly_wage": _money(_first(values, WAGE_KEYS)),
        "worker_signed_at": record.worker_signed_at,
        "employer_signed_at": record.employer_signed_at,
        "status": record.status,
        "sha256": record.document_sha256,
    }


def as_json(elements: dict[str, Any]) -> dict[str, Any]:
    """One JSON Lines object: dates ISO 8601, times with the China offset, money as a string."""
    out: dict[str, Any] = {}
    for key, value in elements.items():
        if isinstance(value, datetime):
            out[key] = china_time(value).isoformat()
        elif isinstance(value, date):
            out[key] = value.isoformat()
        elif isinstance(value, Decimal):
            out[key] = format(value, "f")
        else:
            out[key] = value
    return out


def ledger_labels(elements: dict[str, Any]) -> dict[str, Any]:
    """The same elements for a person reading the sheet: Chinese labels for codes."""
    out = dict(elements)
    if out.get("worker_id_type"):
        out["worker_id_type"] = _ID_LABELS.get(out["worker_id_type"], out["worker_id_type"])
    if out.get("term_type"):
        out["term_type"] = TERM_TYPE_LABELS.get(out["term_type"], out["term_type"])
    out["status"] = CONTRACT_STATUS_LABELS.get(ContractStatus(out["status"]), out["status"])
    return out


class XlsxFile:
    """The export's workbook streamed to disk (see xlsx.XlsxStream): first sheet, a header row,
    then one row per record; dates as Excel dates, times in China time (Excel has no offsets)."""

    def __init__(self, path: Path, title: str, columns: Columns) -> None:
        self.keys = [key for key, _ in columns]
        self.stream = XlsxStream(path, title, len(columns))
        self.stream.append([header for _, header in columns])
        self.rows = 0

    def append(self, rows: list[dict[str, Any]]) -> None:
        for record in rows:
            self.stream.append([_local(record.get(key)) for key in self.keys])
        self.rows += len(rows)

    def close(self) -> None:
        self.stream.close()


def _local(value: Any) -> Any:
    return china_time(value).replace(tzinfo=None) if isinstance(value, datetime) else value


class ZipChunks(io.RawIOBase):
    """The file a streamed zip is written into: it keeps only what was written since the last
    `take()`, so each PDF leaves memory once it is sent. Not seekable, so zipfile writes data
    descriptors after each entry, which every unzip tool reads."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._written += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._written

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def open_zip(sink: ZipChunks) -> zipfile.ZipFile:
    # PDFs are compressed already: storing them keeps the export fast.
    return zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED)


def pdf_name(contract: Contract, used: set[str]) -> str:
    """A readable, unique file name inside the zip."""
    safe = "".join(ch for ch in f"{contract.worker_name}-{contract.name}" if ch not in '\\/:*?"<>|\r\n')
    name = f"{safe}-{contract.id[:8]}.pdf"
    while name in used:
        name = f"{safe}-{contract.id}.pdf"
    used.add(name)
    return name


# --- the bulk zip of signed PDFs as a background job -----------------------------------------


class ExportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"  # done, and its file removed after the download window


EXPORT_STATUS_LABELS = {
    ExportStatus.QUEUED: "排队中",
    ExportStatus.RUNNING: "正在打包",
    ExportStatus.DONE: "已完成",
    ExportStatus.FAILED: "失败",
    ExportStatus.EXPIRED: "已过期",
}
ZIP_JOB = "contracts_zip"


@dataclass
class ExportJob:
    """One background export: what was asked (the list's filters), how far it got and where
    its file is. A process works on a job while it holds the lease; a job whose lease ran out
    (its process died) is started again from the beginning by whoever claims it next, up to
    a few attempts, then it fails."""

    id: str
    enterprise_id: str
    created_by: str
    kind: str
    filters: dict[str, str]
    status: str
    total: int
    created_at: datetime
    done: int = 0
    attempts: int = 0
    file: str | None = None
    size: int | None = None
    error: str | None = None
    lease_until: datetime | None = None
    finished_at: datetime | None = None
    expires_at: datetime | None = None


def export_file_name(job_id: str) -> str:
    """Where a job's zip lives in the file store: named by the job, not by its content (the
    content is known only once written, and a job started again writes the same name)."""
    return f"exports/{job_id}.zip"
