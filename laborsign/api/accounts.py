"""Accounts part of the JSON API: SMS codes, login, enterprises, members, API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, WithJsonSchema
from typing_extensions import TypedDict

from ..core.accounts import (
    ENTERPRISE_EVENT_LABELS,
    ApiKey,
    Enterprise,
    EnterpriseEvent,
    Member,
    MemberStatus,
    OrgType,
    Permission,
    PlatformRole,
    Role,
    SmsPurpose,
    User,
)
from ..core.clock import iso
from ..core.services import accounts as svc
from ..core.services import limits, progress
from ..core.services.accounts import SIDES, Actor, LoginResult
from ..core.services.limits import Asker
from ..core.values import mask_phone
from ..core.verification import EnterpriseStatus
from ..inputs import header_text
from .http import (
    DEPS,
    SESSION_COOKIE,
    ApiRoutes,
    body,
    client_ip,
    current_actor,
    json_response,
    page_json,
    paging,
    require_actor,
    require_user,
)
from .schemas import Codes, Page, Timestamp

routes = ApiRoutes("账号与企业")

# Request fields the services check themselves (so a wrong type gets their own Chinese message,
# not pydantic's): validated as Any, published as what a client is to send.
TextIn = Annotated[Any, WithJsonSchema({"type": "string"})]
FlagIn = Annotated[Any, WithJsonSchema({"type": "boolean", "description": "须为 true"})]
PhoneIn = Annotated[Any, WithJsonSchema({"type": "string", "description": "中国大陆手机号（11位）"})]
PermissionsIn = Annotated[
    Any, WithJsonSchema({"type": "array", "items": {"type": "string", "enum": [p.value for p in Permission]}})
]


class SmsCodeIn(BaseModel):
    phone: str
    purpose: Annotated[str, Codes(SmsPurpose, "用途")]
    captcha_id: str | None = None
    captcha_answer: str | None = None


class EnterpriseIn(BaseModel):
    name: TextIn = None
    credit_code: Annotated[
        Any, WithJsonSchema({"type": "string", "description": "统一社会信用代码（18位）"})
    ] = None
    org_type: Annotated[Any, Codes(OrgType, "组织类型")] = None
    admin_name: TextIn = None
    admin_phone: PhoneIn = None
    code: Annotated[
        Any, WithJsonSchema({"type": "string", "description": "发往 admin_phone 的注册短信验证码"})
    ] = None
    agree_terms: FlagIn = None


class LoginIn(BaseModel):
    side: Annotated[Any, Codes(SIDES, "登录端")] = None
    phone: PhoneIn = None
    code: Annotated[
        Any, WithJsonSchema({"type": "string", "description": "登录短信验证码（与 password 二选一）"})
    ] = None
    password: TextIn = None
    agree_terms: FlagIn = None


class ChooseEnterpriseIn(BaseModel):
    enterprise_id: str


class PasswordIn(BaseModel):
    password: Annotated[Any, WithJsonSchema({"type": "string", "description": "8-32位，含字母和数字"})] = None
    code: Annotated[Any, WithJsonSchema({"type": "string", "description": "身份验证短信验证码"})] = None


class MemberIn(BaseModel):
    name: TextIn = None
    phone: PhoneIn = None
    permissions: PermissionsIn = None


class MemberPatchIn(BaseModel):
    permissions: PermissionsIn = None
    role: Annotated[Any, Codes(Role, "成员角色")] = None


class TransferIn(BaseModel):
    member_id: str


class ApiKeyIn(BaseModel):
    name: str | None = None


OrgTypeCode = Annotated[str, Codes(OrgType, "组织类型")]
RoleCode = Annotated[str, Codes(Role, "成员角色")]
PermissionCode = Annotated[str, Codes(Permission, "成员权限")]
VerificationStatusCode = Annotated[str, Codes(EnterpriseStatus, "企业实名认证状态")]


class OwnUserOut(TypedDict):
    """The caller's own account (the full phone is shown only to them)."""

    id: str
    phone_masked: str
    name: str | None
    verified: bool
    phone: str
    has_password: bool
    platform_role: Annotated[str, Codes(PlatformRole, "平台角色")] | None


class EnterpriseOut(TypedDict):
    id: str
    name: str
    credit_code: str
    org_type: OrgTypeCode
    verification_status: VerificationStatusCode


class MembershipOut(TypedDict):
    """An enterprise the user belongs to (id is the enterprise's)."""

    id: str
    name: str
    role: RoleCode
    member_id: str


class MemberOut(TypedDict):
    id: str
    name: str
    phone_masked: str
    role: RoleCode
    permissions: list[PermissionCode]
    status: Annotated[str, Codes(MemberStatus, "成员状态")]
    created_at: Timestamp
    last_login_at: Timestamp | None


class LoginOut(TypedDict):
    user: OwnUserOut
    enterprises: list[MembershipOut]
    enterprise_id: str | None
    csrf: str


class EnterpriseCreatedOut(LoginOut):
    enterprise: EnterpriseOut


class SmsCodeSentOut(TypedDict):
    expires_in: int
    resend_after: int


class CaptchaOut(TypedDict):
    id: str
    image: str
    expires_in: int


class MyMemberOut(TypedDict):
    id: str
    role: RoleCode
    permissions: list[PermissionCode]


class MeOut(TypedDict):
    user: OwnUserOut | None
    side: Annotated[str, Codes([*SIDES, "integrator"], "登录端（API 密钥为 integrator）")]
    enterprise: EnterpriseOut | None
    member: MyMemberOut | None
    enterprises: list[MembershipOut]
    csrf: str | None


class SetupStepOut(TypedDict):
    key: str
    title: str
    hint: str
    href: str
    done: bool


class SetupProgressOut(TypedDict):
    steps: list[SetupStepOut]
    done: int
    total: int


class AdminTransferOut(TypedDict):
    admin_member_id: str
    name: str


class EnterpriseEventOut(TypedDict):
    id: str
    kind: Annotated[str, Codes(ENTERPRISE_EVENT_LABELS, "操作类型")]
    label: str
    at: Timestamp
    actor_name: str
    ip: str
    details: dict[str, Any]


class ApiKeyOut(TypedDict):
    id: str
    name: str
    prefix: str
    created_at: Timestamp
    revoked_at: Timestamp | None


class ApiKeyList(TypedDict):
    items: list[ApiKeyOut]
    total: int


class ApiKeyCreatedOut(ApiKeyOut):
    secret: str


def own_user_json(user: User) -> OwnUserOut:
    return {
        "id": user.id,
        "phone_masked": mask_phone(user.phone),
        "name": user.name,
        "verified": user.verified,
        "phone": user.phone,
        "has_password": bool(user.password_hash),
        "platform_role": user.platform_role,
    }


def enterprise_json(enterprise: Enterprise) -> EnterpriseOut:
    return {
        "id": enterprise.id,
        "name": enterprise.name,
        "credit_code": enterprise.credit_code,
        "org_type": enterprise.org_type,
        "verification_status": enterprise.verification_status,
    }


def membership_json(member: Member, enterprise: Enterprise) -> MembershipOut:
    return {"id": enterprise.id, "name": enterprise.name, "role": member.role, "member_id": member.id}


def member_json(member: Member, user: User, last_login_at: datetime | None = None) -> MemberOut:
    return {
        "id": member.id,
        "name": member.name,
        "phone_masked": mask_phone(user.phone),
        "role": member.role,
        "permissions": member.permissions,
        "status": member.status,
        "created_at": iso(member.created_at),
        "last_login_at": iso(last_login_at),
    }


def setup_step_json(step: progress.Step) -> SetupStepOut:
    return {"key": step.key, "title": step.title, "hint": step.hint, "href": step.href, "done": step.done}


def _session_days(request: web.Request) -> int:
    return int(request.app[DEPS].config.server.session_days)


def _start_session(request: web.Request, response: web.Response, result: LoginResult) -> None:
    config = request.app[DEPS].config
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        max_age=config.server.session_days * 86400,
        httponly=True,
        samesite="Lax",
        secure=config.server.secure_cookies,
        path="/",
    )


def _login_answer(result: LoginResult) -> LoginOut:
    return {
        "user": own_user_json(result.user),
        "enterprises": [membership_json(m, e) for m, e in result.memberships],
        "enterprise_id": result.session.enterprise_id,
        "csrf": result.session.csrf,
    }


@routes.post(
    "/api/v1/sms/codes",
    "发送短信验证码（同一网络地址频繁获取时须先完成图形验证码：428 captcha_required）",
    body=SmsCodeIn,
    status=202,
    auth="public",
    answer=SmsCodeSentOut,
    errors=(428, 429),
)
async def send_code(request: web.Request) -> web.Response:
    data = await body(request, SmsCodeIn)
    actor = await current_actor(request)
    # A logged-in person is budgeted as themself (the factory's workers changing passwords
    # must not meet their shared address's budget); anyone else by their address.
    user = actor.user if actor is not None else None
    asker = Asker(person=user.id) if user is not None else Asker(client=client_ip(request))
    expires_in, resend_after = await svc.request_sms_code(
        request.app[DEPS], data.phone, data.purpose, asker,
        captcha_id=data.captcha_id, captcha_answer=data.captcha_answer,
    )  # fmt: skip
    sent: SmsCodeSentOut = {"expires_in": expires_in, "resend_after": resend_after}
    return json_response(sent, 202)


@routes.get(
    "/api/v1/captcha",
    "图形验证码（获取短信验证码前需要时使用）",
    auth="public",
    answer=CaptchaOut,
    errors=(429,),
)
async def new_captcha(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    challenge = await limits.new_captcha(deps, client_ip(request))
    image = await limits.captcha_image(challenge)
    expires_in = int((challenge.expires_at - deps.clock.now()).total_seconds())
    out: CaptchaOut = {"id": challenge.id, "image": image, "expires_in": expires_in}
    response = json_response(out)
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.post(
    "/api/v1/enterprises",
    "创建企业（管理员随即登录）",
    body=EnterpriseIn,
    status=201,
    auth="public",
    answer=EnterpriseCreatedOut,
    errors=(409, 429),
)
async def create_enterprise(request: web.Request) -> web.Response:
    data = await body(request, EnterpriseIn)
    enterprise, result = await svc.create_enterprise(
        request.app[DEPS],
        **data.model_dump(),
        ip=client_ip(request),
        user_agent=header_text(request, "User-Agent"),
        session_days=_session_days(request),
    )
    created: EnterpriseCreatedOut = {**_login_answer(result), "enterprise": enterprise_json(enterprise)}
    response = json_response(created, 201)
    _start_session(request, response, result)
    return response


@routes.post(
    "/api/v1/auth/login",
    "登录（验证码或密码）",
    body=LoginIn,
    auth="public",
    answer=LoginOut,
    errors=(401, 403, 429),
)
async def login(request: web.Request) -> web.Response:
    data = await body(request, LoginIn)
    result = await svc.login(
        request.app[DEPS],
        **data.model_dump(),
        ip=client_ip(request),
        user_agent=header_text(request, "User-Agent"),
        session_days=_session_days(request),
    )
    response = json_response(_login_answer(result))
    _start_session(request, response, result)
    return response


@routes.post("/api/v1/auth/logout", "退出登录", status=204)
async def logout(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    if actor.session is not None:
        await svc.logout(request.app[DEPS], actor.session.id)
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def _me_answer(request: web.Request, actor: Actor) -> MeOut:
    memberships = await svc.memberships(request.app[DEPS], actor.user.id) if actor.user else []
    return {
        "user": own_user_json(actor.user) if actor.user else None,
        "side": actor.session.side if actor.session else "integrator",
        "enterprise": enterprise_json(actor.enterprise) if actor.enterprise else None,
        "member": {
            "id": actor.member.id,
            "role": actor.member.role,
            "permissions": actor.member.permissions,
        }
        if actor.member
        else None,
        "enterprises": [membership_json(m, e) for m, e in memberships],
        "csrf": actor.session.csrf if actor.session else None,
    }


@routes.get("/api/v1/me", "当前用户、所办理的企业与 CSRF 令牌", answer=MeOut)
async def me(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    return json_response(await _me_answer(request, actor))


@routes.get(
    "/api/v1/setup-progress",
    "首次使用清单：认证、印章、模板、邀请、发起是否已完成",
    auth="enterprise",
    answer=SetupProgressOut,
)
async def setup_progress(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    steps = await progress.first_run(request.app[DEPS], actor)
    out: SetupProgressOut = {
        "steps": [setup_step_json(s) for s in steps],
        "done": sum(s.done for s in steps),
        "total": len(steps),
    }
    return json_response(out)


@routes.post(
    "/api/v1/session/enterprise", "选择或切换办理企业", body=ChooseEnterpriseIn, answer=MeOut, errors=(404,)
)
async def choose_enterprise(request: web.Request) -> web.Response:
    actor = await require_user(request)
    data = await body(request, ChooseEnterpriseIn)
    chosen = await svc.choose_enterprise(request.app[DEPS], actor, data.enterprise_id)
    return json_response(await _me_answer(request, chosen))


@routes.put("/api/v1/me/password", "设置或修改登录密码", body=PasswordIn, status=204, errors=(429,))
async def set_password(request: web.Request) -> web.Response:
    actor = await require_user(request)
    data = await body(request, PasswordIn)
    await svc.set_password(request.app[DEPS], actor.require_user(), data.password, data.code)
    return web.Response(status=204)


@routes.get("/api/v1/members", "企业成员列表", paged=True, auth="enterprise", answer=Page[MemberOut])
async def list_members(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    page, per_page = paging(request)
    items, total = await svc.list_members(request.app[DEPS], actor, page, per_page)
    logins = await svc.member_last_logins(request.app[DEPS], actor, [u.id for _, u in items])
    rows = [member_json(m, u, logins.get(u.id)) for m, u in items]
    return json_response(page_json(rows, total, page, per_page))


@routes.post(
    "/api/v1/members",
    "添加成员（仅管理员）",
    body=MemberIn,
    status=201,
    auth="enterprise",
    answer=MemberOut,
    errors=(409,),
)
async def add_member(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, MemberIn)
    member, user = await svc.add_member(request.app[DEPS], actor, data.name, data.phone, data.permissions)
    return json_response(member_json(member, user), 201)


@routes.patch(
    "/api/v1/members/{id}",
    "修改成员权限或角色（仅管理员；企业须保留至少一名管理员：409 last_admin）",
    body=MemberPatchIn,
    auth="enterprise",
    answer=MemberOut,
    errors=(409,),
)
async def update_member(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, MemberPatchIn)
    member, user = await svc.update_member(
        request.app[DEPS], actor, request.match_info["id"], data.permissions, data.role
    )
    return json_response(member_json(member, user))


@routes.delete(
    "/api/v1/members/{id}",
    "移除成员（其会话与企业微信绑定随即失效；不能移除唯一的管理员：409 last_admin）",
    status=204,
    auth="enterprise",
    errors=(409,),
)
async def remove_member(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    await svc.remove_member(request.app[DEPS], actor, request.match_info["id"])
    return web.Response(status=204)


@routes.post(
    "/api/v1/enterprise/admin-transfer",
    "管理员权限转授",
    body=TransferIn,
    auth="enterprise",
    answer=AdminTransferOut,
    errors=(404, 409),
)
async def admin_transfer(request: web.Request) -> web.Response:
    actor = await require_user(request)
    data = await body(request, TransferIn)
    successor = await svc.transfer_admin(request.app[DEPS], actor, data.member_id)
    out: AdminTransferOut = {"admin_member_id": successor.id, "name": successor.name}
    return json_response(out)


def enterprise_event_json(e: EnterpriseEvent) -> EnterpriseEventOut:
    return {
        "id": e.id,
        "kind": e.kind,
        "label": ENTERPRISE_EVENT_LABELS.get(e.kind, e.kind),
        "at": iso(e.at),
        "actor_name": e.actor_name,
        "ip": e.ip,
        "details": e.details,
    }


@routes.get(
    "/api/v1/enterprise/events",
    "企业操作审计记录（导出、成员变更；仅管理员）",
    paged=True,
    auth="enterprise",
    answer=Page[EnterpriseEventOut],
)
async def list_enterprise_events(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    page, per_page = paging(request)
    items, total = await svc.enterprise_events(request.app[DEPS], actor, page, per_page)
    return json_response(page_json([enterprise_event_json(e) for e in items], total, page, per_page))


def api_key_json(key: ApiKey) -> ApiKeyOut:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "created_at": iso(key.created_at),
        "revoked_at": iso(key.revoked_at),
    }


@routes.get("/api/v1/api-keys", "API 密钥列表（仅管理员）", auth="enterprise", answer=ApiKeyList)
async def list_api_keys(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    keys = await svc.list_api_keys(request.app[DEPS], actor)
    out: ApiKeyList = {"items": [api_key_json(k) for k in keys], "total": len(keys)}
    return json_response(out)


@routes.post(
    "/api/v1/api-keys",
    "创建 API 密钥（密钥只显示一次）",
    body=ApiKeyIn,
    status=201,
    auth="enterprise",
    answer=ApiKeyCreatedOut,
)
async def create_api_key(request: web.Request) -> web.Response:
    actor = await require_user(request)
    data = await body(request, ApiKeyIn)
    key, secret = await svc.create_api_key(request.app[DEPS], actor, data.name)
    created: ApiKeyCreatedOut = {**api_key_json(key), "secret": secret}
    return json_response(created, 201)


@routes.delete("/api/v1/api-keys/{id}", "吊销 API 密钥", auth="enterprise")
async def revoke_api_key(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    await svc.revoke_api_key(request.app[DEPS], actor, request.match_info["id"])
    return web.Response(status=204)
