"""Enterprise real-name pages (confirm information → operator verified → organisation check)
and the platform reviewer's console for authorization letters."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..core.verification import ENTERPRISE_CAPABILITY, ENTERPRISE_METHOD_LABELS, EnterpriseMethod
from ..http import DEPS
from ..web import HomeEntry, register_home_entry, render
from .pages import dashboard

routes = web.RouteTableDef()

register_home_entry(
    HomeEntry(
        "employer",
        "企业实名认证",
        "/dashboard/verification",
        "认",
        "确认企业信息、办理人实名、组织机构核验",
        order=50,
    )
)


def _vocab(request: web.Request) -> dict[str, Any]:
    """The organisation checks on offer: a disabled one is not on the page at all."""
    identity = request.app[DEPS].identity
    methods = {
        k.value: v
        for k, v in ENTERPRISE_METHOD_LABELS.items()
        if k not in ENTERPRISE_CAPABILITY or identity.offers(ENTERPRISE_CAPABILITY[k])
    }
    return {
        "methods": methods,
        "default_method": next(iter(methods)),  # the page's first tab (tojson sorts the keys)
        "manual_payments": identity.plays(ENTERPRISE_CAPABILITY[EnterpriseMethod.CORPORATE_PAYMENT]) == "manual",
    }


@routes.get("/dashboard/verification")
async def enterprise_page(request: web.Request) -> web.Response:
    return dashboard(request, "verification_enterprise.html", **_vocab(request))


@routes.get("/console/verifications")
async def console_page(request: web.Request) -> web.Response:
    return render(request, "verification_console.html", nav=[], **_vocab(request))


@routes.get("/console/payments")
async def console_payments_page(request: web.Request) -> web.Response:
    return render(request, "verification_payments.html", nav=[], **_vocab(request))


def setup(app: web.Application) -> None:
    app.add_routes(routes)
