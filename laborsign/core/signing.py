"""Seals and signing sessions (the intent-verification step before signatures are applied)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .errors import WrongState
from .ids import new_id

SIGNING_SESSION_TTL = timedelta(minutes=10)


class SessionStatus(enum.StrEnum):
    PENDING = "pending"  # intent code sent
    CONFIRMING = "confirming"  # code accepted, signatures being applied
    DONE = "done"
    EXPIRED = "expired"


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
    id: str = field(default_factory=new_id)

    def check_open(self, now: datetime) -> None:
        if self.status != SessionStatus.PENDING:
            raise WrongState("该签署已确认过，请勿重复提交", "session_used")
        if now >= self.expires_at:
            raise WrongState("签署确认已超时，请重新提交签署", "session_expired")
