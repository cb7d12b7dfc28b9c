"""Employer page for the chat channels: messages that failed every try (dead letters)."""

from __future__ import annotations

from aiohttp import web

from ..web import HomeEntry, register_home_entry
from .pages import dashboard

routes = web.RouteTableDef()

register_home_entry(
    HomeEntry(
        "employer", "消息投递", "/dashboard/chat/outbox", "信", "微信、企业微信、钉钉消息的发送失败记录与重发",
        "onboarding", order=850, badge="/api/v1/chat/dead-letters#total",
    )
)  # fmt: skip


@routes.get("/dashboard/chat/outbox")
async def outbox_page(request: web.Request) -> web.Response:
    return dashboard(request, "chat_outbox.html")


def setup(app: web.Application) -> None:
    app.add_routes(routes)
