"""The home page's numbers in the JSON API."""

from __future__ import annotations

from aiohttp import web

from ..core.services import summary as svc
from .http import DEPS, ApiRoutes, json_response, require_actor

routes = ApiRoutes("首页")


@routes.get(
    "/api/v1/dashboard/summary",
    "首页工作台数字：待审核入职、待我签署、待劳动者签署、即将到期、未签书面合同、在职人数与签约率、"
    "各状态合同数、未来 90 天每周到期数（无相应权限的数字为 null）",
    auth="enterprise",
)
async def dashboard_summary(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    return json_response(await svc.summary(request.app[DEPS], actor))
