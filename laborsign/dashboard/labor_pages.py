"""The labor-law assistant's page for HR: the deadlines (用工提醒) with what to do about each."""

from __future__ import annotations

from aiohttp import web

from ..web import HomeEntry, register_home_entry
from .pages import dashboard

routes = web.RouteTableDef()

register_home_entry(
    HomeEntry(
        "employer", "用工提醒", "/dashboard/alerts", "醒", "未签书面合同、合同到期、无固定期限、试用期届满",
        "contracts", order=230,
    )
)  # fmt: skip


@routes.get("/dashboard/alerts")
async def alerts_page(request: web.Request) -> web.Response:
    return dashboard(request, "alerts.html")


def setup(app: web.Application) -> None:
    app.add_routes(routes)
