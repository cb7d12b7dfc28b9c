"""Template pages: the enterprise's template list and designer, and the regulator console
(public templates) built on the same designer."""

from __future__ import annotations

from aiohttp import web

from ..web import HomeEntry, register_home_entry, render
from .pages import dashboard

routes = web.RouteTableDef()

register_home_entry(
    HomeEntry(
        "employer",
        "模板管理",
        "/dashboard/templates",
        "模",
        "创建合同模板、放置填写与签署控件",
        "templates",
        order=400,
    )
)


@routes.get("/dashboard/templates")
async def list_page(request: web.Request) -> web.Response:
    return dashboard(request, "templates_list.html", console=False)


@routes.get("/dashboard/templates/{id}")
async def designer_page(request: web.Request) -> web.Response:
    return dashboard(request, "templates_designer.html", template_id=request.match_info["id"], console=False)


@routes.get("/console/login")
async def console_login(request: web.Request) -> web.Response:
    return render(request, "console_login.html")


@routes.get("/console")
async def console_home(request: web.Request) -> web.Response:
    raise web.HTTPFound("/console/templates")


@routes.get("/console/templates")
async def console_list(request: web.Request) -> web.Response:
    return render(request, "templates_list.html", console=True, nav=[])


@routes.get("/console/templates/{id}")
async def console_designer(request: web.Request) -> web.Response:
    return render(
        request, "templates_designer.html", template_id=request.match_info["id"], console=True, nav=[]
    )


def setup(app: web.Application) -> None:
    app.add_routes(routes)
