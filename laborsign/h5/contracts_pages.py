"""Worker contract pages: the 待我签 list, the signing page (view, fill, draw, confirm) and the
page the face provider returns a signer to."""

from __future__ import annotations

from aiohttp import web

from ..core.errors import NotFound
from ..core.services.signing import public_session
from ..core.signing import IntentMethod, IntentStatus, SessionStatus
from ..http import DEPS
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


@routes.get("/h5/intent/{id}")
async def intent_page(request: web.Request) -> web.Response:
    """Where the face provider sends the signer back (often a phone without a login): the state
    of the face check and of the signing, never the contracts themselves."""
    deps = request.app[DEPS]
    session = await public_session(deps, request.match_info["id"][:64])
    if session is None or session.intent_method != IntentMethod.FACE:
        raise NotFound("签署会话不存在", "session_not_found")
    state = session.state(deps.clock.now())
    if session.intent_status == IntentStatus.FAILED:
        shown = "failed"
    elif state == SessionStatus.DONE:
        shown = "done"
    elif state == SessionStatus.EXPIRED:
        shown = "expired"
    elif session.intent_status == IntentStatus.PASSED:
        shown = "signing"
    else:
        shown = "waiting"
    worker = session.party_role == "worker"
    return render(
        request,
        "h5_intent.html",
        state=shown,
        waiting=shown in ("waiting", "signing"),
        signed=len(session.result.get("signed", [])),
        failed=len(session.result.get("failed", [])),
        reason=session.intent_reason,
        intent_url=session.intent_url if shown == "waiting" else None,
        back_url=f"/h5/contracts/{session.contract_ids[0]}" if worker else None,
    )


def setup(app: web.Application) -> None:
    app.add_routes(routes)
