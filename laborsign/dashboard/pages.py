"""Employer dashboard pages: login, create enterprise, choose enterprise, home, members."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..web import HomeEntry, home_entries, register_home_entry, render, setup_pages

routes = web.RouteTableDef()

register_home_entry(
    HomeEntry("employer", "单位管理", "/dashboard/members", "单", "成员、权限与管理员转授", order=900)
)


def dashboard(request: web.Request, template: str, **context: Any) -> web.Response:
    nav = [{"title": e.title, "href": e.href} for e in home_entries("employer")]
    return render(request, template, nav=nav, entries=home_entries("employer"), **context)


@routes.get("/")
async def root(request: web.Request) -> web.Response:
    raise web.HTTPFound("/dashboard")


@routes.get("/login")
async def login_page(request: web.Request) -> web.Response:
    return render(request, "login.html")


@routes.get("/register")
async def register_page(request: web.Request) -> web.Response:
    return render(request, "register.html")


@routes.get("/choose")
async def choose_page(request: web.Request) -> web.Response:
    return render(request, "choose.html")


@routes.get("/dashboard")
async def home_page(request: web.Request) -> web.Response:
    return dashboard(request, "home.html")


@routes.get("/dashboard/members")
async def members_page(request: web.Request) -> web.Response:
    return dashboard(request, "members.html")


def setup(app: web.Application) -> None:
    setup_pages(app)
    app.add_routes(routes)
