"""Worker contract pages: the 待我签 list and the signing page (view, fill, draw, confirm)."""

from __future__ import annotations

from aiohttp import web

from ..web import HomeEntry, register_home_entry, render

routes = web.RouteTableDef()

register_home_entry(
    HomeEntry(
        "worker", "待我签", "/h5/contracts?view=awaiting_me", "签", "需要我签署的劳动合同",
        order=10, badge="/api/v1/me/contracts/counts#awaiting_me",
    )
)  # fmt: skip
register_home_entry(
    HomeEntry("worker", "我的合同", "/h5/contracts", "合", "全部、待他人操作、已完成", order=20)
)


@routes.get("/h5/contracts")
async def list_page(request: web.Request) -> web.Response:
    return render(request, "h5_contracts.html")


@routes.get("/h5/contracts/{id}")
async def sign_page(request: web.Request) -> web.Response:
    return render(request, "h5_contract.html", contract_id=request.match_info["id"])


def setup(app: web.Application) -> None:
    app.add_routes(routes)
