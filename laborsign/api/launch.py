"""What a launch takes and answers in the JSON API, shared by its doors: 发起 from templates or an
upload (api/contracts.py), the labor-law check before it and 续签 (api/labor.py)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, WithJsonSchema
from typing_extensions import TypedDict

from ..core.contracts import ContractStatus, SealType, SigningOrder
from ..core.labor_law import TermType, WorkerCheck
from ..core.services.contracts.launch import LaunchResult
from .schemas import Codes

# Request fields are read as `Any` and checked by the services (each error a Chinese message
# under its field's name, 422); these annotations only publish what a valid value looks like.
Ids = Annotated[
    Any, WithJsonSchema({"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 1000})
]
FieldValues = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": "object",
            "additionalProperties": {"type": ["string", "number", "null"]},
            "description": "控件的值，键为控件的 key（日期为 YYYY-MM-DD）",
        }
    ),
]
Deadline = Annotated[
    Any,
    WithJsonSchema(
        {"type": ["string", "null"], "format": "date-time", "description": "签署截止时间（ISO 8601）"}
    ),
]
Flag = Annotated[Any, WithJsonSchema({"type": ["boolean", "null"]})]
TermTypeIn = Annotated[Any, Codes(TermType, "合同期限类型（不填则按模板类型）")] | None
Text = Annotated[Any, WithJsonSchema({"type": ["string", "null"]})]


EnterprisePartyIn = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": ["object", "null"],
            "properties": {
                "operator_name": {"type": "string", "maxLength": 50, "description": "经办人（默认发起人）"},
                "operator_phone": {"type": "string", "description": "经办人手机号（默认发起人的）"},
                "seal_type": {
                    "type": "string",
                    "enum": [t.value for t in SealType],
                    "description": "企业签署使用的印章类型（默认合同专用章）",
                },
            },
        }
    ),
]


class ContractIn(BaseModel):
    name: Annotated[Any, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 50})] = None
    template_ids: Ids = None
    employee_ids: Ids = None
    enterprise_party: EnterprisePartyIn = None
    fields: FieldValues = None
    sign_deadline: Deadline = None
    confirm_warnings: Flag = None  # true: launch although the labor-law checks warn
    term_type: TermTypeIn = None
    signing_order: Annotated[Any, Codes(SigningOrder, "签署顺序（默认不限顺序）")] | None = None


class LaunchCheckIn(ContractIn):
    """发起前检查：模板发起的请求体，或上传发起的 meta（含 placements、不含 template_ids，按 fields 中的合同条款检查）"""

    placements: Annotated[
        Any,
        WithJsonSchema(
            {
                "type": ["array", "null"],
                "items": {"type": "object"},
                "description": "上传发起的签署位置（仅用于识别上传发起，检查时不校验）",
            }
        ),
    ] = None


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
