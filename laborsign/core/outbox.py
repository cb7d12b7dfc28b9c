"""Outbound messages. Each is written in the transaction of the state change that causes it
and delivered later by the deliverer, so nothing is sent from inside a request."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .ids import new_id


class Channel(enum.StrEnum):
    """The channels the engine itself knows. A chat channel's code is its adapter's name
    (bots/channels/registry.py); its label comes from there too."""

    SMS = "sms"
    HR = "hr"  # an enterprise's HR reviewers: expanded into cards by the deliverer
    WEBHOOK = "webhook"  # an integrator's endpoint (the recipient is the endpoint's id)


CHANNEL_LABELS = {
    Channel.SMS: "短信",
    Channel.HR: "HR 通知",
    Channel.WEBHOOK: "系统集成 Webhook",
}


# Delivery policy: exponential backoff from 10 s, capped at an hour; dead after 8 tries.
RETRY_BASE = timedelta(seconds=10)
RETRY_CAP = timedelta(hours=1)
MAX_ATTEMPTS = 8


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


OUTBOX_STATUS_LABELS = {
    OutboxStatus.PENDING: "待发送",
    OutboxStatus.SENT: "已送达",
    OutboxStatus.DEAD: "已停止重试",
}


@dataclass(eq=False)
class OutboxMessage:
    channel: str
    recipient: str
    kind: str  # what the message is about: sms_code, invitation, review_result, ...
    text: str
    created_at: datetime
    next_attempt_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    status: str = OutboxStatus.PENDING
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str | None = None
    dedupe_key: str | None = None
    redacted_at: datetime | None = None  # an SMS code's digits removed (sent, dead or expired)
    id: str = field(default_factory=new_id)

    def redact_code(self, now: datetime) -> None:
        """Once an SMS code has gone out (or can no longer be used), nobody reading the table
        may learn it: the digits leave the text and the payload."""
        code = self.payload.get("code")
        if code:
            self.text = self.text.replace(str(code), "******")
        self.payload = {k: v for k, v in self.payload.items() if k != "code"}
        self.redacted_at = now

    def mark_sent(self, now: datetime) -> None:
        self.status = OutboxStatus.SENT
        self.sent_at = now
        self.attempts += 1
        self.last_error = None

    def postpone(self, until: datetime) -> None:
        """Not a failure (a rate limit): tried again later without using up an attempt."""
        self.next_attempt_at = until

    def fail(self, error: str, now: datetime, permanent: bool = False) -> bool:
        """Records a failed try; returns True when the message is now dead."""
        self.attempts += 1
        self.last_error = error[:500]
        if permanent or self.attempts >= MAX_ATTEMPTS:
            self.status = OutboxStatus.DEAD
            return True
        delay = min(RETRY_BASE * (2 ** (self.attempts - 1)), RETRY_CAP)
        self.next_attempt_at = now + delay
        return False

    def revive(self, now: datetime) -> None:
        """A dead letter sent again from the dashboard: a fresh round of tries."""
        self.status = OutboxStatus.PENDING
        self.attempts = 0
        self.next_attempt_at = now


def chat(channel: str, recipient: str, kind: str, text: str, now: datetime, **payload: Any) -> OutboxMessage:
    return OutboxMessage(
        channel=channel,
        recipient=recipient,
        kind=kind,
        text=text,
        created_at=now,
        next_attempt_at=now,
        payload=payload,
    )


def to_hr(enterprise_id: str, kind: str, text: str, now: datetime, **payload: Any) -> OutboxMessage:
    """An HR row: the enterprise's recipients are chosen when it is delivered (bots/hr.py)."""
    return OutboxMessage(
        channel=Channel.HR,
        recipient=enterprise_id,
        kind=kind,
        text=text,
        created_at=now,
        next_attempt_at=now,
        payload={**payload, "enterprise_id": enterprise_id},
    )


def sms(phone: str, kind: str, text: str, now: datetime, **payload: Any) -> OutboxMessage:
    return OutboxMessage(
        channel=Channel.SMS,
        recipient=phone,
        kind=kind,
        text=text,
        created_at=now,
        next_attempt_at=now,
        payload=payload,
    )
