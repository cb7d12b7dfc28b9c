"""What happens to a launched contract besides signing: viewed, reminded, withdrawn and
re-initiated, declined, expired."""

from __future__ import annotations

import uuid

from ...accounts import Permission
from ...budgets import spend
from ...contracts import Contract, PartyRole, PartyStatus
from ...errors import Conflict, Invalid, WrongState
from ...events import ContractDeclined, ContractExpired, ContractWithdrawn, WorkerAskedToSign, contract_facts
from ...ports import Deps
from ...verification import require_enterprise_verified
from .. import labor
from ..accounts import Actor
from .audit import Context, audit_entry, audited, enterprise_actor
from .launch import sign_link, store_and_launch
from .queries import enterprise_contract, worker_contract


async def mark_viewed(deps: Deps, actor: Actor, contract_id: str, ctx: Context) -> None:
    """The worker's first look at a contract goes into the audit trail (SPEC §2.8)."""
    async with deps.uow() as uow:
        contract = await worker_contract(uow, actor, contract_id)
        user = actor.require_user()
        events = await uow.contracts.events_of(contract.id)
        if any(e.kind == "viewed" and e.actor_id == user.id for e in events):
            return
        uow.record(audited(
            contract, "viewed", deps.clock.now(), ctx,
            actor_type="worker", actor_id=user.id, actor_name=contract.worker_name,
        ))  # fmt: skip
        await uow.commit()


async def remind(deps: Deps, actor: Actor, contract_id: str, ctx: Context) -> Contract:
    now = deps.clock.now()
    async with deps.uow() as uow:
        contract = await enterprise_contract(uow, actor, contract_id)
        parties = (await uow.contracts.parties_of([contract.id]))[contract.id]
        worker = next(p for p in parties if p.role == PartyRole.WORKER)
        contract.check_remind(now)
        if worker.status != PartyStatus.PENDING:
            raise WrongState("劳动者已签署，无需催签", "worker_already_signed")
        contract.require_turn(PartyRole.WORKER, parties)  # enterprise first: nothing to urge yet
        contract.remind(now)
        kind, actor_id, actor_name = enterprise_actor(actor)
        entry = audit_entry(
            contract, "reminded", ctx, actor_type=kind, actor_id=actor_id, actor_name=actor_name
        )
        uow.record(WorkerAskedToSign(
            enterprise_id=contract.enterprise_id, at=now, contract_id=contract.id, reminder=True,
            link=sign_link(deps, contract), audit=entry,
        ))  # fmt: skip
        await spend(uow.budgets, deps.limits.reminders_per_enterprise, contract.enterprise_id, now)
        await uow.commit()
    return contract


def _reason(raw: object, label: str) -> str:
    text = str(raw or "").strip()
    if not text:
        raise Invalid.field("reason", f"请填写{label}")
    if len(text) > 200:
        raise Invalid.field("reason", f"{label}不能超过200个字符")
    return text


async def withdraw(deps: Deps, actor: Actor, contract_id: str, reason: object, ctx: Context) -> Contract:
    now = deps.clock.now()
    async with deps.uow() as uow:
        contract = await enterprise_contract(uow, actor, contract_id)
        text = _reason(reason, "撤回原因")
        contract.withdraw(text, now)
        kind, actor_id, actor_name = enterprise_actor(actor)
        entry = audit_entry(
            contract, "withdrawn", ctx, actor_type=kind, actor_id=actor_id, actor_name=actor_name, reason=text
        )
        uow.record(ContractWithdrawn(at=now, reason=text, audit=entry, **contract_facts(contract)))
        await uow.commit()
    return contract


async def reinitiate(
    deps: Deps, actor: Actor, contract_id: str, ctx: Context, confirm_warnings: object = None
) -> Contract:
    """重新发起: a new contract with the same content and parties as a withdrawn one — after
    the labor-law checks of a launch (409 labor_law_warnings unless HR confirms them)."""
    enterprise = actor.require(Permission.CONTRACTS)
    async with deps.uow() as uow:
        old = await enterprise_contract(uow, actor, contract_id)
    old.require_withdrawn()
    require_enterprise_verified(enterprise)
    now = deps.clock.now()
    creator = actor.user.id if actor.user else old.created_by
    fresh = Contract(
        enterprise_id=old.enterprise_id, batch_id=uuid.uuid4().hex, name=old.name, employee_id=old.employee_id,
        created_by=creator, created_at=now, source=old.source, document_blob=old.original_blob,
        original_blob=old.original_blob, original_sha256=old.original_sha256, document_sha256=old.original_sha256,
        files=old.files, controls=old.controls, values=old.values, enterprise_party=old.enterprise_party,
        template_ids=old.template_ids, worker_user_id=old.worker_user_id, worker_name=old.worker_name,
        worker_phone=old.worker_phone, reinitiated_from=old.id, signing_order=old.signing_order,
        sign_deadline=old.sign_deadline if old.sign_deadline and old.sign_deadline > now else None,
    )  # fmt: skip
    term = labor.copy_term(await labor.term_of(deps, old))
    check = await labor.recheck(deps, enterprise, old, term)
    if check.errors:
        raise WrongState(
            f"不能重新发起：{check.errors[0].message}", check.errors[0].code, workers=[check.as_dict()]
        )
    labor.require_confirmed({old.employee_id: check}, confirm_warnings)
    contract, _ = await store_and_launch(deps, actor, fresh, ctx, term)
    async with deps.uow() as uow:
        previous = await uow.get_or_404(Contract, old.id)
        kind, actor_id, actor_name = enterprise_actor(actor)
        uow.record(audited(
            previous, "reinitiated", now, ctx, actor_type=kind, actor_id=actor_id, actor_name=actor_name,
            new_contract_id=contract.id,
        ))  # fmt: skip
        await uow.commit()
    return contract


async def decline(deps: Deps, actor: Actor, contract_id: str, reason: object, ctx: Context) -> Contract:
    now = deps.clock.now()
    user = actor.require_user()
    async with deps.uow() as uow:
        contract = await worker_contract(uow, actor, contract_id)
        text = _reason(reason, "拒签原因")
        parties = (await uow.contracts.parties_of([contract.id]))[contract.id]
        worker = next(p for p in parties if p.role == PartyRole.WORKER)
        contract.decline(worker, text, now)
        entry = audit_entry(
            contract, "declined", ctx, actor_type="worker", actor_id=user.id, actor_name=contract.worker_name,
            reason=text,
        )  # fmt: skip
        uow.record(ContractDeclined(at=now, reason=text, audit=entry, **contract_facts(contract)))
        await uow.commit()
    return contract


async def expire_due(deps: Deps, limit: int = 200) -> int:
    """Background job: contracts past their signing deadline become expired. Safe with several
    processes: the mapper's version check lets only one of them commit each expiry (the
    others' transactions fail whole, audit row and notices included, as a Conflict)."""
    now = deps.clock.now()
    done = 0
    async with deps.uow() as uow:
        due = await uow.contracts.due_to_expire(now, limit)
    for candidate in due:
        try:
            async with deps.uow() as uow:
                contract = await uow.get(Contract, candidate.id)
                if contract is None or not contract.expire(now):
                    continue
                entry = audit_entry(
                    contract, "expired", Context(), actor_type="system", actor_id=None, actor_name="平台"
                )
                uow.record(ContractExpired(at=now, audit=entry, **contract_facts(contract)))
                await uow.commit()
        except Conflict:
            continue  # another process expired (or changed) it first
        done += 1
    return done
