"""A contract's audit trail: who did what, from where, chained onto the contract's events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...contracts import Contract, ContractEvent, chain_event
from ...ports import UnitOfWork
from ..accounts import Actor


@dataclass
class Context:
    """Who did it and from where, for the audit trail."""

    ip: str = ""
    user_agent: str = ""


async def record_event(
    uow: UnitOfWork,
    contract: Contract,
    kind: str,
    now: datetime,
    ctx: Context,
    *,
    actor_type: str,
    actor_id: str | None,
    actor_name: str,
    method: str | None = None,
    **details: Any,
) -> ContractEvent:
    previous = await uow.contracts.last_event(contract.id)
    event = chain_event(
        previous,
        contract_id=contract.id,
        kind=kind,
        at=now,
        actor_type=actor_type,
        actor_id=actor_id,
        actor_name=actor_name,
        ip=ctx.ip[:64],
        user_agent=ctx.user_agent[:300],
        method=method,
        document_sha256=contract.document_sha256,
        details=details,
    )
    uow.add(event)
    await uow.flush()
    return event


def enterprise_actor(actor: Actor) -> tuple[str, str | None, str]:
    if actor.member is not None:
        return "enterprise", actor.member.user_id, actor.member.name
    if actor.api_key is not None:
        return "integrator", actor.api_key.id, f"API密钥 {actor.api_key.name}"
    return "enterprise", None, "企业"
