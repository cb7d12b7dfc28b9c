"""What every verification use case shares: encryption contexts, the deps it needs, field-error collection."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

from ...accounts import SmsCode, SmsPurpose, day_start
from ...errors import Invalid
from ...ports import Deps, UnitOfWork
from ...verification import (
    IdentityProvider,
)
from ..limits import Asker, issue_code

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


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)


def _text(raw: object, field: str, empty: str, limit: int) -> str:
    text = str(raw or "").strip()
    if not text:
        raise Invalid.field(field, empty)
    if len(text) > limit:
        raise Invalid.field(field, f"不能超过{limit}个字符")
    return text


async def _add_code(deps: Deps, uow: UnitOfWork, user_id: str, phone: str, text: str, now: datetime) -> None:
    await issue_code(deps, uow, phone, SmsPurpose.VERIFY, text, now, Asker(person=user_id))


async def _check_code_allowed(uow: UnitOfWork, phone: str, now: datetime) -> None:
    last = await uow.accounts.last_sms(phone, SmsPurpose.VERIFY)
    today = await uow.accounts.sms_sent_since(phone, day_start(now))
    SmsCode.check_can_send(today, last.created_at if last else None, now)
