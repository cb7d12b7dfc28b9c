"""Outbound messages. Each is written in the transaction of the state change that causes it
and delivered later by the deliverer, so nothing is sent from inside a request."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .ids import new_id


class Channel(enum.StrEnum):
    SMS = "sms"
    WECHAT = "wechat"
    WECOM = "wecom"
    DINGTALK = "dingtalk"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


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
    id: str = field(default_factory=new_id)


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
