"""What a launch takes and answers in the JSON API, shared by its doors: 发起 from templates or an
upload (api/contracts.py), the labor-law check before it and 续签 (api/labor.py)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel
from typing_extensions import TypedDict

from ..core.contracts import ContractStatus
from ..core.labor_law import WorkerCheck
from ..core.services.contracts import LaunchResult
from .schemas import Codes


class ContractIn(BaseModel):
    name: Any = None
    template_ids: Any = None
    employee_ids: Any = None
    enterprise_party: Any = None
    fields: Any = None
    sign_deadline: Any = None
    confirm_warnings: Any = None  # true: launch although the labor-law checks warn
    term_type: Any = None  # fixed | open_ended | task_based | part_time (else the template's)
    signing_order: Any = None


class LaunchedContractOut(TypedDict):
    id: str
    employee_id: str
    status: Annotated[str, Codes(ContractStatus, "合同状态")]
    worker_name: str


class LaunchFailureOut(TypedDict):
    """未能为该劳动者发起的原因"""

    employee_id: str
    error: str
    message: str


class LaborWarningOut(TypedDict):
    """劳动法检查的一项结果（article 为所依据的法条，可为空）"""

    code: str
    message: str
    article: str


class LaunchWarningOut(LaborWarningOut):
    employee_id: str


class LaunchOut(TypedDict):
    """一次发起的结果：每位劳动者一份合同，未能发起的列入 failed"""

    batch_id: str
    contracts: list[LaunchedContractOut]
    failed: list[LaunchFailureOut]
    warnings: list[LaunchWarningOut]


class WorkerCheckOut(TypedDict):
    employee_id: str
    worker_name: str
    errors: list[LaborWarningOut]
    warnings: list[LaborWarningOut]


class LaunchCheckOut(TypedDict):
    workers: list[WorkerCheckOut]


def launch_json(result: LaunchResult) -> LaunchOut:
    return {
        "batch_id": result.batch_id,
        "contracts": [
            {"id": c.id, "employee_id": c.employee_id, "status": c.status, "worker_name": c.worker_name}
            for c, _ in result.created
        ],
        "failed": [
            {"employee_id": f["employee_id"], "error": f["error"], "message": f["message"]}
            for f in result.failed
        ],
        "warnings": [
            {
                "employee_id": w["employee_id"],
                "code": w["code"],
                "message": w["message"],
                "article": w["article"],
            }
            for w in result.warnings
        ],
    }


def worker_check_json(check: WorkerCheck) -> WorkerCheckOut:
    return {
        "employee_id": check.employee_id,
        "worker_name": check.worker_name,
        "errors": [{"code": e.code, "message": e.message, "article": e.article} for e in check.errors],
        "warnings": [{"code": w.code, "message": w.message, "article": w.article} for w in check.warnings],
    }
