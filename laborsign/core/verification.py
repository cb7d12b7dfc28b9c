"""Real-name verification of people and enterprises (SPEC §2.2).

A person proves who they are once (carrier three factors + SMS code, bank card four factors,
or face via a provider redirect); the verified identity is kept encrypted and valid for every
enterprise. An enterprise is verified in three steps: confirm its information, the handling
operator is personally verified, then one organisation check. The state machines here refuse
illegal transitions; providers and storage are reached through the services."""

from __future__ import annotations

import enum
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from .accounts import Enterprise, day_start
from .errors import Invalid, RateLimited, WrongState
from .identity_rules import IdDocument, IdType
from .ids import new_id
from .values import Phone

CONSENT_AGREEMENT = "identity_service"
CONSENT_VERSION = "2026-11"
CONSENT_REQUIRED = "请阅读并同意《实名认证服务协议》后再进行实名认证"
CONSENT_TEXT = """《实名认证服务协议》（版本 2026-11）

1. 为确认您的真实身份，保障电子劳动合同的签署安全与法律效力，本平台需要核验您的身份信息。
2. 您同意本平台收集您提交的姓名、证件类型与证件号码，以及按所选认证方式提交的手机号、银行卡号与银行预留手机号、人脸图像，并将其提交给依法合规的身份核验服务机构（运营商、银联、公安身份数据源、支付宝或腾讯云等）进行比对。
3. 证件号码、银行卡号与人脸核验结果均加密保存，页面与通知中仅显示部分号码；核验机构仅在核验目的范围内使用上述信息。
4. 认证成功后，您的实名信息在本平台所有用人单位处通用，无需重复认证。
5. 银行卡认证每人每天最多3次、每分钟最多2次；虚拟运营商号段不支持手机认证。
6. 您可以联系平台运营方查询、更正您的实名信息，或注销账号。"""


class PersonMethod(enum.StrEnum):
    CARRIER3 = "carrier3"
    BANKCARD4 = "bankcard4"
    FACE = "face"


PERSON_METHOD_LABELS = {
    PersonMethod.CARRIER3: "手机认证（运营商三要素）",
    PersonMethod.BANKCARD4: "银行卡认证（银行卡四要素）",
    PersonMethod.FACE: "人脸识别认证",
}


class PersonStatus(enum.StrEnum):
    NEW = "new"  # being checked by the provider; never left in this state
    CODE_SENT = "code_sent"
    REDIRECT = "redirect"
    VERIFIED = "verified"
    FAILED = "failed"


class EnterpriseMethod(enum.StrEnum):
    LEGAL_REP = "legal_rep"
    CORPORATE_PAYMENT = "corporate_payment"
    AUTHORIZATION_LETTER = "authorization_letter"
    ALIPAY = "alipay"


ENTERPRISE_METHOD_LABELS = {
    EnterpriseMethod.LEGAL_REP: "法定代表人认证",
    EnterpriseMethod.CORPORATE_PAYMENT: "对公打款认证",
    EnterpriseMethod.AUTHORIZATION_LETTER: "授权书认证",
    EnterpriseMethod.ALIPAY: "企业支付宝认证",
}


class EnterpriseStatus(enum.StrEnum):
    """`Enterprise.verification_status` values."""

    UNVERIFIED = "unverified"
    PENDING = "pending"
    VERIFIED = "verified"
    FAILED = "failed"


ENTERPRISE_STATUS_LABELS = {
    EnterpriseStatus.UNVERIFIED: "未认证",
    EnterpriseStatus.PENDING: "认证中",
    EnterpriseStatus.VERIFIED: "已认证",
    EnterpriseStatus.FAILED: "认证失败",
}


class AttemptStatus(enum.StrEnum):
    """One enterprise verification attempt."""

    DRAFT = "draft"  # information confirmed, no organisation check chosen yet
    PENDING = "pending"  # waiting for the code, the amount, the review or the redirect
    VERIFIED = "verified"
    FAILED = "failed"


BANKCARD_DAILY_LIMIT = 3
BANKCARD_MINUTE_LIMIT = 2
PAYMENT_MAX_WRONG = 3
LEGAL_REP_MAX_WRONG = 5
FACE_TTL = timedelta(minutes=30)


# --- provider port -------------------------------------------------------------------------------


class Capability(enum.StrEnum):
    """What a provider is configured for, one key each (`identity.<capability>_provider`)."""

    CARRIER = "carrier"
    BANKCARD = "bankcard"
    FACE = "face"
    LEGAL_REP = "legal_rep"
    CORPORATE_PAYMENT = "corporate_payment"
    ENTERPRISE_ALIPAY = "enterprise_alipay"


PERSON_CAPABILITY = {
    PersonMethod.CARRIER3: Capability.CARRIER,
    PersonMethod.BANKCARD4: Capability.BANKCARD,
    PersonMethod.FACE: Capability.FACE,
}
ENTERPRISE_CAPABILITY = {
    EnterpriseMethod.LEGAL_REP: Capability.LEGAL_REP,
    EnterpriseMethod.CORPORATE_PAYMENT: Capability.CORPORATE_PAYMENT,
    EnterpriseMethod.ALIPAY: Capability.ENTERPRISE_ALIPAY,
}


def method_disabled(label: str) -> WrongState:
    return WrongState(f"平台未开通{label}，请选择其他认证方式", "method_disabled")



@dataclass(frozen=True)
class CheckResult:
    """A provider's answer to a factor check."""

    passed: bool
    reason: str = ""
    provider: str = ""
    ref: str = ""  # the provider's order / request id, kept for disputes
    # Accepted, the outcome comes later (a platform reviewer makes the corporate payment).
    later: bool = False


@dataclass(frozen=True)
class RedirectStart:
    """The provider session a person (face) or an enterprise (Alipay) is sent to."""

    url: str
    ref: str  # the provider's token for this session; the callback names it
    provider: str = ""


@dataclass(frozen=True)
class RedirectResult:
    """What a provider says about a redirect session, after its authenticity was checked."""

    ref: str
    passed: bool
    reason: str = ""
    detail: dict[str, Any] = field(default_factory=dict)  # similarity score etc.; stored encrypted
    # The callback's signature, when the provider signs its callbacks: the same one is
    # accepted again only with the same body (core/replay.py).
    replay_key: str | None = None


# The provider reference of our session `order` (a verification or signing-session id):
# for providers whose browser return names only the order, never their own reference.
RefLookup = Callable[[str], Awaitable[str | None]]


class IdentityProvider(Protocol):
    """Every third-party check the verification flows need. Format rules are already enforced
    before any of these is called. A check the vendor could not make (busy, bad input it
    refused without checking) raises a domain error — it never counts as an attempt; a
    CheckResult means the data was checked."""

    def offers(self, capability: Capability) -> bool:
        """False when the capability is `disabled` in the configuration."""
        ...

    def plays(self, capability: Capability) -> str:
        """The name of the provider playing a capability ("" when disabled)."""
        ...

    async def carrier3(self, name: str, id_number: str, phone: str) -> CheckResult: ...
    async def bankcard4(
        self, name: str, id_type: str, id_number: str, card: str, phone: str
    ) -> CheckResult: ...
    async def face_start(
        self, order_id: str, name: str, id_number: str, return_url: str
    ) -> RedirectStart: ...
    async def legal_rep(
        self, enterprise_name: str, credit_code: str, name: str, id_number: str, phone: str
    ) -> CheckResult: ...
    async def corporate_payment(
        self, enterprise_name: str, bank_name: str, account: str, account_name: str, amount: Decimal
    ) -> CheckResult: ...
    async def alipay_start(
        self, order_id: str, enterprise_name: str, credit_code: str, return_url: str
    ) -> RedirectStart: ...
    async def callback(
        self, provider: str, headers: dict[str, str], query: dict[str, str], body: bytes, lookup: RefLookup
    ) -> RedirectResult:
        """Authenticates a provider callback (raises Forbidden when forged) and returns the
        result it carries, or the result fetched from the provider for the session it names."""
        ...


# --- people -----------------------------------------------------------------------------------------


@dataclass(eq=False)
class PersonVerification:
    user_id: str
    method: str
    name: str
    id_type: str
    id_number_enc: str
    id_number_index: str
    id_number_masked: str
    consent_version: str
    consent_at: datetime
    created_at: datetime
    status: str = PersonStatus.NEW
    phone: str | None = None  # the phone the SMS code goes to (carrier3)
    phone_enc: str | None = None  # bank-reserved phone (bankcard4)
    bank_card_enc: str | None = None
    bank_card_masked: str | None = None
    provider: str = ""
    provider_ref: str | None = None
    redirect_url: str | None = None
    face_result_enc: str | None = None
    reason: str | None = None
    completed_at: datetime | None = None
    id: str = field(default_factory=new_id)

    @property
    def done(self) -> bool:
        return self.status in (PersonStatus.VERIFIED, PersonStatus.FAILED)

    def code_sent(self) -> None:
        self._require_method(PersonMethod.CARRIER3)
        self.status = PersonStatus.CODE_SENT

    def redirected(self, url: str, ref: str) -> None:
        self._require_method(PersonMethod.FACE)
        self.status = PersonStatus.REDIRECT
        self.redirect_url = url
        self.provider_ref = ref

    def require_awaiting_code(self) -> None:
        if self.method != PersonMethod.CARRIER3:
            raise WrongState("该认证方式无需短信验证码", "no_code_needed")
        if self.status != PersonStatus.CODE_SENT:
            raise WrongState("该认证已结束，请重新发起实名认证", "verification_closed")

    def verify(self, now: datetime) -> None:
        if self.done:
            raise WrongState("该认证已结束，请重新发起实名认证", "verification_closed")
        self.status = PersonStatus.VERIFIED
        self.completed_at = now
        self.reason = None

    def fail(self, reason: str, now: datetime) -> None:
        if self.done:
            raise WrongState("该认证已结束，请重新发起实名认证", "verification_closed")
        self.status = PersonStatus.FAILED
        self.reason = reason
        self.completed_at = now

    def expired(self, now: datetime) -> bool:
        return self.status == PersonStatus.REDIRECT and now - self.created_at > FACE_TTL

    def _require_method(self, method: PersonMethod) -> None:
        if self.method != method or self.status != PersonStatus.NEW:
            raise WrongState("认证状态不正确", "wrong_state")


@dataclass(eq=False)
class PersonIdentity:
    """The verified identity of a user: encrypted, looked up by a keyed hash of the number."""

    user_id: str
    name: str
    id_type: str
    id_number_enc: str
    id_number_index: str
    id_number_masked: str
    method: str
    verification_id: str
    verified_at: datetime
    id: str = field(default_factory=new_id)


def check_method_fits(method: PersonMethod, doc: IdDocument, phone: Phone | None) -> None:
    """Which documents and phones each method accepts (before a provider is asked)."""
    if method in (PersonMethod.CARRIER3, PersonMethod.FACE) and doc.id_type != IdType.RESIDENT_ID:
        label = "手机认证" if method == PersonMethod.CARRIER3 else "人脸识别认证"
        raise Invalid.field(
            "id_type",
            f"{label}仅支持中国大陆居民身份证，港澳台及外籍人士请选择银行卡认证",
            code="id_type_not_supported",
        )
    if method == PersonMethod.CARRIER3 and phone is not None and phone.is_virtual:
        raise Invalid.field(
            "phone",
            "虚拟运营商号段（162、165、167、170、171）不支持手机认证，请更换手机号或选择其他认证方式",
            code="virtual_phone",
        )


def check_bankcard_limits(recent: list[datetime], now: datetime) -> None:
    """`recent`: this person's bank-card checks today (China calendar day). UnionPay risk
    control allows 3 a day and 2 a minute."""
    in_minute = sorted(t for t in recent if now - t < timedelta(minutes=1))
    if len(recent) >= BANKCARD_DAILY_LIMIT:
        tomorrow = day_start(now) + timedelta(days=1)
        raise RateLimited(
            "银行卡认证今日次数已达上限（每天最多3次），请明天再试或选择其他认证方式",
            math.ceil((tomorrow - now).total_seconds()),
            code="bankcard_daily_limit",
        )
    if len(in_minute) >= BANKCARD_MINUTE_LIMIT:
        wait = in_minute[0] + timedelta(minutes=1) - now
        raise RateLimited(
            "银行卡认证过于频繁（每分钟最多2次），请稍后再试",
            math.ceil(wait.total_seconds()),
            code="bankcard_minute_limit",
        )


# --- enterprises ------------------------------------------------------------------------------------


@dataclass(eq=False)
class EnterpriseVerification:
    """One attempt at verifying an enterprise; the newest attempt is the current one."""

    enterprise_id: str
    created_at: datetime
    info_confirmed_by: str
    status: str = AttemptStatus.DRAFT
    method: str | None = None
    operator_user_id: str | None = None
    legal_rep_name: str | None = None
    legal_rep_id_enc: str | None = None
    legal_rep_id_index: str | None = None
    legal_rep_id_masked: str | None = None
    legal_rep_phone: str | None = None
    bank_name: str | None = None
    bank_account_enc: str | None = None
    bank_account_masked: str | None = None
    account_name: str | None = None
    amount_enc: str | None = None  # the random payment, yuan as text, encrypted
    paid_by: str | None = None  # the platform reviewer who made a manual payment
    paid_at: datetime | None = None
    wrong_tries: int = 0
    letter_blob: str | None = None
    letter_filename: str | None = None
    letter_type: str | None = None
    reviewer_id: str | None = None
    reviewed_at: datetime | None = None
    provider: str = ""
    provider_ref: str | None = None
    redirect_url: str | None = None
    reason: str | None = None
    updated_at: datetime | None = None
    completed_at: datetime | None = None
    id: str = field(default_factory=new_id)

    @property
    def done(self) -> bool:
        return self.status in (AttemptStatus.VERIFIED, AttemptStatus.FAILED)

    def choose(self, method: EnterpriseMethod, operator_user_id: str, now: datetime) -> None:
        if self.status != AttemptStatus.DRAFT:
            raise WrongState("该认证已开始，请重新发起", "wrong_state")
        self.method = method
        self.operator_user_id = operator_user_id
        self.status = AttemptStatus.PENDING
        self.updated_at = now

    def require_pending(self, method: EnterpriseMethod | None = None) -> None:
        if self.status != AttemptStatus.PENDING:
            raise WrongState("当前没有进行中的组织机构核验，请重新发起企业认证", "no_pending_verification")
        if method is not None and self.method != method:
            raise WrongState(
                f"当前认证方式为{ENTERPRISE_METHOD_LABELS[EnterpriseMethod(self.method or '')]}，无需此操作",
                "wrong_method",
            )

    def verify(self, now: datetime) -> None:
        self.require_pending()
        self.status = AttemptStatus.VERIFIED
        self.completed_at = self.updated_at = now
        self.reason = None

    def fail(self, reason: str, now: datetime) -> None:
        self.require_pending()
        self.status = AttemptStatus.FAILED
        self.reason = reason
        self.completed_at = self.updated_at = now

    def record_payment(self, reviewer_id: str, amount_enc: str, now: datetime) -> None:
        """A platform reviewer made the corporate payment (provider `manual`) of this amount."""
        self.require_pending(EnterpriseMethod.CORPORATE_PAYMENT)
        if self.paid_at is not None or self.amount_enc is not None:
            raise WrongState("该对公打款已记录，无需重复登记", "already_paid")
        self.amount_enc = amount_enc
        self.paid_by = reviewer_id
        self.paid_at = self.updated_at = now

    def require_paid(self) -> None:
        if self.amount_enc is None:
            raise WrongState("平台尚未完成打款，请在对公账户收到打款后再回填金额", "payment_not_made")

    def wrong_amount(self, now: datetime) -> int:
        """Counts a wrong payment amount; the third fails the attempt. Returns tries left."""
        self.require_pending(EnterpriseMethod.CORPORATE_PAYMENT)
        self.wrong_tries += 1
        self.updated_at = now
        left = PAYMENT_MAX_WRONG - self.wrong_tries
        if left <= 0:
            self.fail("打款金额连续3次填写错误，请重新发起对公打款认证", now)
        return max(0, left)

    def wrong_code(self, now: datetime) -> int:
        self.require_pending(EnterpriseMethod.LEGAL_REP)
        self.wrong_tries += 1
        self.updated_at = now
        left = LEGAL_REP_MAX_WRONG - self.wrong_tries
        if left <= 0:
            self.fail("验证码错误次数过多，请重新发起法定代表人认证", now)
        return max(0, left)

    def review(self, reviewer_id: str, approve: bool, reason: str, now: datetime) -> None:
        self.require_pending(EnterpriseMethod.AUTHORIZATION_LETTER)
        self.reviewer_id = reviewer_id
        self.reviewed_at = now
        if approve:
            self.verify(now)
        else:
            self.fail(reason, now)


def enterprise_status_after(attempt: EnterpriseVerification | None) -> EnterpriseStatus:
    if attempt is None or attempt.status == AttemptStatus.DRAFT:
        return EnterpriseStatus.UNVERIFIED
    return EnterpriseStatus(attempt.status)


def random_payment_amount() -> Decimal:
    """0.01–0.99 yuan."""
    return Decimal(secrets.randbelow(99) + 1) / 100


def parse_amount(raw: object) -> Decimal:
    text = str(raw if raw is not None else "").strip().removesuffix("元")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise Invalid.field("amount", "请输入收到的打款金额，例如 0.35") from None
    if not amount.is_finite() or amount <= 0 or amount >= 1 or amount != amount.quantize(Decimal("0.01")):
        raise Invalid.field("amount", "打款金额应在0.01至0.99元之间，精确到分")
    return amount.quantize(Decimal("0.01"))


def parse_corporate_account(raw: object) -> str:
    text = str(raw or "").replace(" ", "").replace("-", "").strip()
    if not text:
        raise Invalid.field("bank_account", "请输入对公银行账号")
    if not text.isdigit() or not 6 <= len(text) <= 32:
        raise Invalid.field("bank_account", "对公银行账号应为6-32位数字")
    return text


def missing_step(enterprise: Enterprise) -> str:
    status = enterprise.verification_status
    if status == EnterpriseStatus.PENDING:
        return "组织机构核验尚未完成（等待验证码、打款金额、授权书审核或支付宝认证结果）"
    if status == EnterpriseStatus.FAILED:
        return "组织机构核验未通过，请重新进行企业实名认证"
    return "请先完成企业实名认证：确认企业信息 → 办理人个人实名认证 → 组织机构核验"


def require_enterprise_verified(enterprise: Enterprise) -> None:
    """Called before an enterprise initiates or signs contracts."""
    if enterprise.verification_status != EnterpriseStatus.VERIFIED:
        step = missing_step(enterprise)
        raise WrongState(
            f"企业尚未完成实名认证，不能发起或签署合同。{step}",
            "enterprise_not_verified",
            missing_step=step,
            verification_status=enterprise.verification_status,
        )
