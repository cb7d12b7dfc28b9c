"""HR review cards: an onboarding submission becomes a card with 通过 / 拒绝 for every HR
member bound on an HR-facing chat app (WeCom, DingTalk, …); pressing a button acts on the
record through the same review service as the dashboard, once, and the card then shows who
decided. HR notices
(core/notices.py) reach the members with the contracts permission the same way, as a message."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from ..core import outbox as ob
from ..core.accounts import Enterprise, Member, Permission, User
from ..core.chat import CardStatus, ChatIdentity, ReviewCard
from ..core.clock import china_text, china_time
from ..core.contracts import Contract
from ..core.errors import DomainError, WrongState
from ..core.ids import new_id
from ..core.labor_law import hiring_note
from ..core.notices import Notice
from ..core.onboarding import ONBOARDING_STATUS_LABELS, OnboardingRecord, OnboardingStatus
from ..core.outbox import OutboxMessage
from ..core.ports import Deps, UnitOfWork
from ..core.services import labor
from ..core.services import roster as roster_service
from ..core.services.accounts import Actor
from ..core.values import mask_phone
from .channels import registry
from .outbox import Expander

log = logging.getLogger("laborsign.bots.hr")

REJECT_REASON = "资料未通过企业审核，请联系用人单位HR了解详情"


def record_link(deps: Deps, record_id: str) -> str:
    return f"{deps.public_url}/dashboard/onboarding/{record_id}"


async def _with_permission(uow: UnitOfWork, enterprise_id: str, permission: Permission) -> list[Member]:
    members, _ = await uow.accounts.members_of(enterprise_id, 0, 1000)
    return [m for m in members if m.can(permission)]


async def _reachable(uow: UnitOfWork, apps: dict[str, str], members: list[Member]) -> list[ChatIdentity]:
    """The members' chat identities on the enabled HR apps, of those still in the app."""
    identities = await uow.chat.identities_of([m.user_id for m in members], list(apps))
    return [
        i for i in identities if apps.get(i.channel) == i.app_id and i.user_id is not None and i.following
    ]


def hr_expander(apps: dict[str, str]) -> Expander:
    """`apps`: channel → app id of the HR-facing chat apps that are enabled."""

    async def expand(deps: Deps, uow: UnitOfWork, message: OutboxMessage) -> None:
        if message.kind == "hr_notice":
            await _expand_notice(deps, uow, message, apps)
            return
        if message.kind == "labor_alert":
            await _expand_alert(deps, uow, message, apps)
            return
        if message.kind != "onboarding_submitted":
            return
        record = await uow.get(OnboardingRecord, str(message.payload.get("record_id", "")))
        enterprise = await uow.get(Enterprise, message.recipient)
        if record is None or enterprise is None or record.status != OnboardingStatus.PENDING_REVIEW:
            return
        now = deps.clock.now()
        reviewers = await _with_permission(uow, enterprise.id, Permission.ONBOARDING)
        reached = set()
        users = await uow.accounts.users_by_ids([m.user_id for m in reviewers])
        base = {
            "record_id": record.id,
            "enterprise_id": enterprise.id,
            "enterprise_name": enterprise.name,
            "name": record.name,
            "phone_masked": mask_phone(record.phone),
            "id_number_masked": record.id_number_masked,
            "submitted_at": china_text(record.created_at),
            "labor_note": hiring_note(record.birth_date, china_time(now).date()),
            "link": record_link(deps, record.id),
            "sms": {"enterprise": enterprise.name, "name": record.name},  # for the SMS fallback
        }
        for identity in await _reachable(uow, apps, reviewers):
            card_key = f"ob-{new_id()}"
            uow.add(
                ReviewCard(
                    record_id=record.id, enterprise_id=enterprise.id, channel=identity.channel,
                    recipient=identity.external_id, card_key=card_key, created_at=now,
                )
            )  # fmt: skip
            user = users.get(identity.user_id or "")
            uow.outbox.add(
                ob.chat(
                    identity.channel, identity.external_id, "review_card", f"{record.name}提交了入职资料，请审核",
                    now, card_key=card_key, fallback_phone=user.phone if user else None, **base,
                )
            )  # fmt: skip
            reached.add(identity.user_id)
        for member in reviewers:
            user = users.get(member.user_id)
            if member.user_id in reached or user is None:
                continue
            uow.outbox.add(
                ob.sms(
                    user.phone, "onboarding_submitted",
                    f"【{enterprise.name}】{record.name}提交了入职资料，请登录后台审核：{base['link']}",
                    now, enterprise_id=enterprise.id, record_id=record.id, link=base["link"], sms=base["sms"],
                )
            )  # fmt: skip

    return expand


async def _expand_notice(deps: Deps, uow: UnitOfWork, message: OutboxMessage, apps: dict[str, str]) -> None:
    """A notice goes to every member with the contracts permission: on each chat they bound
    to an enabled HR app, and by SMS to those who chose it in their notice settings."""
    notice = await uow.get(Notice, str(message.payload.get("notice_id", "")))
    enterprise = await uow.get(Enterprise, message.recipient)
    if notice is None or enterprise is None or notice.enterprise_id != enterprise.id:
        return
    now = deps.clock.now()
    told = await _with_permission(uow, enterprise.id, Permission.CONTRACTS)
    link = f"{deps.public_url}/dashboard/contracts/{notice.contract_id}" if notice.contract_id else None
    payload = {"notice_id": notice.id, "enterprise_id": enterprise.id, "link": link}
    contract = await uow.get(Contract, notice.contract_id) if notice.contract_id else None
    term = (await labor.term_texts(uow, [contract])).get(contract.id, []) if contract else []
    text = "\n".join([notice.text, *term])  # the contract's term, as the web shows it
    for identity in await _reachable(uow, apps, told):
        uow.outbox.add(ob.chat(identity.channel, identity.external_id, "hr_notice", text, now, **payload))
    by_sms = await uow.notices.sms_wanted([m.id for m in told])
    users = await uow.accounts.users_by_ids([m.user_id for m in told if m.id in by_sms])
    for user in users.values():
        text = f"【{enterprise.name}】{notice.text}" + (f"，详情：{link}" if link else "")
        sms = {"enterprise": enterprise.name, "notice": notice.text}
        uow.outbox.add(ob.sms(user.phone, "hr_notice", text, now, sms=sms, **payload))


async def _expand_alert(deps: Deps, uow: UnitOfWork, message: OutboxMessage, apps: dict[str, str]) -> None:
    """A labor-law deadline (core's alert text) to every member with the contracts permission
    bound on an enabled HR app; their SMS was written with the row."""
    enterprise_id = str(message.payload.get("enterprise_id", ""))
    told = await _with_permission(uow, enterprise_id, Permission.CONTRACTS)
    now = deps.clock.now()
    payload = {k: message.payload.get(k) for k in ("enterprise_id", "employee_id", "alert", "link")}
    for identity in await _reachable(uow, apps, told):
        uow.outbox.add(
            ob.chat(identity.channel, identity.external_id, "labor_alert", message.text, now, **payload)
        )


@dataclass
class CardResult:
    text: str  # what the card now says, e.g. 已通过（张三）
    acted: bool
    card: ReviewCard | None = None


async def decide(
    deps: Deps, channel: str, app_id: str, card_key: str, operator: str, action: str, response_code: str = ""
) -> CardResult:
    """A button press on a review card. Only a bound member with the onboarding permission
    acts; a second press (or a press on another HR member's copy) acts no more."""
    async with deps.uow() as uow:
        card = await uow.chat.card(channel, card_key)
        identity = await uow.chat.identity(channel, app_id, operator)
        member = user = enterprise = None
        if card is not None and identity is not None and identity.user_id:
            member = await uow.accounts.member(card.enterprise_id, identity.user_id)
            user = await uow.get(User, identity.user_id)
            enterprise = await uow.get(Enterprise, card.enterprise_id)
    if card is None:
        return CardResult("卡片已失效", False)
    if card.status != CardStatus.OPEN:
        text = _decided_text(card.decision, card.decided_by)
        await _update_pressed(deps, card, text, response_code)
        return CardResult(text, False, card)
    if member is None or user is None or enterprise is None or not member.can(Permission.ONBOARDING):
        return CardResult("无审核权限", False, card)
    if action not in ("approve", "reject"):
        return CardResult("未知操作", False, card)
    # Presses on two cards of one record (WeCom and DingTalk, any host) are told apart by
    # the database: each card is claimed once, and approve/reject lock the record's row.
    if not await _claim(deps, channel, card_key):  # a second press stops here
        async with deps.uow() as uow:
            fresh = await uow.chat.card(channel, card_key)
        by = fresh.decided_by if fresh else None
        return CardResult(_decided_text(fresh.decision if fresh else None, by), False, fresh)
    actor = Actor(user=user, enterprise=enterprise, member=member)
    acted = True
    try:
        if action == "approve":
            await roster_service.approve(deps, actor, card.record_id)
        else:
            await roster_service.reject(deps, actor, card.record_id, REJECT_REASON)
        decision, by = action, member.name
    except WrongState:  # decided elsewhere (dashboard, another HR member's card)
        acted = False
        async with deps.uow() as uow:
            record = await uow.get(OnboardingRecord, card.record_id)
            reviewer = (
                await uow.accounts.member(card.enterprise_id, record.reviewed_by or "") if record else None
            )
        decision = "approve" if record and record.status == OnboardingStatus.APPROVED else "reject"
        by = reviewer.name if reviewer else ""
    except DomainError as exc:
        async with deps.uow() as uow:  # give the card back: nothing happened
            fresh = await uow.chat.card(channel, card_key)
            if fresh is not None:
                fresh.release()
                await uow.commit()
        return CardResult(exc.message, False, card)
    await _close_cards(deps, card, decision, by, response_code)
    return CardResult(_decided_text(decision, by), acted, card)


async def _claim(deps: Deps, channel: str, card_key: str) -> bool:
    try:
        async with deps.uow() as uow:
            card = await uow.chat.card(channel, card_key)
            if card is None:
                return False
            card.claim()
            await uow.commit()
    except WrongState:  # decided already, or claimed by a press on another host (Conflict)
        return False
    return True


def _decided_text(decision: str | None, by: str | None) -> str:
    label = ONBOARDING_STATUS_LABELS[
        OnboardingStatus.APPROVED if decision == "approve" else OnboardingStatus.REJECTED
    ]
    return f"{label}（{by}）" if by else label


async def _close_cards(deps: Deps, pressed: ReviewCard, decision: str, by: str, response_code: str) -> None:
    """Records the outcome on every copy of the card and queues the visible updates: the
    pressed card, and the other copies on channels that can update any card (a WeCom update
    needs the response code of a press, so other WeCom copies show the outcome when pressed)."""
    now = deps.clock.now()
    text = _decided_text(decision, by)
    async with deps.uow() as uow:
        for card in await uow.chat.cards_of(pressed.record_id):
            if card.decision is None:
                card.decide(decision, by, now)
            adapter = registry.adapter(card.channel)
            if card.id == pressed.id or (adapter is not None and adapter.update_every_copy):
                _queue_update(uow, card, text, response_code if card.id == pressed.id else "", now)
        await uow.commit()


async def _update_pressed(deps: Deps, card: ReviewCard, text: str, response_code: str) -> None:
    async with deps.uow() as uow:
        _queue_update(uow, card, text, response_code, deps.clock.now())
        await uow.commit()


def _queue_update(uow: UnitOfWork, card: ReviewCard, text: str, response_code: str, now: datetime) -> None:
    adapter = registry.adapter(card.channel)
    update = adapter.card_update(card, text, response_code, now) if adapter is not None else None
    if update is not None:
        uow.outbox.add(update)
