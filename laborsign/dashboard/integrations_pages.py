"""Employer page for integrator webhooks: endpoints, their deliveries, sending a dead one again."""

from __future__ import annotations

from aiohttp import web

from ..web import HomeEntry, register_home_entry
from .pages import dashboard

routes = web.RouteTableDef()

register_home_entry(
    HomeEntry(
        "employer", "系统集成", "/dashboard/integrations", "接", "Webhook 接收地址、事件投递记录与重新投递",
        "integrations", order=860,
    )
)  # fmt: skip


@routes.get("/dashboard/integrations")
async def integrations_page(request: web.Request) -> web.Response:
    return dashboard(request, "integrations.html")


def setup(app: web.Application) -> None:
    app.add_routes(routes)
