"""Notices to people. Each becomes outbox rows in the caller's transaction: an SMS always
(the fallback channel that reaches everyone), plus a chat message to every worker-facing chat
app the person bound and still follows — the apps the unit of work names (`chat_apps`, from
the configuration through the channel registry), so core names no channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import outbox
from .ports import UnitOfWork


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
    apps = uow.chat_apps
    if not user_id or not apps:
        return
    for identity in await uow.chat.identities_of([user_id], list(apps)):
        if apps.get(identity.channel) != identity.app_id or not identity.following:
            continue  # another app's, or a person who left it: the SMS carries the notice
        uow.outbox.add(outbox.chat(identity.channel, identity.external_id, kind, text, now, link=link, **payload))
