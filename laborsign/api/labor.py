"""The labor-law assistant in the JSON API: checks before launch, deadline alerts, renewal."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel
from typing_extensions import TypedDict

from ..core.contracts import Contract
from ..core.labor_law import ALERT_KIND_LABELS, TermType
from ..core.ports import Deps
from ..core.services import labor as svc
from .http import DEPS, ApiRoutes, body, json_response, require_actor
from .launch import (
    Deadline,
    FieldValues,
    Flag,
    LaunchCheckIn,
    LaunchCheckOut,
    LaunchOut,
    TermTypeIn,
    launch_json,
    worker_check_json,
)
from .schemas import Codes, Day, Items, Money

routes = ApiRoutes("劳动法助手")


class LaborTermOut(TypedDict):
    """合同的劳动法要素（起止日期、试用期、工资为北京时间日期与元）"""

    type: Annotated[str, Codes(TermType, "合同期限类型")] | None
    type_label: str | None
    start_date: Day | None
    end_date: Day | None
    probation_end_date: Day | None
    monthly_wage: Money | None
    probation_wage: Money | None
    position: str | None
    work_place: str | None


class AlertOut(TypedDict):
    kind: Annotated[str, Codes(ALERT_KIND_LABELS, "提醒类型")]
    employee_id: str
    employee_name: str
    contract_id: str | None
    due_date: Day
    days_left: int  # negative once overdue
    message: str
    article: str


async def labor_term_json(deps: Deps, contract: Contract) -> LaborTermOut | None:
    term = await svc.term_of(deps, contract)
    if term is None:
        return None
    facts = term.as_dict()
    return {
        "type": facts["type"],
        "type_label": facts["type_label"],
        "start_date": facts["start_date"],
        "end_date": facts["end_date"],
        "probation_end_date": facts["probation_end_date"],
        "monthly_wage": facts["monthly_wage"],
        "probation_wage": facts["probation_wage"],
        "position": facts["position"],
        "work_place": facts["work_place"],
    }


def alert_json(alert: svc.Alert) -> AlertOut:
    return {
        "kind": alert.kind,
        "employee_id": alert.employee_id,
        "employee_name": alert.employee_name,
        "contract_id": alert.contract_id,
        "due_date": alert.due_date.isoformat(),
        "days_left": alert.days_left,
        "message": alert.message,
        "article": alert.article,
    }


@routes.post(
    "/api/v1/contracts/check",
    "发起前检查：按劳动者返回不能发起的错误和需确认的劳动法提示（不发送任何内容）",
    body=LaunchCheckIn,
    auth="enterprise",
    answer=LaunchCheckOut,
    errors=(404, 409),  # a template that is not there (404) or not enabled (409)
)
async def check(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, LaunchCheckIn)
    checks = await svc.check_launch(request.app[DEPS], actor, **data.model_dump())
    answer: LaunchCheckOut = {"workers": [worker_check_json(c) for c in checks]}
    return json_response(answer)


@routes.get(
    "/api/v1/alerts",
    "用工期限提醒：未订立书面合同、合同到期续签、应订立无固定期限合同、试用期届满",
    auth="enterprise",
    query={"kind": "no_written_contract | renewal_due | open_ended_due | probation_ending"},
    answer=Items[AlertOut],
)
async def alerts(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    items = await svc.list_alerts(request.app[DEPS], actor, request.query.get("kind"))
    return json_response({"items": [alert_json(a) for a in items]})


class RenewIn(BaseModel):
    fields: FieldValues = None
    confirm_warnings: Flag = None
    term_type: TermTypeIn = None
    sign_deadline: Deadline = None


@routes.post(
    "/api/v1/contracts/{id}/renew",
    "续签：以新的期限向同一劳动者发起同一模板的合同（同样经过劳动法检查），关联原合同",
    body=RenewIn,
    status=201,
    auth="enterprise",
    answer=LaunchOut,
    errors=(409,),
)
async def renew(request: web.Request) -> web.Response:
    from .contracts import ctx

    actor = await require_actor(request)
    data = await body(request, RenewIn)
    result = await svc.renew(
        request.app[DEPS], actor, request.match_info["id"], **data.model_dump(), ctx=ctx(request)
    )
    return json_response(launch_json(result), 201)
