"""A person's real-name verification: carrier3, bankcard4 and face, and the verified identity it leaves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...accounts import (
    AgreementAcceptance,
    SmsPurpose,
    User,
    day_start,
    validate_person_name,
)
from ...errors import Invalid, NotFound, WrongState
from ...identity_rules import (
    ID_TYPE_LABELS,
    IdDocument,
    IdType,
    mask_bank_card,
    parse_bank_card,
    parse_id_document,
)
from ...ports import Deps, UnitOfWork
from ...values import Phone
from ...verification import (
    CONSENT_AGREEMENT,
    CONSENT_REQUIRED,
    CONSENT_VERSION,
    PERSON_CAPABILITY,
    PERSON_METHOD_LABELS,
    PersonIdentity,
    PersonMethod,
    PersonStatus,
    PersonVerification,
    check_bankcard_limits,
    check_method_fits,
    method_disabled,
)
from ..accounts import require_sms_code
from ..limits import spend_now
from ._common import (
    CARD_CTX,
    ID_CTX,
    IDENTITY_CTX,
    PHONE_CTX,
    VerificationDeps,
    _add_code,
    _check_code_allowed,
    _collect,
    _raise_if,
)


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


def person_label(v: PersonVerification) -> str:
    return f"{v.name} {ID_TYPE_LABELS.get(IdType(v.id_type), v.id_type)} {v.id_number_masked}"
