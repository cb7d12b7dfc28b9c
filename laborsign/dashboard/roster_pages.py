"""Employer onboarding and roster pages: invite (QR, link, SMS, bulk), review, roster."""

from __future__ import annotations

from aiohttp import web

from ..web import HomeEntry, register_home_entry
from .pages import dashboard

routes = web.RouteTableDef()

register_home_entry(
    HomeEntry(
        "employer",
        "扫码入职",
        "/dashboard/onboarding/invite",
        "邀",
        "邀请链接、二维码、短信与批量邀请",
        "onboarding",
        order=100,
    )
)
register_home_entry(
    HomeEntry(
        "employer", "入职管理", "/dashboard/onboarding", "审", "审核劳动者提交的入职资料", "onboarding", order=110,
        badge="/api/v1/onboarding?status=pending_review&per_page=1#total",
    )
)  # fmt: skip
register_home_entry(
    HomeEntry(
        "employer",
        "员工花名册",
        "/dashboard/employees",
        "册",
        "部门、员工、调岗与离职",
        "onboarding",
        order=120,
    )
)


@routes.get("/dashboard/onboarding/invite")
async def invite_page(request: web.Request) -> web.Response:
    return dashboard(request, "onboarding_invite.html")


@routes.get("/dashboard/onboarding")
async def review_page(request: web.Request) -> web.Response:
    return dashboard(request, "onboarding_review.html")


@routes.get("/dashboard/onboarding/{id}")
async def record_page(request: web.Request) -> web.Response:
    """Where an HR card's link lands: the review list with this record open."""
    return dashboard(request, "onboarding_review.html", record_id=request.match_info["id"])


@routes.get("/dashboard/employees")
async def roster_page(request: web.Request) -> web.Response:
    return dashboard(request, "employees.html")


def setup(app: web.Application) -> None:
    app.add_routes(routes)
