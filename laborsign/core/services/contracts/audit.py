"""A contract's audit trail: who did what, from where. Services put the entry on the domain
event they record; the handler table chains it onto the contract's audit rows on commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...contracts import Contract
from ...events import AuditEntry, ContractAudited
from ..accounts import Actor


@dataclass
class Context:
    """Who did it and from where, for the audit trail."""

    ip: str = ""
    user_agent: str = ""


def audit_entry(
    contract: Contract,
    kind: str,
    ctx: Context,
    *,
    actor_type: str,
    actor_id: str | None,
    actor_name: str,
    method: str | None = None,
    **details: Any,
) -> AuditEntry:
    """The audit row a change leaves, to travel with its domain event (`audit=`): the handler
    table writes it when the unit of work commits (core/handlers.py write_contract_audit)."""
    return AuditEntry(
        kind=kind, actor_type=actor_type, actor_id=actor_id, actor_name=actor_name,
        document_sha256=contract.document_sha256, ip=ctx.ip, user_agent=ctx.user_agent, method=method,
        details=details,
    )  # fmt: skip


def audited(
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
) -> ContractAudited:
    """A fact only the audit trail keeps, as an event to record on the unit of work."""
    entry = audit_entry(
        contract, kind, ctx, actor_type=actor_type, actor_id=actor_id, actor_name=actor_name, method=method,
        **details,
    )  # fmt: skip
    return ContractAudited(enterprise_id=contract.enterprise_id, at=now, contract_id=contract.id, audit=entry)


def enterprise_actor(actor: Actor) -> tuple[str, str | None, str]:
    if actor.member is not None:
        return "enterprise", actor.member.user_id, actor.member.name
    if actor.api_key is not None:
        return "integrator", actor.api_key.id, f"API密钥 {actor.api_key.name}"
    return "enterprise", None, "企业"
