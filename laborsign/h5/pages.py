"""Worker pages (phone-first, also used on the PC): login, home, personal centre."""

from __future__ import annotations

from aiohttp import web

from ..web import HomeEntry, home_entries, register_home_entry, render, setup_pages

routes = web.RouteTableDef()

register_home_entry(HomeEntry("worker", "个人中心", "/h5/me", "我", "登录密码、实名状态", order=900))


@routes.get("/h5")
async def home_page(request: web.Request) -> web.Response:
    return render(request, "h5_home.html", entries=home_entries("worker"))


@routes.get("/h5/login")
async def login_page(request: web.Request) -> web.Response:
    return render(request, "h5_login.html")


@routes.get("/h5/me")
async def me_page(request: web.Request) -> web.Response:
    return render(request, "h5_me.html")


@routes.get("/worker")
async def worker_pc(request: web.Request) -> web.Response:
    raise web.HTTPFound("/h5")


@routes.get("/terms")
async def terms_page(request: web.Request) -> web.Response:
    return render(request, "terms.html")


def setup(app: web.Application) -> None:
    setup_pages(app)
    app.add_routes(routes)
