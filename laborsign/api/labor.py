"""The labor-law assistant in the JSON API: checks before launch, deadline alerts, renewal."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from ..core.contracts import Contract
from ..core.ports import Deps
from ..core.services import labor as svc
from .http import DEPS, ApiRoutes, body, json_response, require_actor

routes = ApiRoutes("劳动法助手")


async def labor_term_json(deps: Deps, contract: Contract) -> dict[str, Any] | None:
    term = await svc.term_of(deps, contract)
    return term.as_dict() if term is not None else None


@routes.post(
    "/api/v1/contracts/check",
    "发起前检查：按劳动者返回不能发起的错误和需确认的劳动法提示（不发送任何内容）",
    auth="enterprise",
)
async def check(request: web.Request) -> web.Response:
    from .contracts import ContractIn

    actor = await require_actor(request)
    data = await body(request, ContractIn)
    checks = await svc.check_launch(request.app[DEPS], actor, **data.model_dump())
    return json_response({"workers": [c.as_dict() for c in checks]})


@routes.get(
    "/api/v1/alerts",
    "用工期限提醒：未订立书面合同、合同到期续签、应订立无固定期限合同、试用期届满",
    auth="enterprise",
    query={"kind": "no_written_contract | renewal_due | open_ended_due | probation_ending"},
)
async def alerts(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    items = await svc.list_alerts(request.app[DEPS], actor, request.query.get("kind"))
    return json_response({"items": [a.as_dict() for a in items]})


class RenewIn(BaseModel):
    fields: Any = None
    confirm_warnings: Any = None
    term_type: Any = None
    sign_deadline: Any = None


@routes.post(
    "/api/v1/contracts/{id}/renew",
    "续签：以新的期限向同一劳动者发起同一模板的合同（同样经过劳动法检查），关联原合同",
    body=RenewIn,
    status=201,
    auth="enterprise",
)
async def renew(request: web.Request) -> web.Response:
    from .contracts import _launch_json, ctx

    actor = await require_actor(request)
    data = await body(request, RenewIn)
    result = await svc.renew(
        request.app[DEPS], actor, request.match_info["id"], **data.model_dump(), ctx=ctx(request)
    )
    return json_response(_launch_json(result), 201)
