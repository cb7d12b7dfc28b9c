"""Real-name verification in the JSON API: the person's own verifications, the enterprise's
organisation check, the platform reviewer's authorization-letter queue, provider callbacks
and the sandbox payments inbox for development."""

from __future__ import annotations

import io
from typing import Any

import qrcode
from aiohttp import web
from pydantic import BaseModel

from ..core.clock import iso
from ..core.errors import Forbidden, NotFound
from ..core.identity_rules import ID_TYPE_LABELS, IdType
from ..core.services import limits
from ..core.services import signing as signing_svc
from ..core.services import verification as svc
from ..core.signing import SigningSession
from ..core.values import mask_phone
from ..core.verification import (
    CONSENT_TEXT,
    CONSENT_VERSION,
    ENTERPRISE_CAPABILITY,
    ENTERPRISE_METHOD_LABELS,
    PERSON_CAPABILITY,
    PERSON_METHOD_LABELS,
    EnterpriseMethod,
    EnterpriseVerification,
    PersonMethod,
    PersonVerification,
)
from .http import (
    DEPS,
    ApiRoutes,
    body,
    client_ip,
    is_loopback,
    json_response,
    page_json,
    paging,
    require_actor,
    require_user,
)
from .inputs import header_text, read_limited
from .uploads import read_multipart

routes = ApiRoutes("实名认证")
webhook_routes = ApiRoutes("实名认证回调")
CALLBACK_MAX_BYTES = 64 * 1024  # a provider's result is a few hundred bytes
dev_routes = ApiRoutes("开发")


class PersonIn(BaseModel):
    method: Any = None
    consent: Any = None
    name: Any = None
    id_type: Any = None
    id_number: Any = None
    phone: Any = None
    bank_card: Any = None


class CodeIn(BaseModel):
    code: Any = None


class EnterpriseIn(BaseModel):
    method: Any = None
    legal_rep_name: Any = None
    legal_rep_id_type: Any = None
    legal_rep_id_number: Any = None
    legal_rep_phone: Any = None
    bank_name: Any = None
    bank_account: Any = None
    account_name: Any = None


class EnterpriseConfirmIn(BaseModel):
    amount: Any = None
    code: Any = None


class ReviewIn(BaseModel):
    reason: Any = None


def person_json(v: PersonVerification) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": v.id,
        "method": v.method,
        "method_label": PERSON_METHOD_LABELS[PersonMethod(v.method)],
        "status": v.status,
        "name": v.name,
        "id_type": v.id_type,
        "id_number_masked": v.id_number_masked,
        "created_at": iso(v.created_at),
        "completed_at": iso(v.completed_at),
    }
    if v.phone:
        out["phone_masked"] = mask_phone(v.phone)
    if v.bank_card_masked:
        out["bank_card_masked"] = v.bank_card_masked
    if v.redirect_url and v.status == "redirect":
        out["redirect_url"] = v.redirect_url
        out["qr_png"] = f"/api/v1/me/verifications/{v.id}/qr.png"
    if v.reason:
        out["reason"] = v.reason
    return out


def attempt_json(a: EnterpriseVerification | None) -> dict[str, Any] | None:
    if a is None or a.method is None:
        return None
    out: dict[str, Any] = {
        "id": a.id,
        "method": a.method,
        "method_label": ENTERPRISE_METHOD_LABELS[EnterpriseMethod(a.method)],
        "status": a.status,
        "created_at": iso(a.created_at),
        "completed_at": iso(a.completed_at),
    }
    if a.method == EnterpriseMethod.LEGAL_REP:
        out["legal_rep_name"] = a.legal_rep_name
        out["legal_rep_id_masked"] = a.legal_rep_id_masked
        out["legal_rep_phone_masked"] = mask_phone(a.legal_rep_phone or "")
    if a.method == EnterpriseMethod.CORPORATE_PAYMENT:
        out.update(
            bank_name=a.bank_name, bank_account_masked=a.bank_account_masked, account_name=a.account_name
        )
        out["attempts_left"] = max(0, 3 - a.wrong_tries)
        # Whether the money is on its way (a manual payment waits for the reviewer); never how much.
        out["payment_made"] = a.amount_enc is not None
    if a.method == EnterpriseMethod.AUTHORIZATION_LETTER:
        out.update(letter_filename=a.letter_filename, reviewed_at=iso(a.reviewed_at))
    if a.redirect_url and a.status == "pending":
        out["redirect_url"] = a.redirect_url
    if a.reason:
        out["reason"] = a.reason
    return out


def _deps(request: web.Request) -> Any:
    return request.app[DEPS]


def offered_person_methods(deps: Any) -> list[str]:
    return [m.value for m in PersonMethod if deps.identity.offers(PERSON_CAPABILITY[m])]


def offered_enterprise_methods(deps: Any) -> list[str]:
    return [
        m.value
        for m in EnterpriseMethod
        if m not in ENTERPRISE_CAPABILITY or deps.identity.offers(ENTERPRISE_CAPABILITY[m])
    ]


# --- the person's own verification --------------------------------------------------------------


@routes.get("/api/v1/verification/consent", "《实名认证服务协议》文本与版本", auth="public")
async def consent(request: web.Request) -> web.Response:
    return json_response({"version": CONSENT_VERSION, "text": CONSENT_TEXT})


@routes.get("/api/v1/me/verification", "我的实名状态（已认证时含掩码后的证件信息）", auth="worker")
async def my_state(request: web.Request) -> web.Response:
    actor = await require_user(request)
    state = await svc.person_state(_deps(request), actor.require_user().id)
    identity = state.identity
    return json_response(
        {
            "verified": state.user.verified,
            "name": identity.name if identity else None,
            "id_type": identity.id_type if identity else None,
            "id_type_label": ID_TYPE_LABELS[IdType(identity.id_type)] if identity else None,
            "id_number_masked": identity.id_number_masked if identity else None,
            "method": identity.method if identity else None,
            "verified_at": iso(identity.verified_at) if identity else None,
            "latest": person_json(state.latest) if state.latest else None,
            "consent_version": CONSENT_VERSION,
            "methods": offered_person_methods(_deps(request)),
        }
    )


@routes.post("/api/v1/me/verifications", "发起个人实名认证", body=PersonIn, status=201, auth="worker")
async def start_person(request: web.Request) -> web.Response:
    actor = await require_user(request)
    data = await body(request, PersonIn)
    v = await svc.start_person(
        _deps(request),
        actor.require_user().id,
        **data.model_dump(),
        ip=client_ip(request),
        user_agent=header_text(request, "User-Agent"),
    )
    return json_response(person_json(v), 201)


@routes.get("/api/v1/me/verifications/{id}", "查看个人实名认证结果", auth="worker")
async def get_person(request: web.Request) -> web.Response:
    actor = await require_user(request)
    v = await svc.get_person(_deps(request), actor.require_user().id, request.match_info["id"])
    return json_response(person_json(v))


@routes.post("/api/v1/me/verifications/{id}/confirm", "手机认证：提交短信验证码", body=CodeIn, auth="worker")
async def confirm_person(request: web.Request) -> web.Response:
    actor = await require_user(request)
    data = await body(request, CodeIn)
    v = await svc.confirm_person(_deps(request), actor.require_user().id, request.match_info["id"], data.code)
    return json_response(person_json(v))


@routes.post("/api/v1/me/verifications/{id}/resend", "手机认证：重新发送验证码", auth="worker")
async def resend_person(request: web.Request) -> web.Response:
    actor = await require_user(request)
    v = await svc.resend_person_code(_deps(request), actor.require_user().id, request.match_info["id"])
    return json_response(person_json(v))


@routes.get(
    "/api/v1/me/verifications/{id}/qr.png",
    "人脸识别二维码（手机扫码进入）",
    auth="worker",
    produces="image/png",
)
async def person_qr(request: web.Request) -> web.Response:
    actor = await require_user(request)
    v = await svc.get_person(_deps(request), actor.require_user().id, request.match_info["id"])
    if not v.redirect_url or v.status != "redirect":
        raise NotFound("该认证没有待扫码的人脸识别", "no_redirect")
    url = v.redirect_url
    if url.startswith("/"):
        url = _deps(request).public_url + url
    return web.Response(body=_qr_png(url), content_type="image/png", headers={"Cache-Control": "no-store"})


def _qr_png(text: str) -> bytes:
    img = qrcode.make(text, box_size=6, border=2)
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue()


# --- the enterprise ------------------------------------------------------------------------------------


async def _enterprise_answer(request: web.Request) -> dict[str, Any]:
    actor = await require_actor(request)
    state = await svc.enterprise_state(_deps(request), actor)
    e, a = state.enterprise, state.attempt
    if e.verification_status == "verified":
        step = "done"
    elif a is None:
        step = "confirm_info"
    elif not state.operator_verified:
        step = "operator"
    else:
        step = "organization"
    out: dict[str, Any] = {
        "status": e.verification_status,
        "step": step,
        "info_confirmed": a is not None,
        "operator_verified": state.operator_verified,
        "enterprise": {"name": e.name, "credit_code": e.credit_code, "org_type": e.org_type},
        "attempt": attempt_json(a),
        "methods": offered_enterprise_methods(_deps(request)),
    }
    if a is not None and a.method:
        out["method"] = a.method
        if a.reason:
            out["reason"] = a.reason
        if a.redirect_url and a.status == "pending":
            out["redirect_url"] = a.redirect_url
    return out


@routes.get("/api/v1/enterprise/verification", "企业实名认证状态", auth="enterprise")
async def enterprise_state(request: web.Request) -> web.Response:
    return json_response(await _enterprise_answer(request))


@routes.post("/api/v1/enterprise/verification/info", "确认企业信息，开始认证", auth="enterprise")
async def confirm_info(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    await svc.confirm_enterprise_info(_deps(request), actor)
    return json_response(await _enterprise_answer(request))


@routes.post(
    "/api/v1/enterprise/verification",
    "发起组织机构核验（JSON；授权书以 multipart 上传 method + file）",
    body=EnterpriseIn,
    status=201,
    auth="enterprise",
)
async def start_enterprise(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    letter: tuple[str, bytes] | None = None
    if request.content_type.startswith("multipart/"):
        upload = await read_multipart(
            request,
            max_file_bytes=svc.LETTER_MAX_BYTES,
            max_files=1,
            too_large_message="授权书文件不能超过10MB",
        )
        fields: dict[str, Any] = dict(upload.fields)
        files = upload.files.get("file") or []
        letter = files[0] if files else None
    else:
        fields = (await body(request, EnterpriseIn)).model_dump()
    a = await svc.start_enterprise(_deps(request), actor, fields.pop("method", None), fields, letter)
    out = attempt_json(a) or {}
    out["enterprise_status"] = (await _enterprise_answer(request))["status"]
    return json_response(out, 201)


@routes.post(
    "/api/v1/enterprise/verification/confirm",
    "提交打款金额（对公打款）或验证码（法定代表人）",
    body=EnterpriseConfirmIn,
    auth="enterprise",
)
async def confirm_enterprise(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, EnterpriseConfirmIn)
    a, left = await svc.confirm_enterprise(_deps(request), actor, amount=data.amount, code=data.code)
    if left is not None:
        field = "amount" if a.method == EnterpriseMethod.CORPORATE_PAYMENT else "code"
        what = "打款金额" if field == "amount" else "验证码"
        if a.status == "failed":
            message = a.reason or f"{what}错误次数过多，认证失败，请重新发起"
        else:
            message = f"{what}不正确，还可尝试{left}次"
        return json_response(
            {
                "error": "wrong_amount" if field == "amount" else "bad_code",
                "message": message,
                "fields": {field: message},
                "status": a.status,
                "attempts_left": left,
            },
            422,
        )
    return json_response({"status": a.status, "method": a.method})


@routes.get(
    "/api/v1/enterprise/verification/letter",
    "查看已上传的授权书",
    auth="enterprise",
    produces="application/pdf",
)
async def enterprise_letter(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data, kind, _name = await svc.current_letter(_deps(request), actor)
    return web.Response(body=data, content_type=kind, headers={"Cache-Control": "no-store"})


# --- platform reviewer ------------------------------------------------------------------------------


def letter_row_json(row: svc.LetterRow) -> dict[str, Any]:
    a = row.attempt
    return {
        "id": a.id,
        "status": a.status,
        "enterprise": {
            "id": row.enterprise.id,
            "name": row.enterprise.name,
            "credit_code": row.enterprise.credit_code,
            "org_type": row.enterprise.org_type,
        },
        "operator": {"name": row.operator.name, "phone_masked": mask_phone(row.operator.phone)}
        if row.operator
        else None,
        "letter_filename": a.letter_filename,
        "letter_type": a.letter_type,
        "letter_url": f"/api/v1/console/verifications/{a.id}/letter",
        "reason": a.reason,
        "created_at": iso(a.created_at),
        "reviewed_at": iso(a.reviewed_at),
    }


@routes.get(
    "/api/v1/console/verifications",
    "平台审核员：授权书审核列表",
    paged=True,
    query={"status": "pending verified failed"},
)
async def console_letters(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    page, per_page = paging(request)
    status = request.query.get("status") or None
    rows, total = await svc.letters(_deps(request), actor, status, (page - 1) * per_page, per_page)
    return json_response(page_json([letter_row_json(r) for r in rows], total, page, per_page))


@routes.get("/api/v1/console/verifications/{id}", "平台审核员：授权书详情")
async def console_letter(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    row = await svc.reviewer_letter(_deps(request), actor, request.match_info["id"])
    return json_response(letter_row_json(row))


@routes.get("/api/v1/console/verifications/{id}/letter", "平台审核员：授权书文件", produces="application/pdf")
async def console_letter_file(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    row = await svc.reviewer_letter(_deps(request), actor, request.match_info["id"])
    data, kind, _name = await svc.letter_file(_deps(request), row.attempt)
    return web.Response(body=data, content_type=kind, headers={"Cache-Control": "no-store"})


@routes.post("/api/v1/console/verifications/{id}/approve", "平台审核员：授权书审核通过")
async def console_approve(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    a = await svc.review_letter(_deps(request), actor, request.match_info["id"], True)
    return json_response({"id": a.id, "status": a.status})


@routes.post("/api/v1/console/verifications/{id}/reject", "平台审核员：驳回授权书", body=ReviewIn)
async def console_reject(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, ReviewIn)
    a = await svc.review_letter(_deps(request), actor, request.match_info["id"], False, data.reason)
    return json_response({"id": a.id, "status": a.status, "reason": a.reason})


class PaidIn(BaseModel):
    amount: Any = None


def payment_row_json(row: svc.PaymentRow) -> dict[str, Any]:
    a = row.attempt
    return {
        "id": a.id,
        "status": a.status,
        "enterprise": {"id": row.enterprise.id, "name": row.enterprise.name, "credit_code": row.enterprise.credit_code},
        "operator": {"name": row.operator.name, "phone_masked": mask_phone(row.operator.phone)}
        if row.operator
        else None,
        "bank_name": a.bank_name,
        "bank_account": row.bank_account,
        "account_name": a.account_name,
        "created_at": iso(a.created_at),
        "paid_at": iso(a.paid_at),
        "reason": a.reason,
    }


@routes.get(
    "/api/v1/console/payments",
    "平台审核员：对公打款申请（manual 打款）",
    query={"paid": "false 待打款 / true 已打款 / 空 全部"},
)
async def console_payments(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    page, per_page = paging(request)
    raw = request.query.get("paid", "")
    paid = {"true": True, "false": False}.get(raw)
    rows, total = await svc.manual_payments(_deps(request), actor, paid, (page - 1) * per_page, per_page)
    return json_response(page_json([payment_row_json(r) for r in rows], total, page, per_page))


@routes.post(
    "/api/v1/console/payments/{id}/paid",
    "平台审核员：登记已向企业对公账户打款及金额",
    body=PaidIn,
)
async def console_paid(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, PaidIn)
    a = await svc.record_manual_payment(_deps(request), actor, request.match_info["id"], data.amount)
    return json_response({"id": a.id, "status": a.status, "paid_at": iso(a.paid_at)})


# --- provider callbacks ------------------------------------------------------------------------------


async def _callback(request: web.Request) -> PersonVerification | EnterpriseVerification | SigningSession:
    """The provider adapter authenticates the result (403 when forged); it is then for a
    real-name session or for a signing session's face check."""
    provider = request.match_info["provider"]
    if len(provider) > 20:
        raise NotFound("未知的认证服务提供方", "unknown_provider")
    raw = await read_limited(request, CALLBACK_MAX_BYTES, "回调内容过大") if request.method == "POST" else b""
    headers = {k: v for k, v in request.headers.items()}
    deps = _deps(request)

    async def lookup(order: str) -> str | None:
        return await svc.provider_ref_of(deps, order)

    result = await deps.identity.callback(provider, headers, dict(request.query), raw, lookup)
    if result.replay_key is not None:
        await limits.admit_signed_callback(deps, "identity", f"{provider}:{result.replay_key}", raw)
    target = await svc.apply_identity_result(deps, result) or await signing_svc.face_intent_result(
        deps, result
    )
    if target is None:
        raise Forbidden("回调签名无效或认证会话不存在", "bad_callback")
    return target


@webhook_routes.post(
    "/webhooks/identity/{provider}", "人脸识别 / 企业支付宝认证结果回调（签名校验）", auth="public"
)
async def identity_callback(request: web.Request) -> web.Response:
    target = await _callback(request)
    if isinstance(target, SigningSession):
        return json_response({"ok": True, "status": target.intent_status})
    return json_response({"ok": True, "status": target.status})


@webhook_routes.get(
    "/webhooks/identity/{provider}", "认证完成后浏览器回跳（向提供方查询结果）", auth="public"
)
async def identity_return(request: web.Request) -> web.Response:
    target = await _callback(request)
    if isinstance(target, PersonVerification):
        raise web.HTTPFound(f"/h5/verify?vid={target.id}")
    if isinstance(target, SigningSession):
        raise web.HTTPFound(f"/h5/intent/{target.id}")
    raise web.HTTPFound("/dashboard/verification")


# --- development -------------------------------------------------------------------------------------


@dev_routes.get(
    "/api/v1/dev/payments",
    "开发用：沙箱对公打款金额（仅沙箱认证、仅本机访问）",
    auth="public",
    query={"enterprise_id": "企业 id"},
)
async def dev_payments(request: web.Request) -> web.Response:
    if not is_loopback(request):
        raise NotFound("请求的资源不存在")
    items = await svc.sandbox_payments(_deps(request), request.query.get("enterprise_id", "")[:64])
    for item in items:
        item["paid_at"] = iso(item["paid_at"])
    return json_response({"items": items})
