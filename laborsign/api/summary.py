"""The home page's numbers in the JSON API."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import WithJsonSchema
from typing_extensions import TypedDict

from ..core.contracts import CONTRACT_STATUS_LABELS, ContractStatus
from ..core.services import summary as svc
from .http import DEPS, ApiRoutes, json_response, require_actor
from .schemas import Day

routes = ApiRoutes("首页")

# One count per contract status, every status present (0 when none): an object whose keys are
# core's status codes, so a client can read `by_status.signing` without guessing.
ContractsByStatus = Annotated[
    dict[str, int],
    WithJsonSchema(
        {
            "type": "object",
            "description": "各状态合同数（"
            + "、".join(f"{s.value} {CONTRACT_STATUS_LABELS[s]}" for s in ContractStatus)
            + "）",
            "properties": {s.value: {"type": "integer", "minimum": 0} for s in ContractStatus},
            "required": [s.value for s in ContractStatus],
            "additionalProperties": False,
        }
    ),
]


class WeekExpiriesOut(TypedDict):
    week_start: Day
    count: int


class SummaryOut(TypedDict):
    """Each number is null when the member's permissions do not cover the list it links to."""

    as_of: Day
    pending_onboarding: int | None
    active_employees: int | None
    covered_employees: int | None
    covered_share: float | None  # covered / active, 4 decimals; null without active employees
    awaiting_enterprise: int | None
    awaiting_worker: int | None
    expiring: int | None
    no_written_contract: int | None
    by_status: ContractsByStatus | None
    expiries_by_week: list[WeekExpiriesOut] | None


def summary_json(s: svc.Summary) -> SummaryOut:
    weeks = s.expiries_by_week
    return {
        "as_of": s.as_of.isoformat(),
        "pending_onboarding": s.pending_onboarding,
        "active_employees": s.active_employees,
        "covered_employees": s.covered_employees,
        "covered_share": s.covered_share,
        "awaiting_enterprise": s.awaiting_enterprise,
        "awaiting_worker": s.awaiting_worker,
        "expiring": s.expiring,
        "no_written_contract": s.no_written_contract,
        "by_status": s.by_status,
        "expiries_by_week": None
        if weeks is None
        else [{"week_start": day.isoformat(), "count": n} for day, n in weeks],
    }


@routes.get(
    "/api/v1/dashboard/summary",
    "首页工作台数字：待审核入职、待我签署、待劳动者签署、即将到期、未签书面合同、在职人数与签约率、"
    "各状态合同数、未来 90 天每周到期数（无相应权限的数字为 null）",
    auth="enterprise",
    answer=SummaryOut,
)
async def dashboard_summary(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    return json_response(summary_json(await svc.summary(request.app[DEPS], actor)))
