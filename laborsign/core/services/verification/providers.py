"""Identity providers' browser returns and callbacks, and the sandbox provider's development page."""

from __future__ import annotations

from typing import Any

from ...ports import Deps
from ...verification import (
    AttemptStatus,
    EnterpriseMethod,
    EnterpriseVerification,
    PersonStatus,
    PersonVerification,
    RedirectResult,
)
from ._common import (
    AMOUNT_CTX,
    FACE_CTX,
    VerificationDeps,
    _json,
)
from .enterprise import (
    _sync_enterprise,
)
from .person import (
    _apply_verified,
)


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
