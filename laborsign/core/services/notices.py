"""HR notices for the calling member: the enterprise's notices with the member's read state,
marking them read, and the member's notice settings. Members with the contracts permission
(an API key has no read state: it is refused)."""

from __future__ import annotations

from ..accounts import Member, Permission
from ..errors import Forbidden, Invalid
from ..notices import MAX_READ_IDS, Notice, NoticePrefs
from ..ports import Deps
from .accounts import Actor


def _member(actor: Actor) -> tuple[str, Member]:
    enterprise = actor.require(Permission.CONTRACTS)
    if actor.member is None:
        raise Forbidden("通知按成员记录已读状态，请以企业成员身份登录", "member_required")
    return enterprise.id, actor.member


async def page(
    deps: Deps, actor: Actor, page_no: int, per_page: int
) -> tuple[list[tuple[Notice, bool]], int, int]:
    """The page of notices (newest first) with read flags, the total and the unread count."""
    enterprise_id, member = _member(actor)
    async with deps.uow() as uow:
        prefs = await uow.notices.prefs(member.id)
        rows, total = await uow.notices.page(
            enterprise_id, member.id, prefs.read_until, (page_no - 1) * per_page, per_page
        )
        unread = await uow.notices.unread_count(enterprise_id, member.id, prefs.read_until)
    return rows, total, unread


async def mark_read(deps: Deps, actor: Actor, ids: object, everything: object) -> int:
    """Marks the given notices (or all of them) read for the member; returns the unread left.
    Ids of notices that are not the enterprise's are ignored."""
    enterprise_id, member = _member(actor)
    if everything is not True:
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise Invalid(
                "请指定要标记为已读的通知（ids），或全部标记（all: true）", {"ids": "应为通知编号列表"}
            )
        if len(ids) > MAX_READ_IDS:
            raise Invalid(f"一次最多标记{MAX_READ_IDS}条通知", {"ids": f"最多{MAX_READ_IDS}条"})
    now = deps.clock.now()
    async with deps.uow() as uow:
        prefs = await uow.notices.prefs(member.id)
        uow.add(prefs)
        if everything is True:
            await uow.notices.mark_all_read(prefs, now)
        else:
            assert isinstance(ids, list)
            await uow.notices.mark_read(enterprise_id, member.id, [i for i in ids if len(i) <= 32], now)
        unread = await uow.notices.unread_count(enterprise_id, member.id, prefs.read_until)
        await uow.commit()
    return unread


async def settings(deps: Deps, actor: Actor) -> NoticePrefs:
    _, member = _member(actor)
    async with deps.uow() as uow:
        return await uow.notices.prefs(member.id)


async def change_settings(deps: Deps, actor: Actor, notify_by_sms: object) -> NoticePrefs:
    _, member = _member(actor)
    if not isinstance(notify_by_sms, bool):
        raise Invalid("notify_by_sms 应为 true 或 false", {"notify_by_sms": "应为 true 或 false"})
    async with deps.uow() as uow:
        prefs = await uow.notices.prefs(member.id)
        uow.add(prefs)
        prefs.notify_by_sms = notify_by_sms
        await uow.commit()
    return prefs
