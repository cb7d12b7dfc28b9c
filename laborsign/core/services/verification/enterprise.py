"""An enterprise's verification: confirm the information, then one organisation check (start, confirm), and its letter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ...accounts import (
    Enterprise,
    SmsPurpose,
    User,
    validate_person_name,
)
from ...errors import Forbidden, Invalid, NotFound, TooLarge, UnsupportedType, WrongState
from ...identity_rules import (
    IdDocument,
    IdType,
    parse_id_document,
)
from ...ports import UnitOfWork
from ...values import Phone, mask_middle
from ...verification import (
    ENTERPRISE_CAPABILITY,
    ENTERPRISE_METHOD_LABELS,
    AttemptStatus,
    EnterpriseMethod,
    EnterpriseStatus,
    EnterpriseVerification,
    enterprise_status_after,
    method_disabled,
    parse_amount,
    parse_corporate_account,
    random_payment_amount,
)
from ..accounts import Actor, consume_sms_code
from ..limits import spend_now
from ._common import (
    ACCOUNT_CTX,
    AMOUNT_CTX,
    LETTER_MAX_BYTES,
    LETTER_TYPES,
    REP_ID_CTX,
    VerificationDeps,
    _add_code,
    _check_code_allowed,
    _collect,
    _raise_if,
    _text,
)


@dataclass
class EnterpriseState:
    enterprise: Enterprise
    attempt: EnterpriseVerification | None
    operator_verified: bool


def _operator(actor: Actor) -> tuple[Enterprise, User]:
    enterprise = actor.require(None)
    if actor.user is None:
        raise Forbidden("企业实名认证需要办理人登录后操作", "user_required")
    return enterprise, actor.user


async def enterprise_state(deps: VerificationDeps, actor: Actor) -> EnterpriseState:
    enterprise = actor.require(None)
    async with deps.uow() as uow:
        stored = await uow.get_or_404(Enterprise, enterprise.id)
        attempt = await uow.verification.latest_enterprise(enterprise.id)
        user = await uow.get(User, actor.user.id) if actor.user else None
        return EnterpriseState(stored, attempt, bool(user and user.verified))


async def _sync_enterprise(uow: UnitOfWork, attempt: EnterpriseVerification) -> Enterprise:
    enterprise = await uow.get_or_404(Enterprise, attempt.enterprise_id)
    enterprise.verification_status = enterprise_status_after(attempt)
    return enterprise


async def confirm_enterprise_info(deps: VerificationDeps, actor: Actor) -> EnterpriseVerification:
    """Step 1 「确认无误，开始认证」."""
    enterprise, user = _operator(actor)
    now = deps.clock.now()
    async with deps.uow() as uow:
        stored = await uow.get_or_404(Enterprise, enterprise.id)
        if stored.verification_status == EnterpriseStatus.VERIFIED:
            raise WrongState("企业已完成实名认证", "already_verified")
        attempt = await uow.verification.latest_enterprise(enterprise.id)
        if attempt is None or attempt.status != AttemptStatus.DRAFT:
            attempt = EnterpriseVerification(
                enterprise_id=enterprise.id, created_at=now, info_confirmed_by=user.id
            )
            uow.add(attempt)
        await uow.commit()
    return attempt


def _parse_enterprise_method(raw: object) -> EnterpriseMethod:
    try:
        return EnterpriseMethod(str(raw or ""))
    except ValueError:
        raise Invalid.field(
            "method", "请选择认证方式：法定代表人、对公打款、授权书或企业支付宝", code="bad_method"
        ) from None


def _letter_type(data: bytes) -> str:
    for magic, kind in LETTER_TYPES.items():
        if data.startswith(magic):
            return kind
    raise UnsupportedType("授权书请上传PDF、PNG或JPG文件", "unsupported_type")


@dataclass(frozen=True)
class _Step:
    """What a method's first step reads and fills in; it returns the phone to text a code to."""

    deps: VerificationDeps
    attempt: EnterpriseVerification
    stored: Enterprise
    user_id: str
    data: dict[str, Any]
    letter: tuple[str, bytes] | None
    now: datetime


async def _legal_rep(s: _Step) -> str | None:
    """Check the legal representative with the provider; on a match, text them a code."""
    today = s.now.date()
    values, errors = _collect(
        {
            "legal_rep_name": lambda: validate_person_name(s.data.get("legal_rep_name"), "legal_rep_name"),
            "legal_rep_id_number": lambda: parse_id_document(
                s.data.get("legal_rep_id_type") or IdType.RESIDENT_ID,
                s.data.get("legal_rep_id_number"),
                today,
                "legal_rep_id_number",
            ),
            "legal_rep_phone": lambda: Phone.parse(s.data.get("legal_rep_phone"), "legal_rep_phone"),
        }
    )
    if "legal_rep_phone" in values and values["legal_rep_phone"].is_virtual:
        errors["legal_rep_phone"] = "虚拟运营商号段不支持核验，请填写法定代表人的实名手机号"
    _raise_if(errors)
    doc: IdDocument = values["legal_rep_id_number"]
    rep_phone: Phone = values["legal_rep_phone"]
    s.attempt.legal_rep_name = values["legal_rep_name"]
    s.attempt.legal_rep_id_enc = s.deps.cipher.encrypt(doc.number, REP_ID_CTX)
    s.attempt.legal_rep_id_index = s.deps.cipher.blind_index(f"{doc.id_type}:{doc.number}", "id_number")
    s.attempt.legal_rep_id_masked = doc.masked
    s.attempt.legal_rep_phone = rep_phone.value
    async with s.deps.uow() as uow:
        await _check_code_allowed(uow, rep_phone.value, s.now)
    await spend_now(s.deps, s.deps.limits.verifications_per_user, s.user_id)  # each check costs a fee
    result = await s.deps.identity.legal_rep(
        s.stored.name, s.stored.credit_code, values["legal_rep_name"], doc.number, rep_phone.value
    )
    s.attempt.provider = result.provider or s.attempt.provider
    s.attempt.provider_ref = result.ref or None
    if result.passed:
        return rep_phone.value
    s.attempt.fail(result.reason or "法定代表人信息核验不一致", s.now)
    return None


async def _corporate_payment(s: _Step) -> str | None:
    """Pay a random small amount into the corporate account; the operator confirms it."""
    values, errors = _collect(
        {
            "bank_name": lambda: _text(s.data.get("bank_name"), "bank_name", "请输入开户银行", 60),
            "bank_account": lambda: parse_corporate_account(s.data.get("bank_account")),
            "account_name": lambda: _text(s.data.get("account_name"), "account_name", "请输入账户名称", 100),
        }
    )
    if values.get("account_name") and values["account_name"] != s.stored.name:
        errors["account_name"] = "对公账户户名须与企业名称一致"
    _raise_if(errors)
    amount = random_payment_amount()
    s.attempt.bank_name = values["bank_name"]
    s.attempt.bank_account_enc = s.deps.cipher.encrypt(values["bank_account"], ACCOUNT_CTX)
    s.attempt.bank_account_masked = mask_middle(values["bank_account"], 4, 4)
    s.attempt.account_name = values["account_name"]
    await spend_now(s.deps, s.deps.limits.verifications_per_user, s.user_id)  # real money is paid out
    result = await s.deps.identity.corporate_payment(
        s.stored.name, values["bank_name"], values["bank_account"], values["account_name"], amount
    )
    s.attempt.provider = result.provider or s.attempt.provider
    s.attempt.provider_ref = result.ref or None
    if not result.later:  # paid now; a manual payment's amount is recorded by the reviewer
        s.attempt.amount_enc = s.deps.cipher.encrypt(str(amount), AMOUNT_CTX)
        s.attempt.paid_at = s.now
    if not result.passed:
        s.attempt.fail(result.reason or "打款失败，请核对对公账户信息", s.now)
    return None


async def _authorization_letter(s: _Step) -> str | None:
    """Store the stamped letter for a reviewer; nothing is asked of a provider."""
    if s.letter is None or not s.letter[1]:
        raise Invalid.field("file", "请上传加盖企业公章的授权书（PDF或图片）")
    if len(s.letter[1]) > LETTER_MAX_BYTES:
        raise TooLarge("授权书文件不能超过10MB")
    s.attempt.letter_type = _letter_type(s.letter[1])
    s.attempt.letter_filename = (s.letter[0] or "授权书")[-100:]
    s.attempt.letter_blob = await s.deps.blobs.put(s.letter[1])
    return None


async def _alipay(s: _Step) -> str | None:
    """Send the operator to the Alipay enterprise authorisation page."""
    await spend_now(s.deps, s.deps.limits.verifications_per_user, s.user_id)
    start = await s.deps.identity.alipay_start(
        s.attempt.id, s.stored.name, s.stored.credit_code, "/dashboard/verification"
    )
    s.attempt.provider = start.provider or s.attempt.provider
    s.attempt.provider_ref = start.ref
    s.attempt.redirect_url = start.url
    return None


# One first step per method: adding a method adds one function and one row.
_METHODS: dict[EnterpriseMethod, Callable[[_Step], Awaitable[str | None]]] = {
    EnterpriseMethod.LEGAL_REP: _legal_rep,
    EnterpriseMethod.CORPORATE_PAYMENT: _corporate_payment,
    EnterpriseMethod.AUTHORIZATION_LETTER: _authorization_letter,
    EnterpriseMethod.ALIPAY: _alipay,
}


async def start_enterprise(
    deps: VerificationDeps,
    actor: Actor,
    method: object,
    data: dict[str, Any],
    letter: tuple[str, bytes] | None = None,
) -> EnterpriseVerification:
    enterprise, user = _operator(actor)
    kind = _parse_enterprise_method(method)
    capability = ENTERPRISE_CAPABILITY.get(kind)
    if capability is not None and not deps.identity.offers(capability):
        raise method_disabled(ENTERPRISE_METHOD_LABELS[kind])
    now = deps.clock.now()
    # The order of the steps: verified already → operator personally verified → inputs.
    async with deps.uow() as uow:
        stored = await uow.get_or_404(Enterprise, enterprise.id)
        if stored.verification_status == EnterpriseStatus.VERIFIED:
            raise WrongState("企业已完成实名认证，无需重复认证", "already_verified")
        operator = await uow.get_or_404(User, user.id)
        if not operator.verified:
            raise WrongState("办理人需先完成个人实名认证，才能进行企业组织机构核验", "operator_not_verified")
    attempt = EnterpriseVerification(enterprise_id=enterprise.id, created_at=now, info_confirmed_by=user.id)
    attempt.choose(kind, user.id, now)
    attempt.provider = deps.identity.plays(capability) if capability is not None else "platform"
    step = _Step(deps, attempt, stored, user.id, data, letter, now)
    code_phone = await _METHODS[kind](step)
    async with deps.uow() as uow:
        previous = await uow.verification.latest_enterprise(enterprise.id)
        if previous is not None and previous.status == AttemptStatus.VERIFIED:
            raise WrongState("企业已完成实名认证，无需重复认证", "already_verified")
        uow.add(attempt)
        if code_phone:
            await _add_code(
                deps,
                uow,
                user.id,
                code_phone,
                f"【{stored.name}】正在进行企业实名认证（法定代表人认证），验证码为{{code}}，5分钟内有效。"
                "如非本人授权，请勿提供。",
                now,
            )
        await uow.flush()
        await _sync_enterprise(uow, attempt)
        await uow.commit()
    return attempt


async def confirm_enterprise(
    deps: VerificationDeps, actor: Actor, *, amount: object = None, code: object = None
) -> tuple[EnterpriseVerification, int | None]:
    """Returns the attempt and, after a wrong amount or code, the tries left."""
    enterprise, _user = _operator(actor)
    now = deps.clock.now()
    async with deps.uow() as uow:
        attempt = await uow.verification.latest_enterprise(enterprise.id)
        if attempt is None:
            raise WrongState("请先发起企业实名认证", "no_pending_verification")
        attempt.require_pending()
        method = EnterpriseMethod(attempt.method or "")
        if method == EnterpriseMethod.CORPORATE_PAYMENT:
            attempt.require_paid()
            typed = parse_amount(amount)
            expected = Decimal(deps.cipher.decrypt(attempt.amount_enc or "", AMOUNT_CTX))
            if typed == expected:
                attempt.verify(now)
                left = None
            else:
                left = attempt.wrong_amount(now)
            await _sync_enterprise(uow, attempt)
            await uow.commit()
            return attempt, left
        if method != EnterpriseMethod.LEGAL_REP:
            raise WrongState(
                f"{ENTERPRISE_METHOD_LABELS[method]}无需填写金额或验证码，请等待结果", "wrong_method"
            )
        if not str(code or "").strip():
            raise Invalid.field("code", "请输入法定代表人收到的短信验证码")
    assert attempt.legal_rep_phone is not None
    ok = await consume_sms_code(deps, attempt.legal_rep_phone, SmsPurpose.VERIFY, code)
    async with deps.uow() as uow:
        attempt = await uow.get_or_404(EnterpriseVerification, attempt.id)
        attempt.require_pending(EnterpriseMethod.LEGAL_REP)
        left = None
        if ok:
            attempt.verify(now)
        else:
            left = attempt.wrong_code(now)
        await _sync_enterprise(uow, attempt)
        await uow.commit()
    return attempt, left


async def letter_file(deps: VerificationDeps, attempt: EnterpriseVerification) -> tuple[bytes, str, str]:
    if not attempt.letter_blob:
        raise NotFound("没有上传授权书", "letter_not_found")
    return await deps.blobs.get(attempt.letter_blob), attempt.letter_type or "", attempt.letter_filename or ""


async def current_letter(deps: VerificationDeps, actor: Actor) -> tuple[bytes, str, str]:
    state = await enterprise_state(deps, actor)
    if state.attempt is None:
        raise NotFound("没有上传授权书", "letter_not_found")
    return await letter_file(deps, state.attempt)


# --- the platform reviewer ------------------------------------------------------------------------
