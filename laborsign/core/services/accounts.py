"""Account use cases: SMS codes, login, enterprises, members, admin transfer, API keys."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..accounts import (
    PLATFORM_AGREEMENT_VERSION,
    PLATFORM_ROLE_LABELS,
    SMS_CODE_TTL,
    SMS_PURPOSE_LABELS,
    AgreementAcceptance,
    ApiKey,
    Enterprise,
    EnterpriseEvent,
    Member,
    MemberStatus,
    OrgType,
    Permission,
    PlatformRole,
    Role,
    Session,
    SmsCode,
    SmsPurpose,
    User,
    day_start,
    hash_secret,
    validate_enterprise_name,
    validate_password,
    validate_person_name,
)
from ..errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized, WrongState
from ..ports import Deps, UnitOfWork
from ..values import CreditCode, Phone
from .limits import Asker, issue_code, solve_captcha

_hasher = PasswordHasher()
SIDES = ("employer", "worker", "platform")
AGREEMENT_REQUIRED = "请阅读并勾选同意《平台用户使用协议》"


@dataclass
class Actor:
    """Who is acting, and for which enterprise (None on the worker side)."""

    user: User | None
    enterprise: Enterprise | None
    member: Member | None
    session: Session | None = None
    api_key: ApiKey | None = None

    def require_enterprise(self) -> tuple[Enterprise, Member | None]:
        if self.enterprise is None:
            raise Forbidden("请先选择要办理业务的企业", "no_enterprise")
        return self.enterprise, self.member

    def require(self, permission: str | None = None) -> Enterprise:
        enterprise, member = self.require_enterprise()
        if member is not None:  # an API key acts with the enterprise's full rights
            member.require(permission)
        return enterprise

    def require_admin(self) -> Enterprise:
        enterprise, member = self.require_enterprise()
        if member is not None:
            member.require_admin()
        return enterprise

    def require_user(self) -> User:
        if self.user is None:
            raise Forbidden("此操作需要以个人身份登录", "user_required")
        return self.user

    def require_platform(self, role: str) -> User:
        """Platform staff acting through the console session (regulator, reviewer)."""
        if (
            self.user is None
            or self.session is None
            or self.session.side != "platform"
            or self.user.platform_role != role
        ):
            raise Forbidden(
                f"仅{PLATFORM_ROLE_LABELS.get(PlatformRole(role), role)}可以进行此操作", "platform_only"
            )
        return self.user


@dataclass
class LoginResult:
    user: User
    memberships: list[tuple[Member, Enterprise]]
    session: Session
    token: str


# --- SMS codes -------------------------------------------------------------------------


def _parse_purpose(purpose: object) -> SmsPurpose:
    try:
        return SmsPurpose(str(purpose))
    except ValueError:
        raise Invalid.field("purpose", "验证码用途不正确") from None


def code_text(purpose: SmsPurpose, code: str) -> str:
    return (
        f"您的{SMS_PURPOSE_LABELS[purpose]}验证码为{code}，5分钟内有效，请勿泄露给他人。"
        "如非本人操作，请忽略本短信。"
    )


async def request_sms_code(
    deps: Deps,
    phone_raw: object,
    purpose_raw: object,
    asker: Asker,
    *,
    captcha_id: object = None,
    captcha_answer: object = None,
) -> tuple[int, int]:
    """Returns (expires_in, resend_after) in seconds. The per-phone rules come first, then
    the asker's budgets (core/services/limits.py); a captcha, when given, is checked and
    used up whether or not it was needed."""
    phone = Phone.parse(phone_raw)
    purpose = _parse_purpose(purpose_raw)
    if captcha_id is not None or captcha_answer is not None:
        await solve_captcha(deps, captcha_id, captcha_answer)
        asker = replace(asker, solved_captcha=True)
    now = deps.clock.now()
    async with deps.uow() as uow:
        last = await uow.accounts.last_sms(phone.value, purpose)
        today = await uow.accounts.sms_sent_since(phone.value, day_start(now))
        SmsCode.check_can_send(today, last.created_at if last else None, now)
        await issue_code(deps, uow, phone.value, purpose, code_text(purpose, "{code}"), now, asker)
        await uow.commit()
    return int(SMS_CODE_TTL.total_seconds()), 60


# What a person is told when a code does not open the door: a typo is a typo (the same code
# can be entered again), only a code that is used up, expired or tried too often is re-sent.
CODE_WRONG = "验证码不正确，请核对后重新输入"
CODE_GONE = "验证码已失效，请重新获取"


async def check_sms_code(
    deps: Deps, phone: str, purpose: str, code: object, not_before: datetime | None = None
) -> str | None:
    """Checks a code in its own transaction so that a wrong try is counted even when the
    caller's request then fails. At most one caller ever gets None (accepted) for a given code;
    the others get the reason in Chinese (CODE_WRONG or CODE_GONE).
    `not_before`: a code sent earlier (for something else) does not count."""
    text = str(code or "").strip()
    now = deps.clock.now()
    async with deps.uow() as uow:
        sms = await uow.accounts.last_sms(phone, purpose)
        if sms is None or not sms.usable(now) or (not_before is not None and sms.created_at < not_before):
            return CODE_GONE
        ok = sms.try_code(deps.secret, text, now)
        if ok:
            ok = await uow.accounts.lock_sms_code(sms)
        await uow.commit()
        if ok:
            return None
        return CODE_WRONG if sms.usable(now) else CODE_GONE


async def consume_sms_code(
    deps: Deps, phone: str, purpose: str, code: object, not_before: datetime | None = None
) -> bool:
    return await check_sms_code(deps, phone, purpose, code, not_before) is None


async def require_sms_code(
    deps: Deps, phone: str, purpose: str, code: object, not_before: datetime | None = None
) -> None:
    """Raises 422 on the code field, saying whether to re-enter or re-send (see check_sms_code)."""
    problem = await check_sms_code(deps, phone, purpose, code, not_before)
    if problem is not None:
        raise Invalid.field("code", problem, code="bad_code")


async def redact_old_codes(deps: Deps, limit: int = 500) -> int:
    """SMS codes past their validity leave the outbox's text (the job): those the outbox
    provider kept for the development inbox, and any a gateway never took."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        messages = await uow.outbox.codes_readable_before(now - SMS_CODE_TTL, limit)
        for message in messages:
            message.redact_code(now)
        await uow.commit()
    return len(messages)


# --- passwords ---------------------------------------------------------------------------


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def password_matches(hashed: str | None, password: str) -> bool:
    if not hashed:
        return False

    def check() -> bool:
        try:
            return _hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


# --- login and sessions ----------------------------------------------------------------------


def _require_agreement(agree: object) -> None:
    if agree is not True:
        raise Invalid.field("agree_terms", AGREEMENT_REQUIRED, code="agreement_required")


def _new_session(
    deps: Deps, user: User, side: str, now: datetime, days: int, ip: str, ua: str
) -> tuple[Session, str]:
    token = secrets.token_urlsafe(32)
    session = Session(
        token_hash=hash_secret(deps.secret, token),
        user_id=user.id,
        side=side,
        csrf=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + timedelta(days=days),
        ip=ip[:64],
        user_agent=ua[:300],
    )
    return session, token


def _record_agreement(uow: UnitOfWork, user: User, now: datetime, ip: str, ua: str) -> None:
    uow.add(
        AgreementAcceptance(
            user_id=user.id,
            agreement="platform_terms",
            version=PLATFORM_AGREEMENT_VERSION,
            accepted_at=now,
            ip=ip[:64],
            user_agent=ua[:300],
        )
    )


async def login(
    deps: Deps,
    *,
    side: object,
    phone: object,
    code: object = None,
    password: object = None,
    agree_terms: object = None,
    ip: str = "",
    user_agent: str = "",
    session_days: int = 7,
) -> LoginResult:
    if side not in SIDES:
        raise Invalid.field("side", "请选择登录端（用人单位、劳动者或平台管理）")
    parsed = Phone.parse(phone)
    _require_agreement(agree_terms)
    if not code and not password:
        raise Invalid.field("code", "请输入验证码或密码")
    now = deps.clock.now()
    if code:
        problem = await check_sms_code(deps, parsed.value, SmsPurpose.LOGIN, code)
        if problem is not None:
            raise Unauthorized(problem, "bad_credentials")
    async with deps.uow() as uow:
        user = await uow.accounts.user_by_phone(parsed.value)
        if not code:
            if user is None:
                raise Unauthorized("手机号或密码错误", "bad_credentials")
            user.check_not_locked(now)
            if not await password_matches(user.password_hash, str(password)):
                user.record_password_failure(now)
                await uow.commit()
                raise Unauthorized("手机号或密码错误", "bad_credentials")
        if side == "platform" and (user is None or not user.platform_role):
            raise Forbidden("该手机号不是平台管理账号", "not_platform_staff")
        if user is None:
            user = User(phone=parsed.value, created_at=now)
            uow.add(user)
        user.record_login()
        memberships = await uow.accounts.memberships(user.id)
        session, token = _new_session(deps, user, str(side), now, session_days, ip, user_agent)
        if side == "employer" and len(memberships) == 1:
            session.enterprise_id = memberships[0][1].id
        uow.add(session)
        _record_agreement(uow, user, now, ip, user_agent)
        await uow.commit()
    return LoginResult(user, memberships, session, token)


async def logout(deps: Deps, session_id: str) -> None:
    async with deps.uow() as uow:
        session = await uow.get(Session, session_id)
        if session is not None:
            session.expires_at = deps.clock.now()
            await uow.commit()


async def resolve_session(deps: Deps, token: str) -> Actor | None:
    """The actor behind a session cookie, re-checking membership on every request so that a
    revoked admin loses access at once, also in sessions already open: what was loaded is
    reused only while no user, member, enterprise or session changed since (the auth epoch,
    read from the database on each request)."""
    if not token or len(token) > 200:
        return None
    token_hash = hash_secret(deps.secret, token)
    epoch = await deps.auth_epoch.current()
    found = await deps.callers.get(("session", token_hash), epoch, lambda: _load_session(deps, token_hash))
    if found is None or not found.session or not found.session.active(deps.clock.now()):
        return None
    return replace(found)


async def _load_session(deps: Deps, token_hash: str) -> Actor | None:
    async with deps.uow() as uow:
        session = await uow.accounts.session_by_token_hash(token_hash)
        if session is None:
            return None
        user = await uow.get(User, session.user_id)
        if user is None:
            return None
        enterprise = member = None
        if session.enterprise_id:
            member = await uow.accounts.member(session.enterprise_id, user.id)
            if member is not None and member.status == MemberStatus.ACTIVE:
                enterprise = await uow.get(Enterprise, session.enterprise_id)
            else:
                member = None
        return Actor(user=user, enterprise=enterprise, member=member, session=session)


async def choose_enterprise(deps: Deps, actor: Actor, enterprise_id: str) -> Actor:
    if actor.session is None or actor.user is None:
        raise Forbidden("API 密钥不能切换企业", "api_key_fixed")
    async with deps.uow() as uow:
        member = await uow.accounts.member(str(enterprise_id), actor.user.id)
        if member is None or member.status != MemberStatus.ACTIVE:
            raise NotFound("企业不存在或您不是该企业成员", "enterprise_not_found")
        session = await uow.get_or_404(Session, actor.session.id)
        session.enterprise_id = member.enterprise_id
        enterprise = await uow.get_or_404(Enterprise, member.enterprise_id)
        await uow.commit()
    return Actor(user=actor.user, enterprise=enterprise, member=member, session=session)


async def set_password(deps: Deps, user: User, password: object, code: object = None) -> None:
    validate_password(password)  # type: ignore[arg-type]
    if user.password_hash:
        # Changing an existing password needs proof of the phone, not just a session.
        if not code:
            raise Invalid.field("code", "修改密码需要短信验证码")
        await require_sms_code(deps, user.phone, SmsPurpose.VERIFY, code)
    hashed = await hash_password(str(password))
    async with deps.uow() as uow:
        stored = await uow.get_or_404(User, user.id)
        stored.password_hash = hashed
        stored.failed_logins = 0
        stored.locked_until = None
        await uow.commit()


# --- enterprises -------------------------------------------------------------------------------


async def create_enterprise(
    deps: Deps,
    *,
    name: object,
    credit_code: object,
    org_type: object,
    admin_name: object,
    admin_phone: object,
    code: object,
    agree_terms: object,
    ip: str = "",
    user_agent: str = "",
    session_days: int = 7,
) -> tuple[Enterprise, LoginResult]:
    errors: dict[str, str] = {}
    values: dict[str, object] = {}
    checks = {
        "name": lambda: validate_enterprise_name(name),
        "credit_code": lambda: CreditCode.parse(credit_code).value,
        "admin_name": lambda: validate_person_name(admin_name, "admin_name"),
        "admin_phone": lambda: Phone.parse(admin_phone, "admin_phone").value,
    }
    for key, check in checks.items():
        try:
            values[key] = check()
        except Invalid as exc:
            errors.update(exc.fields)
    if not isinstance(org_type, str) or org_type not in {t.value for t in OrgType}:
        errors["org_type"] = "请选择组织类型：企业、个体工商户或其他"
    if agree_terms is not True:
        errors["agree_terms"] = AGREEMENT_REQUIRED
    if not code:
        errors["code"] = "请输入短信验证码"
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    phone = str(values["admin_phone"])
    async with deps.uow() as uow:
        if await uow.accounts.enterprise_by_credit_code(str(values["credit_code"])):
            raise WrongState(
                "该统一社会信用代码已注册企业，请直接登录或联系该企业管理员", "credit_code_taken"
            )
    await require_sms_code(deps, phone, SmsPurpose.REGISTER, code)
    now = deps.clock.now()
    async with deps.uow() as uow:
        user = await uow.accounts.user_by_phone(phone)
        if user is None:
            user = User(phone=phone, created_at=now, name=str(values["admin_name"]))
            uow.add(user)
        elif not user.name:
            user.name = str(values["admin_name"])
        enterprise = Enterprise(
            name=str(values["name"]),
            credit_code=str(values["credit_code"]),
            org_type=str(org_type),
            created_at=now,
        )
        uow.add(enterprise)
        await uow.flush()
        member = Member(
            enterprise_id=enterprise.id,
            user_id=user.id,
            name=str(values["admin_name"]),
            role=Role.ADMIN,
            permissions=[p.value for p in Permission],
            created_at=now,
        )
        uow.add(member)
        session, token = _new_session(deps, user, "employer", now, session_days, ip, user_agent)
        session.enterprise_id = enterprise.id
        uow.add(session)
        _record_agreement(uow, user, now, ip, user_agent)
        try:
            await uow.commit()
        except Conflict as exc:  # a concurrent registration of the same code won the race
            raise WrongState("该统一社会信用代码已注册企业", "credit_code_taken") from exc
        memberships = await _memberships(deps, user.id)
    return enterprise, LoginResult(user, memberships, session, token)


async def _memberships(deps: Deps, user_id: str) -> list[tuple[Member, Enterprise]]:
    async with deps.uow() as uow:
        return await uow.accounts.memberships(user_id)


async def memberships(deps: Deps, user_id: str) -> list[tuple[Member, Enterprise]]:
    """The caller's enterprises, remembered like the caller (see `resolve_session`)."""
    epoch = await deps.auth_epoch.current()
    return list(await deps.callers.get(("memberships", user_id), epoch, lambda: _memberships(deps, user_id)))


# --- members ----------------------------------------------------------------------------------


def _parse_permissions(raw: object) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise Invalid.field("permissions", "权限格式不正确")
    allowed = {p.value for p in Permission}
    bad = [p for p in raw if not isinstance(p, str) or p not in allowed]
    if bad:
        raise Invalid.field("permissions", f"未知的权限：{', '.join(map(str, bad))}")
    return sorted(set(map(str, raw)))


async def list_members(
    deps: Deps, actor: Actor, page: int, per_page: int
) -> tuple[list[tuple[Member, User]], int]:
    enterprise = actor.require()
    async with deps.uow() as uow:
        items, total = await uow.accounts.members_of(enterprise.id, (page - 1) * per_page, per_page)
        users = await uow.accounts.users_by_ids([m.user_id for m in items])
    return [(m, users[m.user_id]) for m in items], total


async def add_member(
    deps: Deps, actor: Actor, name: object, phone: object, permissions: object
) -> tuple[Member, User]:
    enterprise = actor.require_admin()
    errors: dict[str, str] = {}
    parsed_name = parsed_phone = None
    perms: list[str] = []
    for fn in (
        lambda: validate_person_name(name),
        lambda: Phone.parse(phone),
        lambda: _parse_permissions(permissions),
    ):
        try:
            result = fn()
        except Invalid as exc:
            errors.update(exc.fields)
            continue
        if isinstance(result, Phone):
            parsed_phone = result
        elif isinstance(result, list):
            perms = result
        else:
            parsed_name = result
    if errors or parsed_name is None or parsed_phone is None:
        raise Invalid(next(iter(errors.values()), "提交的信息有误"), errors)
    now = deps.clock.now()
    async with deps.uow() as uow:
        user = await uow.accounts.user_by_phone(parsed_phone.value)
        if user is None:
            user = User(phone=parsed_phone.value, created_at=now, name=parsed_name)
            uow.add(user)
            await uow.flush()
        member = await uow.accounts.member(enterprise.id, user.id)
        if member is not None:
            member.rejoin(parsed_name, perms)
        else:
            member = Member(
                enterprise_id=enterprise.id,
                user_id=user.id,
                name=parsed_name,
                role=Role.MEMBER,
                permissions=perms,
                created_at=now,
            )
            uow.add(member)
        await uow.commit()
    return member, user


async def member_last_logins(deps: Deps, actor: Actor, user_ids: list[str]) -> dict[str, datetime]:
    enterprise = actor.require()
    async with deps.uow() as uow:
        return await uow.accounts.last_logins(enterprise.id, user_ids)


async def _member_of(uow: UnitOfWork, enterprise: Enterprise, member_id: str) -> Member:
    member = await uow.get(Member, str(member_id))
    if member is None or member.enterprise_id != enterprise.id or member.status == MemberStatus.REMOVED:
        raise NotFound("成员不存在", "member_not_found")
    return member


async def update_member(
    deps: Deps, actor: Actor, member_id: str, permissions: object, role: object = None
) -> tuple[Member, User]:
    enterprise = actor.require_admin()
    perms = _parse_permissions(permissions)
    if role is not None and (not isinstance(role, str) or role not in {r.value for r in Role}):
        raise Invalid.field("role", "角色应为管理员（admin）或成员（member）")
    async with deps.uow() as uow:
        await uow.accounts.lock_members_of(enterprise.id)
        member = await _member_of(uow, enterprise, member_id)
        member.change(perms, str(role) if role else None, await uow.accounts.active_admins(enterprise.id))
        user = await uow.get_or_404(User, member.user_id)
        record_enterprise_event(
            deps,
            uow,
            actor,
            "member_updated",
            member_id=member.id,
            role=member.role,
            permissions=member.permissions,
        )
        await uow.commit()
    return member, user


async def remove_member(deps: Deps, actor: Actor, member_id: str) -> None:
    """Removal takes effect at once, on every host: the member row says removed (every request
    re-reads it), the person's open sessions stop acting for the enterprise, and their WeCom
    binding ends unless they still serve another enterprise."""
    enterprise = actor.require_admin()
    async with deps.uow() as uow:
        await uow.accounts.lock_members_of(enterprise.id)
        member = await _member_of(uow, enterprise, member_id)
        member.remove(await uow.accounts.active_admins(enterprise.id))
        await end_member_access(uow, member, deps.hr_only_channels)
        record_enterprise_event(deps, uow, actor, "member_removed", member_id=member.id, name=member.name)
        await uow.commit()


async def end_member_access(uow: UnitOfWork, member: Member, hr_only_channels: tuple[str, ...]) -> None:
    """Ends, in the caller's transaction, what let a former member act for the enterprise.
    `hr_only_channels` (the channel registry's HR-only channels): their bindings end; a binding
    on a channel workers use too may be the person's worker binding, so it stays, and card
    presses and HR notices re-check the membership instead (bots/hr.py)."""
    await uow.accounts.leave_enterprise(member.user_id, member.enterprise_id)
    if await uow.accounts.memberships(member.user_id):
        return  # still HR elsewhere: the chat binding serves that enterprise too
    for identity in await uow.chat.identities_of([member.user_id], list(hr_only_channels)):
        identity.unbind()


async def transfer_admin(deps: Deps, actor: Actor, member_id: str) -> Member:
    enterprise = actor.require_admin()
    if actor.member is None:
        raise Forbidden("管理员转授须由管理员本人登录操作", "admin_only")
    async with deps.uow() as uow:
        successor = await uow.get(Member, str(member_id))
        if successor is None or successor.enterprise_id != enterprise.id:
            raise NotFound("成员不存在", "member_not_found")
        current = await uow.get_or_404(Member, actor.member.id)
        current.transfer_admin_to(successor)
        await uow.commit()
    return successor


# --- the enterprise audit log ------------------------------------------------------------------


def record_enterprise_event(
    deps: Deps, uow: UnitOfWork, actor: Actor, kind: str, *, ip: str = "", **details: object
) -> EnterpriseEvent:
    enterprise = actor.require()
    if actor.member is not None:
        who_id, who = actor.member.user_id, actor.member.name
    elif actor.api_key is not None:
        who_id, who = actor.api_key.created_by, f"API 密钥 {actor.api_key.name}"
    else:
        who_id, who = None, ""
    event = EnterpriseEvent(
        enterprise_id=enterprise.id, kind=kind, at=deps.clock.now(), actor_id=who_id, actor_name=who[:50],
        ip=ip[:64], details=dict(details),
    )  # fmt: skip
    uow.add(event)
    return event


async def enterprise_events(
    deps: Deps, actor: Actor, page: int, per_page: int
) -> tuple[list[EnterpriseEvent], int]:
    enterprise = actor.require_admin()
    async with deps.uow() as uow:
        return await uow.accounts.enterprise_events(enterprise.id, (page - 1) * per_page, per_page)


# --- API keys -----------------------------------------------------------------------------------

API_KEY_PREFIX = "lsk"


async def create_api_key(deps: Deps, actor: Actor, name: object) -> tuple[ApiKey, str]:
    enterprise = actor.require_admin()
    user = actor.require_user()
    label = str(name or "").strip() or "集成密钥"
    if len(label) > 50:
        raise Invalid.field("name", "名称不能超过50个字符")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        enterprise_id=enterprise.id,
        name=label,
        prefix=prefix,
        secret_hash=hash_secret(deps.secret, secret),
        created_by=user.id,
        created_at=deps.clock.now(),
    )
    async with deps.uow() as uow:
        uow.add(key)
        await uow.commit()
    return key, f"{API_KEY_PREFIX}_{prefix}_{secret}"


async def list_api_keys(deps: Deps, actor: Actor) -> list[ApiKey]:
    enterprise = actor.require_admin()
    async with deps.uow() as uow:
        return await uow.accounts.api_keys_of(enterprise.id)


async def revoke_api_key(deps: Deps, actor: Actor, key_id: str) -> None:
    enterprise = actor.require_admin()
    async with deps.uow() as uow:
        key = await uow.get(ApiKey, key_id)
        if key is None or key.enterprise_id != enterprise.id:
            raise NotFound("密钥不存在", "api_key_not_found")
        if key.revoked_at is None:
            key.revoked_at = deps.clock.now()
        await uow.commit()


async def resolve_api_key(deps: Deps, raw: str) -> Actor | None:
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    async with deps.uow() as uow:
        key = await uow.accounts.api_key_by_prefix(parts[1])
        if key is None or key.revoked_at is not None:
            return None
        if not hmac.compare_digest(key.secret_hash, hash_secret(deps.secret, parts[2])):
            return None
        enterprise = await uow.get(Enterprise, key.enterprise_id)
        return Actor(user=None, enterprise=enterprise, member=None, api_key=key)


async def create_platform_staff(
    deps: Deps, phone: object, name: object, role: object, password: object = None
) -> User:
    """For the CLI: make a person a regulator or reviewer (created if new)."""
    parsed = Phone.parse(phone)
    person = validate_person_name(name)
    try:
        staff_role = PlatformRole(str(role))
    except ValueError:
        raise Invalid.field("role", "角色应为 regulator 或 reviewer") from None
    hashed = await hash_password(validate_password(password)) if password else None  # type: ignore[arg-type]
    now = deps.clock.now()
    async with deps.uow() as uow:
        user = await uow.accounts.user_by_phone(parsed.value)
        if user is None:
            user = User(phone=parsed.value, created_at=now, name=person)
            uow.add(user)
        user.name = user.name or person
        user.platform_role = staff_role
        if hashed:
            user.password_hash = hashed
        await uow.commit()
    return user
