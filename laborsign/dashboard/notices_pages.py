"""Employer page for HR notices: the enterprise's notices, unread first marked, marking read."""

from __future__ import annotations

from aiohttp import web

from .pages import dashboard

routes = web.RouteTableDef()


@routes.get("/dashboard/notices")
async def notices_page(request: web.Request) -> web.Response:
    return dashboard(request, "notices.html")


def setup(app: web.Application) -> None:
    app.add_routes(routes)
