"""Employer contract pages: the list with its four views, initiation, detail and signing."""

from __future__ import annotations

from aiohttp import web

from ..core.labor_law import UPLOAD_TERM_CONTROLS
from ..web import HomeEntry, register_home_entry, render
from .pages import dashboard

routes = web.RouteTableDef()

register_home_entry(
    HomeEntry(
        "employer",
        "发起签署",
        "/dashboard/contracts/new",
        "发",
        "选择模板和劳动者，批量发起劳动合同",
        "contracts",
        order=200,
    )
)
register_home_entry(
    HomeEntry(
        "employer", "合同管理", "/dashboard/contracts", "合", "全部、待我操作、待他人操作、已完成", "contracts",
        order=210, badge="/api/v1/contracts/counts#awaiting_me",
    )
)  # fmt: skip
register_home_entry(
    HomeEntry("employer", "印章管理", "/dashboard/seals", "章", "生成或上传企业印章", "contracts", order=220)
)


@routes.get("/dashboard/contracts")
async def list_page(request: web.Request) -> web.Response:
    return dashboard(request, "contracts_list.html")


@routes.get("/dashboard/contracts/new")
async def new_page(request: web.Request) -> web.Response:
    return dashboard(request, "contracts_new.html")


@routes.get("/dashboard/contracts/upload")
async def upload_page(request: web.Request) -> web.Response:
    return dashboard(request, "contracts_upload.html", term_controls=UPLOAD_TERM_CONTROLS)


@routes.get("/dashboard/contracts/{id}")
async def detail_page(request: web.Request) -> web.Response:
    return dashboard(request, "contracts_detail.html", contract_id=request.match_info["id"])


@routes.get("/verify")
async def verify_page(request: web.Request) -> web.Response:
    return render(request, "verify.html")


@routes.get("/dashboard/seals")
async def seals_page(request: web.Request) -> web.Response:
    return dashboard(request, "seals.html")


def setup(app: web.Application) -> None:
    app.add_routes(routes)
