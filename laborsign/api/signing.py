"""Signing sessions in the JSON API: the enterprise's single and batch signing, the worker's
handwritten signature, intent verification by SMS code or face, and the session's state for
pages that follow a face check."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Any, NotRequired

import qrcode
from aiohttp import web
from pydantic import BaseModel, WithJsonSchema
from typing_extensions import TypedDict

from ..core.clock import iso
from ..core.errors import NotFound
from ..core.services import signing as svc
from ..core.signing import INTENT_STATUS_LABELS, IntentMethod, IntentStatus, SessionStatus, SigningSession
from ..core.values import mask_phone
from .contracts import ctx
from .http import DEPS, ApiRoutes, body, json_response, require_user
from .launch import FieldValues, Flag, Ids
from .schemas import Codes, Done, Timestamp, Url

routes = ApiRoutes("签署")


# Read as `Any` and checked by the services (Chinese messages, 422); the annotations publish
# what a valid value looks like.
IntentMethodIn = Annotated[Any, Codes(IntentMethod, "意愿认证方式")]


class SigningSessionIn(BaseModel):
    contract_ids: Ids = None
    seal_id: Annotated[Any, WithJsonSchema({"type": "string", "description": "本企业印章"})] = None
    fields: FieldValues = None
    intent_method: IntentMethodIn = "sms"


class ConfirmIn(BaseModel):
    code: Annotated[
        Any, WithJsonSchema({"type": ["string", "null"], "description": "短信验证码（人脸方式不填）"})
    ] = None


class WorkerSignatureIn(BaseModel):
    signature_png: Annotated[
        Any,
        WithJsonSchema(
            {
                "type": ["string", "null"],
                "description": "手写签名 data:image/png;base64,…（使用已保存签名时不填）",
            }
        ),
    ] = None
    fields: FieldValues = None
    save_signature: Flag = False
    use_saved_signature: Flag = False
    intent_method: IntentMethodIn = "sms"


class IntentOut(TypedDict):
    """意愿认证：短信方式给出脱敏手机号；人脸方式给出识别地址与扫码图片"""

    method: Annotated[str, Codes(IntentMethod, "意愿认证方式")]
    status: Annotated[str, Codes(IntentStatus, "意愿认证状态")]
    status_label: str
    phone_masked: NotRequired[str]
    redirect_url: NotRequired[Url | None]
    qr_png: NotRequired[Url]
    reason: NotRequired[str]


class SigningFailureOut(TypedDict):
    id: str
    error: str
    message: str


class SigningResultOut(TypedDict):
    """签署结果：signed 为已签署的合同，failed 为未能签署的合同及原因"""

    signed: list[str]
    failed: list[SigningFailureOut]


class SigningSessionOut(TypedDict):
    id: str
    contract_ids: list[str]
    status: Annotated[str, Codes(SessionStatus, "签署会话状态")]
    expires_at: Timestamp
    intent: IntentOut
    result: NotRequired[SigningResultOut]


class WorkerSigningOut(SigningSessionOut):
    signing_session_id: str  # the same as id, kept for older H5 pages


class CodeSentOut(TypedDict):
    expires_in: int  # seconds the code stays valid
    resend_after: int  # seconds before another code may be asked for


def result_json(result: dict[str, Any]) -> SigningResultOut:
    return {
        "signed": list(result["signed"]),
        "failed": [{"id": f["id"], "error": f["error"], "message": f["message"]} for f in result["failed"]],
    }


def session_json(s: SigningSession, now: datetime) -> SigningSessionOut:
    intent: IntentOut = {
        "method": s.intent_method,
        "status": s.intent_status,
        "status_label": INTENT_STATUS_LABELS.get(IntentStatus(s.intent_status), s.intent_status),
    }
    if s.intent_method == IntentMethod.SMS:
        intent["phone_masked"] = mask_phone(s.phone)
    else:
        intent["redirect_url"] = s.intent_url
        intent["qr_png"] = f"/api/v1/signing-sessions/{s.id}/qr.png"
        if s.intent_reason:
            intent["reason"] = s.intent_reason
    out: SigningSessionOut = {
        "id": s.id,
        "contract_ids": s.contract_ids,
        "status": s.state(now),
        "expires_at": iso(s.expires_at),
        "intent": intent,
    }
    if s.result:
        out["result"] = result_json(s.result)
    return out


@routes.post(
    "/api/v1/signing-sessions",
    "企业签署（单份或批量）：选择印章，意愿认证用短信验证码或人脸识别",
    body=SigningSessionIn,
    status=201,
    auth="enterprise",
    answer=SigningSessionOut,
    errors=(404, 409, 428, 429),  # 404: a contract id that is not the enterprise's
)
async def start_signing(request: web.Request) -> web.Response:
    actor = await require_user(request)
    data = await body(request, SigningSessionIn)
    deps = request.app[DEPS]
    session = await svc.start_enterprise_signing(deps, actor, **data.model_dump(), ctx=ctx(request))
    return json_response(session_json(session, deps.clock.now()), 201)


@routes.get(
    "/api/v1/signing-sessions/{id}",
    "签署会话状态（人脸识别后查询签署结果）",
    auth="session",
    answer=SigningSessionOut,
)
async def get_session(request: web.Request) -> web.Response:
    actor = await require_user(request)
    deps = request.app[DEPS]
    session = await svc.get_session(deps, actor, request.match_info["id"])
    return json_response(session_json(session, deps.clock.now()))


@routes.get(
    "/api/v1/signing-sessions/{id}/qr.png",
    "电脑端：用手机扫码完成人脸识别",
    auth="session",
    produces="image/png",
)
async def session_qr(request: web.Request) -> web.Response:
    actor = await require_user(request)
    deps = request.app[DEPS]
    session = await svc.get_session(deps, actor, request.match_info["id"])
    if session.intent_method != IntentMethod.FACE or not session.intent_url:
        raise NotFound("该签署不使用人脸识别", "not_face")
    url = session.intent_url
    if url.startswith("/"):
        url = deps.public_url.rstrip("/") + url
    out = io.BytesIO()
    qrcode.make(url, box_size=6, border=2).save(out)
    return web.Response(body=out.getvalue(), content_type="image/png", headers={"Cache-Control": "no-store"})


@routes.post(
    "/api/v1/signing-sessions/{id}/code",
    "重新发送签署意愿验证码（短信方式；与上次发送须间隔60秒）",
    status=202,
    auth="session",
    answer=CodeSentOut,
    errors=(409, 428, 429),
)
async def resend_code(request: web.Request) -> web.Response:
    actor = await require_user(request)
    expires_in, resend_after = await svc.resend_intent_code(
        request.app[DEPS], actor, request.match_info["id"]
    )
    answer: CodeSentOut = {"expires_in": expires_in, "resend_after": resend_after}
    return json_response(answer, 202)


@routes.post(
    "/api/v1/signing-sessions/{id}/confirm",
    "完成签署：短信方式提交验证码；人脸方式在识别通过后确认（通常已自动完成）",
    body=ConfirmIn,
    auth="session",
    answer=SigningResultOut,
    errors=(409, 429),
)
async def confirm(request: web.Request) -> web.Response:
    actor = await require_user(request)
    data = await body(request, ConfirmIn)
    result = await svc.confirm_signing(
        request.app[DEPS], actor, request.match_info["id"], data.code, ctx(request)
    )
    return json_response(result_json(result))


@routes.post(
    "/api/v1/me/contracts/{id}/signature",
    "劳动者提交手写签名，意愿认证用短信验证码或人脸识别",
    body=WorkerSignatureIn,
    status=201,
    auth="worker",
    answer=WorkerSigningOut,
    errors=(409, 428, 429),
)
async def worker_signature(request: web.Request) -> web.Response:
    actor = await require_user(request)
    data = await body(request, WorkerSignatureIn)
    deps = request.app[DEPS]
    session = await svc.start_worker_signing(
        deps, actor, request.match_info["id"], signature_png=data.signature_png, fields=data.fields,
        save_signature=data.save_signature, use_saved=data.use_saved_signature,
        intent_method=data.intent_method, ctx=ctx(request),
    )  # fmt: skip
    answer: WorkerSigningOut = {**session_json(session, deps.clock.now()), "signing_session_id": session.id}
    return json_response(answer, 201)


@routes.get(
    "/api/v1/me/signature.png",
    "我保存的手写签名（用于再次签署；没有保存过时 404）",
    auth="worker",
    produces="image/png",
    errors=(404,),
)
async def my_saved_signature(request: web.Request) -> web.Response:
    actor = await require_user(request)
    png = await svc.saved_signature(request.app[DEPS], actor)
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "private, no-store"})


@routes.delete(
    "/api/v1/me/signature",
    "删除我保存的手写签名（没有保存过时 404）",
    auth="worker",
    status=200,
    answer=Done,
    errors=(404,),
)
async def forget_my_signature(request: web.Request) -> web.Response:
    actor = await require_user(request)
    await svc.forget_saved_signature(request.app[DEPS], actor)
    return json_response({"ok": True})
