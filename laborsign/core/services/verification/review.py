"""The reviewer console: authorisation letters to review and manual payments to record."""

from __future__ import annotations

from dataclasses import dataclass

from ... import outbox
from ...accounts import (
    Enterprise,
    User,
)
from ...errors import Invalid, NotFound, WrongState
from ...verification import (
    EnterpriseMethod,
    EnterpriseVerification,
    parse_amount,
)
from ..accounts import Actor
from ._common import (
    ACCOUNT_CTX,
    AMOUNT_CTX,
    VerificationDeps,
)
from .enterprise import (
    _sync_enterprise,
)


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
            result = (
                "已审核通过，企业已完成实名认证。"
                if approve
                else f"未通过审核：{note[:60]}。请登录平台重新认证。"
            )
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
