"""Real-name verification use cases: people (carrier3, bankcard4, face) and enterprises
(confirm information → operator verified → one organisation check).

Format rules are checked first, then the provider is asked outside any transaction, then the
outcome, the SMS it causes and the user's verified flag are written in one transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from .. import outbox
from ..accounts import (
    AgreementAcceptance,
    Enterprise,
    SmsCode,
    SmsPurpose,
    User,
    day_start,
    validate_person_name,
)
from ..errors import Forbidden, Invalid, NotFound, TooLarge, UnsupportedType, WrongState
from ..identity_rules import (
    ID_TYPE_LABELS,
    IdDocument,
    IdType,
    mask_bank_card,
    parse_bank_card,
    parse_id_document,
)
from ..ports import Deps, UnitOfWork
from ..values import Phone, mask_middle
from ..verification import (
    CONSENT_AGREEMENT,
    CONSENT_REQUIRED,
    CONSENT_VERSION,
    ENTERPRISE_CAPABILITY,
    ENTERPRISE_METHOD_LABELS,
    PERSON_CAPABILITY,
    PERSON_METHOD_LABELS,
    AttemptStatus,
    EnterpriseMethod,
    EnterpriseStatus,
    EnterpriseVerification,
    IdentityProvider,
    PersonIdentity,
    PersonMethod,
    PersonStatus,
    PersonVerification,
    RedirectResult,
    check_bankcard_limits,
    check_method_fits,
    enterprise_status_after,
    method_disabled,
    parse_amount,
    parse_corporate_account,
    random_payment_amount,
)
from .accounts import Actor, consume_sms_code, require_sms_code
from .limits import Asker, issue_code, spend_now

ID_CTX = "person_verifications.id_number"
CARD_CTX = "person_verifications.bank_card"
PHONE_CTX = "person_verifications.phone"
FACE_CTX = "person_verifications.face_result"
IDENTITY_CTX = "person_identities.id_number"
REP_ID_CTX = "enterprise_verifications.legal_rep_id"
ACCOUNT_CTX = "enterprise_verifications.bank_account"
AMOUNT_CTX = "enterprise_verifications.amount"
LETTER_TYPES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
LETTER_MAX_BYTES = 10 * 1024 * 1024


class VerificationDeps(Deps, Protocol):
    @property
    def identity(self) -> IdentityProvider: ...


# --- people -----------------------------------------------------------------------------------------


def _collect(checks: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, check in checks.items():
        try:
            values[key] = check()
        except Invalid as exc:
            errors.update(exc.fields or {key: exc.message})
    return values, errors


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise Invalid(next(iter(errors.values())), errors)


def _parse_person_method(raw: object) -> PersonMethod:
    try:
        return PersonMethod(str(raw or ""))
    except ValueError:
        raise Invalid.field(
            "method", "请选择认证方式：手机认证、银行卡认证或人脸识别", code="bad_method"
        ) from None


@dataclass
class PersonInput:
    method: PersonMethod
    name: str
    doc: IdDocument
    phone: Phone | None
    card: str | None


def validate_person_input(
    deps: Deps,
    *,
    method: object,
    consent: object,
    name: object,
    id_type: object,
    id_number: object,
    phone: object = None,
    bank_card: object = None,
) -> PersonInput:
    kind = _parse_person_method(method)
    today = deps.clock.now().date()
    checks: dict[str, Any] = {
        "name": lambda: validate_person_name(name),
        "id_number": lambda: parse_id_document(id_type, id_number, today),
    }
    if kind in (PersonMethod.CARRIER3, PersonMethod.BANKCARD4):
        checks["phone"] = lambda: Phone.parse(phone)
    if kind == PersonMethod.BANKCARD4:
        checks["bank_card"] = lambda: parse_bank_card(bank_card)
    values, errors = _collect(checks)
    if "id_type" in errors and "id_number" in errors:
        errors.pop("id_number")  # one message: the type is what is wrong
    if consent is not True:
        errors["consent"] = CONSENT_REQUIRED
    if not errors:
        try:
            check_method_fits(kind, values["id_number"], values.get("phone"))
        except Invalid as exc:
            errors.update(exc.fields)
    _raise_if(errors)
    return PersonInput(
        kind, values["name"], values["id_number"], values.get("phone"), values.get("bank_card")
    )


async def _check_not_verified(uow: UnitOfWork, user_id: str) -> User:
    user = await uow.get_or_404(User, user_id, "用户不存在")
    if user.verified:
        raise WrongState("您已完成实名认证，无需重复认证", "already_verified")
    return user


def _record_consent(uow: UnitOfWork, user: User, now: datetime, ip: str, ua: str) -> None:
    uow.add(
        AgreementAcceptance(
            user_id=user.id,
            agreement=CONSENT_AGREEMENT,
            version=CONSENT_VERSION,
            accepted_at=now,
            ip=ip[:64],
            user_agent=ua[:300],
        )
    )


def _new_person(
    deps: Deps, user: User, data: PersonInput, now: datetime, provider: str
) -> PersonVerification:
    cipher = deps.cipher
    number = data.doc.number
    v = PersonVerification(
        user_id=user.id,
        method=data.method,
        name=data.name,
        id_type=data.doc.id_type,
        id_number_enc=cipher.encrypt(number, ID_CTX),
        id_number_index=cipher.blind_index(f"{data.doc.id_type}:{number}", "id_number"),
        id_number_masked=data.doc.masked,
        consent_version=CONSENT_VERSION,
        consent_at=now,
        created_at=now,
        provider=provider,
    )
    if data.method == PersonMethod.CARRIER3 and data.phone:
        v.phone = data.phone.value
    if data.method == PersonMethod.BANKCARD4 and data.card and data.phone:
        v.bank_card_enc = cipher.encrypt(data.card, CARD_CTX)
        v.bank_card_masked = mask_bank_card(data.card)
        v.phone_enc = cipher.encrypt(data.phone.value, PHONE_CTX)
    return v


async def _add_code(deps: Deps, uow: UnitOfWork, user_id: str, phone: str, text: str, now: datetime) -> None:
    await issue_code(deps, uow, phone, SmsPurpose.VERIFY, text, now, Asker(person=user_id))


async def _check_code_allowed(uow: UnitOfWork, phone: str, now: datetime) -> None:
    last = await uow.accounts.last_sms(phone, SmsPurpose.VERIFY)
    today = await uow.accounts.sms_sent_since(phone, day_start(now))
    SmsCode.check_can_send(today, last.created_at if last else None, now)


async def start_person(
    deps: VerificationDeps,
    user_id: str,
    *,
    method: object,
    consent: object,
    name: object,
    id_type: object,
    id_number: object,
    phone: object = None,
    bank_card: object = None,
    ip: str = "",
    user_agent: str = "",
) -> PersonVerification:
    data = validate_person_input(
        deps,
        method=method,
        consent=consent,
        name=name,
        id_type=id_type,
        id_number=id_number,
        phone=phone,
        bank_card=bank_card,
    )
    provider = deps.identity
    if not provider.offers(PERSON_CAPABILITY[data.method]):
        raise method_disabled(PERSON_METHOD_LABELS[data.method])
    now = deps.clock.now()
    await spend_now(deps, deps.limits.verifications_per_user, user_id)  # each check costs a fee
    if data.method == PersonMethod.BANKCARD4:
        return await _start_bankcard(deps, user_id, data, now, ip, user_agent)
    async with deps.uow() as uow:
        user = await _check_not_verified(uow, user_id)
        if data.method == PersonMethod.CARRIER3 and data.phone:
            await _check_code_allowed(uow, data.phone.value, now)
    v = _new_person(deps, user, data, now, provider.plays(PERSON_CAPABILITY[data.method]))
    number = data.doc.number
    if data.method == PersonMethod.CARRIER3:
        assert data.phone is not None
        result = await provider.carrier3(data.name, number, data.phone.value)
        v.provider = result.provider or v.provider  # who actually checked, for disputes
        v.provider_ref = result.ref or None
        if result.passed:
            v.code_sent()
        else:
            v.fail(result.reason or "姓名、身份证号与手机号不一致", now)
    else:
        start = await provider.face_start(v.id, data.name, number, f"/h5/verify?vid={v.id}")
        v.provider = start.provider or v.provider
        v.redirected(start.url, start.ref)
    async with deps.uow() as uow:
        user = await _check_not_verified(uow, user_id)
        _record_consent(uow, user, now, ip, user_agent)
        uow.add(v)
        await uow.flush()  # the identity row refers to this one
        if v.status == PersonStatus.CODE_SENT and v.phone:
            await _add_code(
                deps,
                uow,
                user_id,
                v.phone,
                "您正在进行实名认证（手机认证），验证码为{code}，5分钟内有效，请勿泄露给他人。",
                now,
            )
        if v.status == PersonStatus.VERIFIED:
            await _apply_verified(deps, uow, v, now)
        await uow.commit()
    return v


async def _start_bankcard(
    deps: VerificationDeps, user_id: str, data: PersonInput, now: datetime, ip: str, user_agent: str
) -> PersonVerification:
    """The attempt is recorded (and counted) before the provider is asked, under a lock on the
    user, so concurrent requests cannot slip past the UnionPay limits."""
    assert data.phone is not None and data.card is not None
    async with deps.uow() as uow:
        await uow.verification.lock_user(user_id)
        user = await _check_not_verified(uow, user_id)
        index = deps.cipher.blind_index(f"{data.doc.id_type}:{data.doc.number}", "id_number")
        recent = await uow.verification.bankcard_attempts_since(user.id, index, day_start(now))
        check_bankcard_limits(recent, now)
        v = _new_person(deps, user, data, now, deps.identity.plays(PERSON_CAPABILITY[data.method]))
        _record_consent(uow, user, now, ip, user_agent)
        uow.add(v)
        await uow.commit()
    try:
        result = await deps.identity.bankcard4(
            data.name, data.doc.id_type, data.doc.number, data.card, data.phone.value
        )
    except Exception:
        async with deps.uow() as uow:  # the check never happened: it does not count
            stored = await uow.get(PersonVerification, v.id)
            if stored is not None:
                await uow.delete(stored)
                await uow.commit()
        raise
    async with deps.uow() as uow:
        v = await uow.get_or_404(PersonVerification, v.id)
        v.provider = result.provider or v.provider
        v.provider_ref = result.ref or None
        if result.passed:
            v.verify(now)
            await _apply_verified(deps, uow, v, now)
        else:
            v.fail(result.reason or "银行卡信息核验不一致", now)
        await uow.commit()
    return v


async def confirm_person(
    deps: VerificationDeps, user_id: str, verification_id: str, code: object
) -> PersonVerification:
    async with deps.uow() as uow:
        v = await _own_person(uow, user_id, verification_id)
        v.require_awaiting_code()
        if not str(code or "").strip():
            raise Invalid.field("code", "请输入短信验证码")
    assert v.phone is not None
    await require_sms_code(deps, v.phone, SmsPurpose.VERIFY, code)
    now = deps.clock.now()
    async with deps.uow() as uow:
        v = await _own_person(uow, user_id, verification_id)
        v.verify(now)
        await _apply_verified(deps, uow, v, now)
        await uow.commit()
    return v


async def resend_person_code(
    deps: VerificationDeps, user_id: str, verification_id: str
) -> PersonVerification:
    now = deps.clock.now()
    async with deps.uow() as uow:
        v = await _own_person(uow, user_id, verification_id)
        v.require_awaiting_code()
        assert v.phone is not None
        await _check_code_allowed(uow, v.phone, now)
        await _add_code(
            deps, uow, user_id, v.phone, "您正在进行实名认证（手机认证），验证码为{code}，5分钟内有效。", now
        )
        await uow.commit()
    return v


async def _own_person(uow: UnitOfWork, user_id: str, verification_id: str) -> PersonVerification:
    v = await uow.get(PersonVerification, str(verification_id))
    if v is None or v.user_id != user_id:
        raise NotFound("认证记录不存在", "verification_not_found")
    return v


async def get_person(deps: VerificationDeps, user_id: str, verification_id: str) -> PersonVerification:
    now = deps.clock.now()
    async with deps.uow() as uow:
        v = await _own_person(uow, user_id, verification_id)
        if v.expired(now):
            v.fail("人脸识别已超时，请重新发起", now)
            await uow.commit()
        return v


@dataclass
class PersonState:
    user: User
    identity: PersonIdentity | None
    latest: PersonVerification | None


async def person_state(deps: VerificationDeps, user_id: str) -> PersonState:
    async with deps.uow() as uow:
        user = await uow.get_or_404(User, user_id)
        identity = await uow.verification.identity_of(user_id)
        latest = await uow.verification.latest_person(user_id)
        return PersonState(user, identity, latest)


async def _apply_verified(deps: Deps, uow: UnitOfWork, v: PersonVerification, now: datetime) -> None:
    """Verified once, valid everywhere: the user's flag, name and encrypted identity."""
    user = await uow.get_or_404(User, v.user_id)
    user.verified = True
    user.name = v.name
    number = deps.cipher.decrypt(v.id_number_enc, ID_CTX)
    identity = await uow.verification.identity_of(user.id)
    if identity is None:
        identity = PersonIdentity(
            user_id=user.id,
            name=v.name,
            id_type=v.id_type,
            id_number_enc="",
            id_number_index=v.id_number_index,
            id_number_masked=v.id_number_masked,
            method=v.method,
            verification_id=v.id,
            verified_at=now,
        )
        uow.add(identity)
    identity.name = v.name
    identity.id_type = v.id_type
    identity.id_number_enc = deps.cipher.encrypt(number, IDENTITY_CTX)
    identity.id_number_index = v.id_number_index
    identity.id_number_masked = v.id_number_masked
    identity.method = v.method
    identity.verification_id = v.id
    identity.verified_at = now


@dataclass(frozen=True)
class VerifiedPerson:
    """For other areas (onboarding, signing): the verified identity, decrypted."""

    user_id: str
    name: str
    id_type: str
    id_number: str
    id_number_masked: str
    verified_at: datetime


async def verified_identity(deps: Deps, user_id: str) -> VerifiedPerson | None:
    async with deps.uow() as uow:
        identity = await uow.verification.identity_of(user_id)
    if identity is None:
        return None
    return VerifiedPerson(
        user_id=identity.user_id,
        name=identity.name,
        id_type=identity.id_type,
        id_number=deps.cipher.decrypt(identity.id_number_enc, IDENTITY_CTX),
        id_number_masked=identity.id_number_masked,
        verified_at=identity.verified_at,
    )


async def users_with_id_number(deps: Deps, id_type: str, id_number: str) -> list[str]:
    """User ids verified with this document, found by keyed hash (never by plaintext)."""
    index = deps.cipher.blind_index(f"{id_type}:{id_number}", "id_number")
    async with deps.uow() as uow:
        return [i.user_id for i in await uow.verification.identities_by_index(index)]


# --- provider callbacks ---------------------------------------------------------------------------


async def apply_identity_result(
    deps: VerificationDeps, result: RedirectResult
) -> PersonVerification | EnterpriseVerification | None:
    """A face or Alipay result already authenticated by the provider adapter, for a real-name
    session of ours (None when the reference is not one). A replay of a finished session
    changes nothing."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        person = await uow.verification.person_by_ref(result.ref)
        if person is not None:
            if person.status == PersonStatus.REDIRECT:
                if result.passed:
                    person.verify(now)
                    await _apply_verified(deps, uow, person, now)
                else:
                    person.fail(result.reason or "人脸识别未通过", now)
                person.face_result_enc = deps.cipher.encrypt(
                    _json({"passed": result.passed, "reason": result.reason, **result.detail}), FACE_CTX
                )
                await uow.commit()
            return person
        attempt = await uow.verification.enterprise_by_ref(result.ref)
        if attempt is None:
            return None
        if attempt.status == AttemptStatus.PENDING and attempt.method == EnterpriseMethod.ALIPAY:
            if result.passed:
                attempt.verify(now)
            else:
                attempt.fail(result.reason or "企业支付宝认证未通过", now)
            await _sync_enterprise(uow, attempt)
            await uow.commit()
        return attempt


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)


# --- enterprises ------------------------------------------------------------------------------------


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
    provider = deps.identity
    attempt.provider = provider.plays(capability) if capability is not None else "platform"
    code_phone: str | None = None
    if kind == EnterpriseMethod.LEGAL_REP:
        today = now.date()
        values, errors = _collect(
            {
                "legal_rep_name": lambda: validate_person_name(data.get("legal_rep_name"), "legal_rep_name"),
                "legal_rep_id_number": lambda: parse_id_document(
                    data.get("legal_rep_id_type") or IdType.RESIDENT_ID,
                    data.get("legal_rep_id_number"),
                    today,
                    "legal_rep_id_number",
                ),
                "legal_rep_phone": lambda: Phone.parse(data.get("legal_rep_phone"), "legal_rep_phone"),
            }
        )
        if "legal_rep_phone" in values and values["legal_rep_phone"].is_virtual:
            errors["legal_rep_phone"] = "虚拟运营商号段不支持核验，请填写法定代表人的实名手机号"
        _raise_if(errors)
        doc: IdDocument = values["legal_rep_id_number"]
        rep_phone: Phone = values["legal_rep_phone"]
        attempt.legal_rep_name = values["legal_rep_name"]
        attempt.legal_rep_id_enc = deps.cipher.encrypt(doc.number, REP_ID_CTX)
        attempt.legal_rep_id_index = deps.cipher.blind_index(f"{doc.id_type}:{doc.number}", "id_number")
        attempt.legal_rep_id_masked = doc.masked
        attempt.legal_rep_phone = rep_phone.value
        async with deps.uow() as uow:
            await _check_code_allowed(uow, rep_phone.value, now)
        await spend_now(deps, deps.limits.verifications_per_user, user.id)  # each check costs a fee
        result = await provider.legal_rep(
            stored.name, stored.credit_code, values["legal_rep_name"], doc.number, rep_phone.value
        )
        attempt.provider = result.provider or attempt.provider
        attempt.provider_ref = result.ref or None
        if result.passed:
            code_phone = rep_phone.value
        else:
            attempt.fail(result.reason or "法定代表人信息核验不一致", now)
    elif kind == EnterpriseMethod.CORPORATE_PAYMENT:
        values, errors = _collect(
            {
                "bank_name": lambda: _text(data.get("bank_name"), "bank_name", "请输入开户银行", 60),
                "bank_account": lambda: parse_corporate_account(data.get("bank_account")),
                "account_name": lambda: _text(
                    data.get("account_name"), "account_name", "请输入账户名称", 100
                ),
            }
        )
        if values.get("account_name") and values["account_name"] != stored.name:
            errors["account_name"] = "对公账户户名须与企业名称一致"
        _raise_if(errors)
        amount = random_payment_amount()
        attempt.bank_name = values["bank_name"]
        attempt.bank_account_enc = deps.cipher.encrypt(values["bank_account"], ACCOUNT_CTX)
        attempt.bank_account_masked = mask_middle(values["bank_account"], 4, 4)
        attempt.account_name = values["account_name"]
        await spend_now(deps, deps.limits.verifications_per_user, user.id)  # real money is paid out
        result = await provider.corporate_payment(
            stored.name, values["bank_name"], values["bank_account"], values["account_name"], amount
        )
        attempt.provider = result.provider or attempt.provider
        attempt.provider_ref = result.ref or None
        if not result.later:  # paid now; a manual payment's amount is recorded by the reviewer
            attempt.amount_enc = deps.cipher.encrypt(str(amount), AMOUNT_CTX)
            attempt.paid_at = now
        if not result.passed:
            attempt.fail(result.reason or "打款失败，请核对对公账户信息", now)
    elif kind == EnterpriseMethod.AUTHORIZATION_LETTER:
        if letter is None or not letter[1]:
            raise Invalid.field("file", "请上传加盖企业公章的授权书（PDF或图片）")
        if len(letter[1]) > LETTER_MAX_BYTES:
            raise TooLarge("授权书文件不能超过10MB")
        attempt.letter_type = _letter_type(letter[1])
        attempt.letter_filename = (letter[0] or "授权书")[-100:]
        attempt.letter_blob = await deps.blobs.put(letter[1])
    else:
        await spend_now(deps, deps.limits.verifications_per_user, user.id)
        start = await provider.alipay_start(
            attempt.id, stored.name, stored.credit_code, "/dashboard/verification"
        )
        attempt.provider = start.provider or attempt.provider
        attempt.provider_ref = start.ref
        attempt.redirect_url = start.url
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


def _text(raw: object, field: str, empty: str, limit: int) -> str:
    text = str(raw or "").strip()
    if not text:
        raise Invalid.field(field, empty)
    if len(text) > limit:
        raise Invalid.field(field, f"不能超过{limit}个字符")
    return text


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


@dataclass
class LetterRow:
    attempt: EnterpriseVerification
    enterprise: Enterprise
    operator: User | None


async def letters(
    deps: VerificationDeps, actor: Actor, status: str | None, offset: int, limit: int
) -> tuple[list[LetterRow], int]:
    actor.require_platform("reviewer")
    async with deps.uow() as uow:
        attempts, total = await uow.verification.letters_page(status, offset, limit)
        rows = []
        for a in attempts:
            enterprise = await uow.get_or_404(Enterprise, a.enterprise_id)
            operator = await uow.get(User, a.operator_user_id) if a.operator_user_id else None
            rows.append(LetterRow(a, enterprise, operator))
        return rows, total


async def reviewer_letter(deps: VerificationDeps, actor: Actor, attempt_id: str) -> LetterRow:
    actor.require_platform("reviewer")
    async with deps.uow() as uow:
        a = await uow.get(EnterpriseVerification, str(attempt_id))
        if a is None or a.method != EnterpriseMethod.AUTHORIZATION_LETTER:
            raise NotFound("授权书记录不存在", "letter_not_found")
        enterprise = await uow.get_or_404(Enterprise, a.enterprise_id)
        operator = await uow.get(User, a.operator_user_id) if a.operator_user_id else None
        return LetterRow(a, enterprise, operator)


async def review_letter(
    deps: VerificationDeps, actor: Actor, attempt_id: str, approve: bool, reason: object = None
) -> EnterpriseVerification:
    reviewer = actor.require_platform("reviewer")
    note = str(reason or "").strip()
    if not approve and not note:
        raise Invalid.field("reason", "请填写驳回原因")
    now = deps.clock.now()
    async with deps.uow() as uow:
        a = await uow.get(EnterpriseVerification, str(attempt_id))
        if a is None or a.method != EnterpriseMethod.AUTHORIZATION_LETTER:
            raise NotFound("授权书记录不存在", "letter_not_found")
        latest = await uow.verification.latest_enterprise(a.enterprise_id)
        if latest is None or latest.id != a.id:
            raise WrongState("该企业已重新发起认证，此授权书无需再审核", "superseded")
        a.review(reviewer.id, approve, f"授权书审核未通过：{note[:200]}", now)
        enterprise = await _sync_enterprise(uow, a)
        operator = await uow.get(User, a.operator_user_id) if a.operator_user_id else None
        if operator is not None:
            text = (
                f"您为【{enterprise.name}】提交的企业实名认证授权书已审核通过，企业已完成实名认证。"
                if approve
                else f"您为【{enterprise.name}】提交的企业实名认证授权书未通过审核：{note[:60]}。请登录平台重新认证。"
            )
            result = "已审核通过，企业已完成实名认证。" if approve else f"未通过审核：{note[:60]}。请登录平台重新认证。"
            uow.outbox.add(
                outbox.sms(
                    operator.phone, "verification_review", text, now, attempt_id=a.id,
                    sms={"enterprise": enterprise.name, "result": result},
                )
            )  # fmt: skip
        await uow.commit()
    return a


# --- manual corporate payment (the platform reviewer pays) -----------------------------------------


@dataclass
class PaymentRow:
    attempt: EnterpriseVerification
    enterprise: Enterprise
    bank_account: str  # in full: the reviewer pays into it
    operator: User | None


def _manual_payment(a: EnterpriseVerification | None) -> EnterpriseVerification:
    if a is None or a.method != EnterpriseMethod.CORPORATE_PAYMENT or a.provider != "manual":
        raise NotFound("打款申请不存在", "payment_not_found")
    return a


async def manual_payments(
    deps: VerificationDeps, actor: Actor, paid: bool | None, offset: int, limit: int
) -> tuple[list[PaymentRow], int]:
    actor.require_platform("reviewer")
    async with deps.uow() as uow:
        attempts, total = await uow.verification.manual_payments_page(paid, offset, limit)
        rows = []
        for a in attempts:
            enterprise = await uow.get_or_404(Enterprise, a.enterprise_id)
            operator = await uow.get(User, a.operator_user_id) if a.operator_user_id else None
            account = deps.cipher.decrypt(a.bank_account_enc or "", ACCOUNT_CTX) if a.bank_account_enc else ""
            rows.append(PaymentRow(a, enterprise, account, operator))
        return rows, total


async def record_manual_payment(
    deps: VerificationDeps, actor: Actor, attempt_id: str, amount: object
) -> EnterpriseVerification:
    """The reviewer paid `amount` into the enterprise's account; the operator is told by SMS to
    look it up and type it back (the amount itself is never sent to the enterprise)."""
    reviewer = actor.require_platform("reviewer")
    paid = parse_amount(amount)
    now = deps.clock.now()
    async with deps.uow() as uow:
        a = _manual_payment(await uow.get(EnterpriseVerification, str(attempt_id)))
        latest = await uow.verification.latest_enterprise(a.enterprise_id)
        if latest is None or latest.id != a.id:
            raise WrongState("该企业已重新发起认证，无需再为此申请打款", "superseded")
        a.record_payment(reviewer.id, deps.cipher.encrypt(str(paid), AMOUNT_CTX), now)
        enterprise = await uow.get_or_404(Enterprise, a.enterprise_id)
        operator = await uow.get(User, a.operator_user_id) if a.operator_user_id else None
        if operator is not None:
            text = (
                f"平台已向【{enterprise.name}】尾号{(a.bank_account_masked or '')[-4:]}的对公账户汇出一笔验证打款，"
                "请查询到账金额后登录平台回填，完成企业实名认证。"
            )
            uow.outbox.add(
                outbox.sms(
                    operator.phone, "payment_sent", text, now, attempt_id=a.id, enterprise_id=enterprise.id,
                    sms={"enterprise": enterprise.name},
                )
            )  # fmt: skip
        await uow.commit()
    return a


async def provider_ref_of(deps: Deps, order_id: str) -> str | None:
    """The provider's reference for one of our sessions (a verification or a signing session),
    for providers whose browser return names only our order id."""
    from ..signing import SigningSession

    async with deps.uow() as uow:
        person = await uow.get(PersonVerification, order_id)
        if person is not None:
            return person.provider_ref
        attempt = await uow.get(EnterpriseVerification, order_id)
        if attempt is not None:
            return attempt.provider_ref
        session = await uow.get(SigningSession, order_id)
        return session.intent_ref if session is not None else None


# --- sandbox development helper -------------------------------------------------------------------


async def sandbox_payments(deps: VerificationDeps, enterprise_id: str) -> list[dict[str, Any]]:
    """Only what the sandbox "paid": a real payment's amount is never shown by the platform."""
    async with deps.uow() as uow:
        attempts = await uow.verification.payments_of(str(enterprise_id))
    attempts = [a for a in attempts if a.provider == "sandbox" and a.amount_enc]
    return [
        {
            "attempt_id": a.id,
            "enterprise_id": a.enterprise_id,
            "bank_name": a.bank_name,
            "bank_account_masked": a.bank_account_masked,
            "amount": deps.cipher.decrypt(a.amount_enc or "", AMOUNT_CTX),
            "status": a.status,
            "paid_at": a.created_at,
        }
        for a in attempts
    ]


def person_label(v: PersonVerification) -> str:
    return f"{v.name} {ID_TYPE_LABELS.get(IdType(v.id_type), v.id_type)} {v.id_number_masked}"
