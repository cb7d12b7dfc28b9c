"""Worker real-name pages (phone-first, the same page serves the PC) and the sandbox provider's
face / enterprise-Alipay page, which plays the provider and calls the signed callback."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..core.errors import NotFound
from ..core.verification import CONSENT_TEXT, CONSENT_VERSION, PERSON_CAPABILITY, PERSON_METHOD_LABELS
from ..http import DEPS
from ..web import HomeEntry, register_home_entry, render

routes = web.RouteTableDef()
sandbox_routes = web.RouteTableDef()  # only while the sandbox plays face or enterprise Alipay

register_home_entry(
    HomeEntry("worker", "实名认证", "/h5/verify", "实", "手机、银行卡或人脸识别，一次认证处处通用", order=100)
)


def _context(request: web.Request) -> dict[str, Any]:
    """The methods on offer: a disabled one is not on the page at all."""
    identity = request.app[DEPS].identity
    methods = {k.value: v for k, v in PERSON_METHOD_LABELS.items() if identity.offers(PERSON_CAPABILITY[k])}
    return {
        "default_method": next(iter(methods), ""),  # carrier first, as SPEC §2.2 wants (tojson sorts keys)
        "consent_text": CONSENT_TEXT,
        "consent_version": CONSENT_VERSION,
        "methods": methods,
    }


@routes.get("/h5/verify")
async def verify_page(request: web.Request) -> web.Response:
    return render(request, "h5_verify.html", **_context(request))


@routes.get("/worker/verify")
async def verify_page_pc(request: web.Request) -> web.Response:
    return render(request, "h5_verify.html", **_context(request))


def _safe_return(raw: str) -> str:
    return raw if raw.startswith("/") and not raw.startswith("//") and "\\" not in raw else "/h5"


@sandbox_routes.get("/sandbox/identity/{kind}/{ref}")
async def sandbox_page(request: web.Request) -> web.Response:
    """The sandbox provider's own page: 通过 / 失败 post a signed callback, as the provider would.
    Each kind exists only while the sandbox plays it."""
    kind = request.match_info["kind"]
    ref = request.match_info["ref"]
    identity = request.app[DEPS].identity
    played = {"face": identity.sandbox_face, "alipay": identity.sandbox_alipay}
    if not played.get(kind) or not ref.startswith("sbx_") or len(ref) > 64:
        raise NotFound("认证会话不存在")
    sandbox = identity.sandbox
    passed_body, passed_headers = sandbox.signed_callback(ref, True)
    failed_body, failed_headers = sandbox.signed_callback(
        ref, False, "人脸比对未通过（沙箱）" if kind == "face" else "企业支付宝认证未通过（沙箱）"
    )
    calls = {
        "pass": {"body": passed_body.decode(), "headers": passed_headers},
        "fail": {"body": failed_body.decode(), "headers": failed_headers},
    }
    return render(
        request,
        "h5_verify_sandbox.html",
        kind=kind,
        calls=calls,
        return_to=_safe_return(request.query.get("return", "/h5")),
    )


def setup(app: web.Application, *, sandbox_pages: bool) -> None:
    app.add_routes(routes)
    if sandbox_pages:
        app.add_routes(sandbox_routes)
