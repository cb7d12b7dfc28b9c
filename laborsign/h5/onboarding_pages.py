"""Worker onboarding pages: the join link (confirm employer → form → 资料审核中) and the
list of the worker's own onboarding records."""

from __future__ import annotations

from aiohttp import web

from ..web import HomeEntry, register_home_entry, render

routes = web.RouteTableDef()

register_home_entry(HomeEntry("worker", "入职资料", "/h5/onboarding", "入", "查看我提交的入职资料", order=30))


@routes.get("/h5/join/{token}")
async def join_page(request: web.Request) -> web.Response:
    return render(request, "h5_join.html", token=request.match_info["token"])


@routes.get("/h5/onboarding")
async def records_page(request: web.Request) -> web.Response:
    return render(request, "h5_onboarding.html")


def setup(app: web.Application) -> None:
    app.add_routes(routes)
