"""Seals and signing sessions (the intent-verification step before signatures are applied)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .errors import WrongState
from .ids import new_id

SIGNING_SESSION_TTL = timedelta(minutes=10)
# A process applying a session's signatures holds it this long, renewed every third of it
# while it works; a session whose lease ran out was left by a process that died.
APPLY_LEASE = timedelta(seconds=30)


class SessionStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the intent verification
    CONFIRMING = "confirming"  # intent verified, signatures being applied
    DONE = "done"
    EXPIRED = "expired"


class IntentMethod(enum.StrEnum):
    SMS = "sms"  # a code sent to the signer's phone
    FACE = "face"  # the identity provider's face check against the signer's verified identity


class IntentStatus(enum.StrEnum):
    CODE_SENT = "code_sent"
    REDIRECT = "redirect"  # the signer is at the face provider
    PASSED = "passed"
    FAILED = "failed"


INTENT_METHOD_LABELS = {IntentMethod.SMS: "短信验证码", IntentMethod.FACE: "人脸识别"}
INTENT_STATUS_LABELS = {
    IntentStatus.CODE_SENT: "验证码已发送",
    IntentStatus.REDIRECT: "等待人脸识别",
    IntentStatus.PASSED: "意愿认证已通过",
    IntentStatus.FAILED: "意愿认证未通过",
}


@dataclass(eq=False)
class Seal:
    enterprise_id: str
    type: str
    name: str
    source: str  # generated | uploaded
    blob: str
    created_by: str
    created_at: datetime
    id: str = field(default_factory=new_id)


@dataclass(eq=False)
class SigningSession:
    party_role: str  # worker | enterprise
    user_id: str
    phone: str
    contract_ids: list[str]
    intent_method: str
    created_at: datetime
    expires_at: datetime
    enterprise_id: str | None = None
    seal_id: str | None = None
    signature_blob: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    status: str = SessionStatus.PENDING
    result: dict[str, Any] = field(default_factory=dict)
    ip: str = ""
    user_agent: str = ""
    intent_status: str = IntentStatus.CODE_SENT
    intent_ref: str | None = None  # the face provider's session reference
    intent_url: str | None = None  # where the signer does the face check
    intent_reason: str = ""
    intent_result_enc: str | None = None  # the provider's detail (similarity…), encrypted
    intent_at: datetime | None = None
    applying_until: datetime | None = None  # while confirming: the applying process's lease
    version: int = 0  # the optimistic lock (storage): two claims of one session, one wins
    id: str = field(default_factory=new_id)

    # -- transitions: pending → confirming (claimed, under a lease) → done ---------------------

    def claim(self, now: datetime, until: datetime, take_over: bool = False) -> bool:
        """Starts applying the signatures, holding the lease until `until`; False when the
        session is not claimable. `take_over`: claims one left confirming by an applier whose
        lease ran out (it died) instead of a pending one. Two claims racing are told apart by
        the version check when they commit: one of them gets a Conflict."""
        claimable = self.abandoned(now) if take_over else self.status == SessionStatus.PENDING
        if not claimable:
            return False
        self.status = SessionStatus.CONFIRMING
        self.applying_until = until
        return True

    def renew(self, until: datetime) -> bool:
        """Moves the applier's lease (to now: lets it go); False once it is no longer applying."""
        if self.status != SessionStatus.CONFIRMING:
            return False
        self.applying_until = until
        return True

    def finish(self, signed: list[str], failed: list[dict[str, Any]], now: datetime) -> None:
        """Every contract was tried: the outcome is kept for the signer. An SMS session's
        intent was verified by the code that confirmed it."""
        if self.status != SessionStatus.CONFIRMING:
            raise WrongState("该签署未在进行中", "session_not_confirming")
        self.status = SessionStatus.DONE
        self.applying_until = None
        if self.intent_method == IntentMethod.SMS:
            self.intent_status = IntentStatus.PASSED
            self.intent_at = now
        self.result = {"signed": signed, "failed": failed}

    def abandoned(self, now: datetime) -> bool:
        """Left half applied: confirming, and its applier's lease has run out."""
        return self.status == SessionStatus.CONFIRMING and (
            self.applying_until is None or self.applying_until <= now
        )

    def check_open(self, now: datetime) -> None:
        if self.status != SessionStatus.PENDING:
            raise WrongState("该签署已确认过，请勿重复提交", "session_used")
        if self.expired(now):
            raise WrongState("签署确认已超时，请重新提交签署", "session_expired")

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def state(self, now: datetime) -> str:
        """What the signer sees: a pending session past its time is expired."""
        if self.status == SessionStatus.PENDING and self.expired(now):
            return SessionStatus.EXPIRED
        return self.status

    def redirected(self, url: str, ref: str) -> None:
        self.intent_status = IntentStatus.REDIRECT
        self.intent_url = url
        self.intent_ref = ref

    def face_result(self, passed: bool, reason: str, now: datetime) -> bool:
        """Records the provider's answer once (True when recorded); a replayed answer, or one
        for a session no longer waiting, changes nothing. A pass after the session's time is
        recorded as a failure: nothing is signed late."""
        if self.intent_status != IntentStatus.REDIRECT or self.status != SessionStatus.PENDING:
            return False
        self.intent_at = now
        if not passed:
            self.intent_status = IntentStatus.FAILED
            self.intent_reason = (reason or "人脸识别未通过")[:200]
        elif self.expired(now):
            self.intent_status = IntentStatus.FAILED
            self.intent_reason = "人脸识别完成时签署已超时，请重新提交签署"
        else:
            self.intent_status = IntentStatus.PASSED
        return True

    def require_face_passed(self) -> None:
        if self.intent_status == IntentStatus.REDIRECT:
            raise WrongState("尚未完成人脸识别，请先完成人脸识别", "intent_pending")
        if self.intent_status == IntentStatus.FAILED:
            raise WrongState(self.intent_reason or "人脸识别未通过，请重新提交签署", "intent_failed")
