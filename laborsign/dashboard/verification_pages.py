"""Enterprise real-name pages (confirm information → operator verified → organisation check)
and the platform reviewer's console for authorization letters."""

from __future__ import annotations

from aiohttp import web

from ..web import HomeEntry, register_home_entry, render
from .pages import dashboard

routes = web.RouteTableDef()

register_home_entry(
    HomeEntry(
        "employer",
        "企业实名认证",
        "/dashboard/verification",
        "认",
        "确认企业信息、办理人实名、组织机构核验",
        order=50,
    )
)


@routes.get("/dashboard/verification")
async def enterprise_page(request: web.Request) -> web.Response:
    return dashboard(request, "verification_enterprise.html")


@routes.get("/console/verifications")
async def console_page(request: web.Request) -> web.Response:
    return render(request, "verification_console.html", nav=[])


def setup(app: web.Application) -> None:
    app.add_routes(routes)
