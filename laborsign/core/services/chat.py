"""Chat-channel use cases the dashboard needs: the dead-letter list and sending again."""

from __future__ import annotations

from ..accounts import Permission
from ..chat import DeadLetter
from ..outbox import OutboxMessage
from ..ports import Deps
from .accounts import Actor


async def dead_letters(deps: Deps, actor: Actor, page: int, per_page: int) -> tuple[list[DeadLetter], int]:
    enterprise = actor.require(Permission.ONBOARDING)
    async with deps.uow() as uow:
        return await uow.chat.dead_letters(enterprise.id, (page - 1) * per_page, per_page)


async def retry_dead_letters(deps: Deps, actor: Actor) -> int:
    """Every dead message of this enterprise gets a fresh round of tries."""
    enterprise = actor.require(Permission.ONBOARDING)
    now = deps.clock.now()
    count = 0
    async with deps.uow() as uow:
        letters, _ = await uow.chat.dead_letters(enterprise.id, 0, 500)
        for letter in letters:
            message = await uow.get(OutboxMessage, letter.message_id)
            letter.mark_retried(now)
            if message is not None:
                message.revive(now)
                count += 1
        await uow.commit()
    return count
