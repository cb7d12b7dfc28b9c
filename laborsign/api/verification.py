"""Real-name verification in the JSON API: the person's own verifications, the enterprise's
organisation check, the platform reviewer's authorization-letter queue, provider callbacks
and the sandbox payments inbox for development."""

from __future__ import annotations

import io
from typing import Annotated, Any, NotRequired

import qrcode
from aiohttp import web
from pydantic import BaseModel, WithJsonSchema
from typing_extensions import TypedDict

from ..core.clock import iso
from ..core.errors import Forbidden, NotFound
from ..core.identity_rules import ID_TYPE_LABELS, IdType
from ..core.services import limits
from ..core.services import signing as signing_svc
from ..core.services import verification as svc
from ..core.signing import IntentStatus, SigningSession
from ..core.values import mask_phone
from ..core.verification import (
    CONSENT_TEXT,
    CONSENT_VERSION,
    ENTERPRISE_CAPABILITY,
    ENTERPRISE_METHOD_LABELS,
    PERSON_CAPABILITY,
    PERSON_METHOD_LABELS,
    AttemptStatus,
    EnterpriseMethod,
    EnterpriseStatus,
    EnterpriseVerification,
    PersonMethod,
    PersonStatus,
    PersonVerification,
)
from ..inputs import header_text, read_limited
from .accounts import FlagIn, OrgTypeCode, PhoneIn, TextIn
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
from .schemas import Codes, Money, Page, Timestamp, Url
from .uploads import read_multipart

routes = ApiRoutes("实名认证")
webhook_routes = ApiRoutes("实名认证回调")
CALLBACK_MAX_BYTES = 64 * 1024  # a provider's result is a few hundred bytes
dev_routes = ApiRoutes("开发")


AmountIn = Annotated[
    Any,
    WithJsonSchema({"type": ["string", "number"], "description": "收到的打款金额（元，0.01-0.99），如 0.35"}),
]


class PersonIn(BaseModel):
    method: Annotated[Any, Codes(PersonMethod, "认证方式")] = None
    consent: FlagIn = None
    name: TextIn = None
    id_type: Annotated[Any, Codes(IdType, "证件类型")] = None
    id_number: TextIn = None
    phone: PhoneIn = None
    bank_card: Annotated[Any, WithJsonSchema({"type": "string", "description": "银行卡号（bankcard4）"})] = (
        None
    )


class CodeIn(BaseModel):
    code: Annotated[Any, WithJsonSchema({"type": "string", "description": "短信验证码"})] = None


class EnterpriseIn(BaseModel):
    method: Annotated[Any, Codes(EnterpriseMethod, "核验方式")] = None
    legal_rep_name: TextIn = None
    legal_rep_id_type: Annotated[Any, Codes(IdType, "证件类型")] = None
    legal_rep_id_number: TextIn = None
    legal_rep_phone: PhoneIn = None
    bank_name: TextIn = None
    bank_account: Annotated[
        Any, WithJsonSchema({"type": "string", "description": "对公银行账号（6-32位数字）"})
    ] = None
    account_name: TextIn = None


class EnterpriseConfirmIn(BaseModel):
    amount: AmountIn = None
    code: Annotated[Any, WithJsonSchema({"type": "string", "description": "法定代表人收到的短信验证码"})] = (
        None
    )


class ReviewIn(BaseModel):
    reason: Annotated[Any, WithJsonSchema({"type": "string", "description": "驳回原因"})] = None


PersonMethodCode = Annotated[str, Codes(PersonMethod, "个人实名认证方式")]
PersonStatusCode = Annotated[str, Codes(PersonStatus, "个人实名认证状态")]
EnterpriseMethodCode = Annotated[str, Codes(EnterpriseMethod, "企业组织机构核验方式")]
AttemptStatusCode = Annotated[str, Codes(AttemptStatus, "企业认证申请状态")]
EnterpriseStatusCode = Annotated[str, Codes(EnterpriseStatus, "企业实名认证状态")]
IdTypeCode = Annotated[str, Codes(IdType, "证件类型")]


class ConsentOut(TypedDict):
    version: str
    text: str


class PersonVerificationOut(TypedDict):
    id: str
    method: PersonMethodCode
    method_label: str
    status: PersonStatusCode
    name: str
    id_type: IdTypeCode
    id_number_masked: str
    created_at: Timestamp
    completed_at: Timestamp | None
    phone_masked: NotRequired[str]
    bank_card_masked: NotRequired[str]
    redirect_url: NotRequired[Url]
    qr_png: NotRequired[Url]
    reason: NotRequired[str]


class MyVerificationOut(TypedDict):
    verified: bool
    name: str | None
    id_type: IdTypeCode | None
    id_type_label: str | None
    id_number_masked: str | None
    method: PersonMethodCode | None
    verified_at: Timestamp | None
    latest: PersonVerificationOut | None
    consent_version: str
    methods: list[PersonMethodCode]


class EnterpriseAttemptOut(TypedDict):
    """The enterprise's current organisation check; the keys after completed_at belong to its method."""

    id: str
    method: EnterpriseMethodCode
    method_label: str
    status: AttemptStatusCode
    created_at: Timestamp
    completed_at: Timestamp | None
    legal_rep_name: NotRequired[str | None]
    legal_rep_id_masked: NotRequired[str | None]
    legal_rep_phone_masked: NotRequired[str]
    bank_name: NotRequired[str | None]
    bank_account_masked: NotRequired[str | None]
    account_name: NotRequired[str | None]
    attempts_left: NotRequired[int]
    payment_made: NotRequired[bool]
    letter_filename: NotRequired[str | None]
    reviewed_at: NotRequired[Timestamp | None]
    redirect_url: NotRequired[Url]
    reason: NotRequired[str]


class StartedEnterpriseAttemptOut(EnterpriseAttemptOut):
    enterprise_status: EnterpriseStatusCode


class VerifyingEnterpriseOut(TypedDict):
    name: str
    credit_code: str
    org_type: OrgTypeCode


class EnterpriseVerificationOut(TypedDict):
    status: EnterpriseStatusCode
    step: Annotated[str, Codes(["confirm_info", "operator", "organization", "done"], "当前步骤")]
    info_confirmed: bool
    operator_verified: bool
    enterprise: VerifyingEnterpriseOut
    attempt: EnterpriseAttemptOut | None
    methods: list[EnterpriseMethodCode]
    method: NotRequired[EnterpriseMethodCode]
    reason: NotRequired[str]
    redirect_url: NotRequired[Url]


class EnterpriseConfirmedOut(TypedDict):
    status: AttemptStatusCode
    method: EnterpriseMethodCode | None


class WrongAnswerOut(TypedDict):
    """422 of a wrong amount or code: the error, and how many tries are left."""

    error: Annotated[str, Codes(["wrong_amount", "bad_code"])]
    message: str
    fields: dict[str, str]
    status: AttemptStatusCode
    attempts_left: int


class ReviewedEnterpriseOut(TypedDict):
    id: str
    name: str
    credit_code: str
    org_type: OrgTypeCode


class PayingEnterpriseOut(TypedDict):
    id: str
    name: str
    credit_code: str


class OperatorOut(TypedDict):
    name: str | None
    phone_masked: str


class LetterReviewOut(TypedDict):
    id: str
    status: AttemptStatusCode
    enterprise: ReviewedEnterpriseOut
    operator: OperatorOut | None
    letter_filename: str | None
    letter_type: str | None
    letter_url: Url
    reason: str | None
    created_at: Timestamp
    reviewed_at: Timestamp | None


class ReviewedOut(TypedDict):
    id: str
    status: AttemptStatusCode
    reason: NotRequired[str | None]


class ManualPaymentOut(TypedDict):
    id: str
    status: AttemptStatusCode
    enterprise: PayingEnterpriseOut
    operator: OperatorOut | None
    bank_name: str | None
    bank_account: str
    account_name: str | None
    created_at: Timestamp
    paid_at: Timestamp | None
    reason: str | None


class PaidOut(TypedDict):
    id: str
    status: AttemptStatusCode
    paid_at: Timestamp | None


class SandboxPaymentOut(TypedDict):
    attempt_id: str
    enterprise_id: str
    bank_name: str | None
    bank_account_masked: str | None
    amount: Money
    status: AttemptStatusCode
    paid_at: Timestamp


class SandboxPaymentsOut(TypedDict):
    items: list[SandboxPaymentOut]


class IdentityCallbackOut(TypedDict):
    ok: bool
    status: Annotated[str, Codes([*PersonStatus, *AttemptStatus, *IntentStatus], "认证或签署意愿的结果状态")]


def person_json(v: PersonVerification) -> PersonVerificationOut:
    out: PersonVerificationOut = {
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


def attempt_json(a: EnterpriseVerification | None) -> EnterpriseAttemptOut | None:
    if a is None or a.method is None:
        return None
    out: EnterpriseAttemptOut = {
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
        out["bank_name"] = a.bank_name
        out["bank_account_masked"] = a.bank_account_masked
        out["account_name"] = a.account_name
        out["attempts_left"] = max(0, 3 - a.wrong_tries)
        # Whether the money is on its way (a manual payment waits for the reviewer); never how much.
        out["payment_made"] = a.amount_enc is not None
    if a.method == EnterpriseMethod.AUTHORIZATION_LETTER:
        out["letter_filename"] = a.letter_filename
        out["reviewed_at"] = iso(a.reviewed_at)
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


@routes.get(
    "/api/v1/verification/consent", "《实名认证服务协议》文本与版本", auth="public", answer=ConsentOut
)
async def consent(request: web.Request) -> web.Response:
    out: ConsentOut = {"version": CONSENT_VERSION, "text": CONSENT_TEXT}
    return json_response(out)


@routes.get(
    "/api/v1/me/verification",
    "我的实名状态（已认证时含掩码后的证件信息）",
    auth="worker",
    answer=MyVerificationOut,
)
async def my_state(request: web.Request) -> web.Response:
    actor = await require_user(request)
    state = await svc.person_state(_deps(request), actor.require_user().id)
    identity = state.identity
    out: MyVerificationOut = {
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
    return json_response(out)


@routes.post(
    "/api/v1/me/verifications",
    "发起个人实名认证",
    body=PersonIn,
    status=201,
    auth="worker",
    answer=PersonVerificationOut,
    errors=(409, 429, 503),
)
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


@routes.get(
    "/api/v1/me/verifications/{id}", "查看个人实名认证结果", auth="worker", answer=PersonVerificationOut
)
async def get_person(request: web.Request) -> web.Response:
    actor = await require_user(request)
    v = await svc.get_person(_deps(request), actor.require_user().id, request.match_info["id"])
    return json_response(person_json(v))


@routes.post(
    "/api/v1/me/verifications/{id}/confirm",
    "手机认证：提交短信验证码",
    body=CodeIn,
    auth="worker",
    answer=PersonVerificationOut,
    errors=(409, 429, 503),
)
async def confirm_person(request: web.Request) -> web.Response:
    actor = await require_user(request)
    data = await body(request, CodeIn)
    v = await svc.confirm_person(_deps(request), actor.require_user().id, request.match_info["id"], data.code)
    return json_response(person_json(v))


@routes.post(
    "/api/v1/me/verifications/{id}/resend",
    "手机认证：重新发送验证码",
    auth="worker",
    answer=PersonVerificationOut,
    errors=(409, 429, 503),
)
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


async def _enterprise_answer(request: web.Request) -> EnterpriseVerificationOut:
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
    out: EnterpriseVerificationOut = {
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


@routes.get(
    "/api/v1/enterprise/verification", "企业实名认证状态", auth="enterprise", answer=EnterpriseVerificationOut
)
async def enterprise_state(request: web.Request) -> web.Response:
    return json_response(await _enterprise_answer(request))


@routes.post(
    "/api/v1/enterprise/verification/info",
    "确认企业信息，开始认证",
    auth="enterprise",
    answer=EnterpriseVerificationOut,
    errors=(409,),
)
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
    answer=StartedEnterpriseAttemptOut,
    errors=(409, 415, 429, 503),
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
    attempt = attempt_json(a)
    if attempt is None:  # start_enterprise always sets a method: this is never reached
        raise NotFound("企业认证申请不存在")
    out: StartedEnterpriseAttemptOut = {
        **attempt,
        "enterprise_status": (await _enterprise_answer(request))["status"],
    }
    return json_response(out, 201)


@routes.post(
    "/api/v1/enterprise/verification/confirm",
    "提交打款金额（对公打款）或验证码（法定代表人）",
    body=EnterpriseConfirmIn,
    auth="enterprise",
    answer=EnterpriseConfirmedOut,
    errors=(409, 429, 503),
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
        wrong: WrongAnswerOut = {
            "error": "wrong_amount" if field == "amount" else "bad_code",
            "message": message,
            "fields": {field: message},
            "status": a.status,
            "attempts_left": left,
        }
        return json_response(wrong, 422)
    out: EnterpriseConfirmedOut = {"status": a.status, "method": a.method}
    return json_response(out)


@routes.get(
    "/api/v1/enterprise/verification/letter",
    "查看已上传的授权书",
    auth="enterprise",
    produces="application/pdf",
    errors=(404,),
)
async def enterprise_letter(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data, kind, _name = await svc.current_letter(_deps(request), actor)
    return web.Response(body=data, content_type=kind, headers={"Cache-Control": "no-store"})


# --- platform reviewer ------------------------------------------------------------------------------


def letter_row_json(row: svc.LetterRow) -> LetterReviewOut:
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
    answer=Page[LetterReviewOut],
)
async def console_letters(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    page, per_page = paging(request)
    status = request.query.get("status") or None
    rows, total = await svc.letters(_deps(request), actor, status, (page - 1) * per_page, per_page)
    return json_response(page_json([letter_row_json(r) for r in rows], total, page, per_page))


@routes.get("/api/v1/console/verifications/{id}", "平台审核员：授权书详情", answer=LetterReviewOut)
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


@routes.post(
    "/api/v1/console/verifications/{id}/approve",
    "平台审核员：授权书审核通过",
    answer=ReviewedOut,
    errors=(409,),
)
async def console_approve(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    a = await svc.review_letter(_deps(request), actor, request.match_info["id"], True)
    out: ReviewedOut = {"id": a.id, "status": a.status}
    return json_response(out)


@routes.post(
    "/api/v1/console/verifications/{id}/reject",
    "平台审核员：驳回授权书",
    body=ReviewIn,
    answer=ReviewedOut,
    errors=(409,),
)
async def console_reject(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, ReviewIn)
    a = await svc.review_letter(_deps(request), actor, request.match_info["id"], False, data.reason)
    out: ReviewedOut = {"id": a.id, "status": a.status, "reason": a.reason}
    return json_response(out)


class PaidIn(BaseModel):
    amount: Annotated[
        Any, WithJsonSchema({"type": ["string", "number"], "description": "实际打款金额（元，0.01-0.99）"})
    ] = None


def payment_row_json(row: svc.PaymentRow) -> ManualPaymentOut:
    a = row.attempt
    return {
        "id": a.id,
        "status": a.status,
        "enterprise": {
            "id": row.enterprise.id,
            "name": row.enterprise.name,
            "credit_code": row.enterprise.credit_code,
        },
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
    paged=True,
    answer=Page[ManualPaymentOut],
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
    answer=PaidOut,
    errors=(409,),
)
async def console_paid(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, PaidIn)
    a = await svc.record_manual_payment(_deps(request), actor, request.match_info["id"], data.amount)
    out: PaidOut = {"id": a.id, "status": a.status, "paid_at": iso(a.paid_at)}
    return json_response(out)


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
    "/webhooks/identity/{provider}",
    "人脸识别 / 企业支付宝认证结果回调（签名校验）",
    auth="public",
    answer=IdentityCallbackOut,
    errors=(403, 409, 413, 429, 503),
)
async def identity_callback(request: web.Request) -> web.Response:
    target = await _callback(request)
    status = target.intent_status if isinstance(target, SigningSession) else target.status
    out: IdentityCallbackOut = {"ok": True, "status": status}
    return json_response(out)


@webhook_routes.get(
    "/webhooks/identity/{provider}",
    "认证完成后浏览器回跳（向提供方查询结果，302 到结果页）",
    auth="public",
    status=302,
    produces="text/plain",
    errors=(403, 409, 429, 503),
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
    answer=SandboxPaymentsOut,
)
async def dev_payments(request: web.Request) -> web.Response:
    if not is_loopback(request):
        raise NotFound("请求的资源不存在")
    rows = await svc.sandbox_payments(_deps(request), request.query.get("enterprise_id", "")[:64])
    items: list[SandboxPaymentOut] = [
        {
            "attempt_id": row["attempt_id"],
            "enterprise_id": row["enterprise_id"],
            "bank_name": row["bank_name"],
            "bank_account_masked": row["bank_account_masked"],
            "amount": row["amount"],
            "status": row["status"],
            "paid_at": iso(row["paid_at"]),
        }
        for row in rows
    ]
    out: SandboxPaymentsOut = {"items": items}
    return json_response(out)
