"""Notices to people. Each becomes outbox rows in the caller's transaction: an SMS always
(the fallback channel that reaches everyone), plus a chat message where the person has bound
a chat identity (added by the chat channels)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from . import outbox
from .ports import UnitOfWork


class ChatFanout(Protocol):
    async def __call__(
        self,
        uow: UnitOfWork,
        user_id: str,
        kind: str,
        text: str,
        link: str | None,
        now: datetime,
        payload: dict[str, Any],
    ) -> bool: ...


_chat_fanout: ChatFanout | None = None


def set_chat_fanout(fanout: ChatFanout | None) -> None:
    """The chat layer registers how to reach a bound user; core stays channel-agnostic."""
    global _chat_fanout
    _chat_fanout = fanout


async def notify_person(
    uow: UnitOfWork,
    *,
    phone: str,
    user_id: str | None,
    kind: str,
    text: str,
    link: str | None,
    now: datetime,
    **payload: Any,
) -> None:
    sms_text = f"{text} {link}" if link else text
    uow.outbox.add(outbox.sms(phone, kind, sms_text, now, link=link, **payload))
    if user_id and _chat_fanout is not None:
        await _chat_fanout(uow, user_id, kind, text, link, now, payload)
