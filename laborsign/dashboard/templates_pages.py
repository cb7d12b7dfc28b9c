"""Template pages: the enterprise's template list and designer, and the regulator console
(public templates) built on the same designer."""

from __future__ import annotations

from aiohttp import web

from ..core.templates import CONTROL_KIND_LABELS, FILLED_BY_LABELS, TEMPLATE_TYPES
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


def _vocab() -> dict[str, object]:
    return {
        "types": TEMPLATE_TYPES,
        "kinds": {k.value: v for k, v in CONTROL_KIND_LABELS.items()},
        "filled_by": {k.value: v for k, v in FILLED_BY_LABELS.items()},
    }


@routes.get("/dashboard/templates")
async def list_page(request: web.Request) -> web.Response:
    return dashboard(request, "templates_list.html", vocab=_vocab(), console=False)


@routes.get("/dashboard/templates/{id}")
async def designer_page(request: web.Request) -> web.Response:
    return dashboard(
        request,
        "templates_designer.html",
        vocab=_vocab(),
        template_id=request.match_info["id"],
        console=False,
    )


@routes.get("/console/login")
async def console_login(request: web.Request) -> web.Response:
    return render(request, "console_login.html")


@routes.get("/console")
async def console_home(request: web.Request) -> web.Response:
    raise web.HTTPFound("/console/templates")


@routes.get("/console/templates")
async def console_list(request: web.Request) -> web.Response:
    return render(request, "templates_list.html", vocab=_vocab(), console=True, nav=[])


@routes.get("/console/templates/{id}")
async def console_designer(request: web.Request) -> web.Response:
    return render(
        request,
        "templates_designer.html",
        vocab=_vocab(),
        template_id=request.match_info["id"],
        console=True,
        nav=[],
    )


def setup(app: web.Application) -> None:
    app.add_routes(routes)
