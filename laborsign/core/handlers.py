"""The handler table: what follows from each domain event, run by the unit of work when it
commits, inside the same transaction (the cosmicpython message bus, without its commands).

A handler only writes rows — outbox messages above all — so it never sends anything itself
and a failed transaction leaves no trace of it. An event recorded by a handler is handled in
the same commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from . import outbox as ob
from .accounts import Enterprise, Permission, User
from .contracts import Contract, chain_event
from .events import (
    EVENT_CLASSES,
    ContractAudited,
    ContractChange,
    ContractCompleted,
    ContractDeclined,
    ContractExpired,
    ContractLaunched,
    ContractWithdrawn,
    DomainEvent,
    LaborAlertRaised,
    OnboardingApproved,
    OnboardingRejected,
    OnboardingSubmitted,
    PartySigned,
    WorkerAskedToSign,
    WorkerInvited,
)
from .integrations import event_body
from .notices import notice_for
from .notify import notify_person
from .onboarding import OnboardingRecord
from .outbox import Channel, OutboxMessage
from .ports import UnitOfWork
from .roster import invitation_text

Handler = Callable[[UnitOfWork, DomainEvent], Awaitable[None]]


async def deliver_to_integrators(uow: UnitOfWork, event: DomainEvent) -> None:
    """One delivery per endpoint of the enterprise subscribed to the event's type."""
    endpoints = await uow.integrations.subscribed(event.enterprise_id, event.type)
    if not endpoints:
        return
    body = event_body(event)
    for endpoint in endpoints:
        uow.outbox.add(
            OutboxMessage(
                channel=Channel.WEBHOOK,
                recipient=endpoint.id,
                kind=event.type,
                text=event.label,
                created_at=event.at,
                next_attempt_at=event.at,
                payload={"event": body, "enterprise_id": event.enterprise_id},
                dedupe_key=f"webhook:{endpoint.id}:{event.id}",
            )
        )


def _to_hr(event: DomainEvent, kind: str, text: str, **payload: Any) -> OutboxMessage:
    """An HR row: the enterprise's recipients are chosen when it is delivered (bots/hr.py)."""
    return OutboxMessage(
        channel=Channel.HR,
        recipient=event.enterprise_id,
        kind=kind,
        text=text,
        created_at=event.at,
        next_attempt_at=event.at,
        payload={**payload, "enterprise_id": event.enterprise_id},
    )


async def ask_hr_to_review(uow: UnitOfWork, event: DomainEvent) -> None:
    """The enterprise's HR reviewers get a card (expanded per channel by the deliverer)."""
    assert isinstance(event, OnboardingSubmitted)
    uow.outbox.add(
        _to_hr(
            event, "onboarding_submitted", f"{event.name}提交了入职资料，请审核", record_id=event.record_id
        )
    )


async def tell_hr(uow: UnitOfWork, event: DomainEvent) -> None:
    """The enterprise's notice, and an HR row the deliverer expands into a message to every
    member with the contracts permission on their bound chat (and SMS where they chose it)."""
    notice = notice_for(event)
    if notice is None:
        return
    uow.add(notice)
    uow.outbox.add(
        _to_hr(event, "hr_notice", notice.text, notice_id=notice.id, notice_kind=notice.kind,
               contract_id=notice.contract_id)
    )  # fmt: skip


async def tell_worker_of_review(uow: UnitOfWork, event: DomainEvent) -> None:
    """The worker hears the review's outcome by SMS (and on their bound chat)."""
    assert isinstance(event, OnboardingApproved | OnboardingRejected)
    record = await uow.get(OnboardingRecord, event.record_id)
    enterprise = await uow.get(Enterprise, event.enterprise_id)
    worker = await uow.get(User, record.user_id) if record is not None else None
    if record is None or enterprise is None or worker is None:
        return
    if isinstance(event, OnboardingApproved):
        kind, result = "onboarding_approved", "已审核通过，欢迎加入！"
        text = f"您提交给【{enterprise.name}】的入职资料{result}"
    else:
        kind, result = "onboarding_rejected", f"未通过审核，原因：{event.reason}。请修改后重新提交。"
        text = f"您提交给【{enterprise.name}】的入职资料{result}"
    await notify_person(
        uow, phone=worker.phone, user_id=worker.id, kind=kind, text=text, link=None, now=event.at,
        enterprise_id=enterprise.id, record_id=record.id, sms={"enterprise": enterprise.name, "result": result},
    )  # fmt: skip


async def write_contract_audit(uow: UnitOfWork, event: DomainEvent) -> None:
    """The contract's audit row, chained onto the ones before it (recorded events are handled
    in order, so the chain follows the order of the changes)."""
    assert isinstance(event, ContractChange | ContractAudited | WorkerAskedToSign)
    entry = event.audit
    if entry is None:
        return
    previous = await uow.contracts.last_event(event.contract_id)
    uow.add(
        chain_event(
            previous, contract_id=event.contract_id, kind=entry.kind, at=event.at, actor_type=entry.actor_type,
            actor_id=entry.actor_id, actor_name=entry.actor_name, ip=entry.ip[:64], user_agent=entry.user_agent[:300],
            method=entry.method, document_sha256=entry.document_sha256, details=entry.details,
        )
    )  # fmt: skip
    await uow.flush()


async def _tell_worker(
    uow: UnitOfWork, event: DomainEvent, contract: Contract, kind: str, text: str, link: str | None,
    sms: dict[str, str],
) -> None:  # fmt: skip
    await notify_person(
        uow, phone=contract.worker_phone, user_id=contract.worker_user_id, kind=kind, text=text, link=link,
        now=event.at, contract_id=contract.id, enterprise_id=contract.enterprise_id, sms=sms,
    )  # fmt: skip


async def ask_worker_to_sign(uow: UnitOfWork, event: DomainEvent) -> None:
    """The worker's invitation to sign, or HR's reminder: the link to the contract."""
    assert isinstance(event, WorkerAskedToSign)
    contract = await uow.get(Contract, event.contract_id)
    if contract is None:
        return
    enterprise = contract.enterprise_party["name"]
    if event.reminder:
        kind = "contract_reminder"
        text = f"【{enterprise}】提醒您尽快签署《{contract.name}》，点击链接直接签署："
    else:
        kind = "contract_to_sign"
        text = f"【{enterprise}】邀请您签署《{contract.name}》，请点击链接查看并签署："
    sms = {"enterprise": enterprise, "contract": contract.name}
    await _tell_worker(uow, event, contract, kind, text, event.link, sms)


async def tell_worker_of_end(uow: UnitOfWork, event: DomainEvent) -> None:
    """The worker hears that their contract was withdrawn, expired or completed (a certificate
    only the enterprise seals is "issued" to them rather than "signed by both")."""
    assert isinstance(event, ContractWithdrawn | ContractExpired | ContractCompleted)
    contract = await uow.get(Contract, event.contract_id)
    if contract is None:
        return
    enterprise = contract.enterprise_party["name"]
    link: str | None = None
    if isinstance(event, ContractWithdrawn):
        kind = "contract_withdrawn"
        text = f"【{enterprise}】已撤回《{contract.name}》，原因：{event.reason}。"
        sms = {"enterprise": enterprise, "contract": contract.name, "reason": event.reason}
    elif isinstance(event, ContractExpired):
        kind, text = "contract_expired", f"《{contract.name}》已超过签署截止时间，合同已过期。"
        sms = {"contract": contract.name}
    else:
        link = event.link
        sms = {"contract": contract.name, "enterprise": enterprise}
        if contract.source == "certificate":
            kind = "certificate_issued"
            text = f"【{enterprise}】已为您出具《{contract.name}》，可随时查看和下载："
        else:
            kind, text = "contract_completed", f"《{contract.name}》已由双方签署完成，可随时查看和下载："
    await _tell_worker(uow, event, contract, kind, text, link, sms)


async def send_invitation(uow: UnitOfWork, event: DomainEvent) -> None:
    assert isinstance(event, WorkerInvited)
    await notify_person(
        uow, phone=event.phone, user_id=None, kind="invitation", link=event.link, now=event.at,
        text=invitation_text(event.name, event.enterprise_name),
        invitation_id=event.invitation_id, sms={"name": event.name, "enterprise": event.enterprise_name},
    )  # fmt: skip


async def tell_hr_of_alert(uow: UnitOfWork, event: DomainEvent) -> None:
    """Every member with the contracts permission by SMS, and one HR row that the deliverer
    expands to every such member bound on an HR app (WeCom, DingTalk, Feishu)."""
    assert isinstance(event, LaborAlertRaised)
    members, _ = await uow.accounts.members_of(event.enterprise_id, 0, 1000)
    hr = [m for m in members if m.can(Permission.CONTRACTS)]
    users = await uow.accounts.users_by_ids([m.user_id for m in hr])
    facts = {"employee_id": event.employee_id, "alert": event.kind}
    sms = {"enterprise": event.enterprise_name, "name": event.employee_name, "event": event.kind_label, "date": event.due_date}
    for member in hr:
        user = users.get(member.user_id)
        if user is not None:
            uow.outbox.add(ob.sms(
                user.phone, "labor_alert", f"{event.text} {event.link}", event.at, link=event.link,
                enterprise_id=event.enterprise_id, sms=sms, **facts,
            ))  # fmt: skip
    uow.outbox.add(ob.to_hr(event.enterprise_id, "labor_alert", event.text, event.at, link=event.link, **facts))


HANDLERS: dict[type[DomainEvent], tuple[Handler, ...]] = {
    cls: (deliver_to_integrators,) for cls in EVENT_CLASSES
}
HANDLERS[OnboardingSubmitted] = (ask_hr_to_review, deliver_to_integrators)
HANDLERS[WorkerInvited] = (send_invitation,)
HANDLERS[LaborAlertRaised] = (tell_hr_of_alert,)
HANDLERS[OnboardingApproved] = (deliver_to_integrators, tell_worker_of_review)
HANDLERS[OnboardingRejected] = (deliver_to_integrators, tell_worker_of_review)
HANDLERS[ContractAudited] = (write_contract_audit,)
HANDLERS[WorkerAskedToSign] = (write_contract_audit, ask_worker_to_sign)
HANDLERS[ContractLaunched] = (write_contract_audit, deliver_to_integrators)
for _told in (PartySigned, ContractDeclined):
    HANDLERS[_told] = (write_contract_audit, deliver_to_integrators, tell_hr)
for _ended in (ContractCompleted, ContractExpired, ContractWithdrawn):
    HANDLERS[_ended] = (write_contract_audit, tell_worker_of_end, deliver_to_integrators, tell_hr)


async def dispatch(uow: UnitOfWork, events: list[DomainEvent]) -> None:
    for event in events:
        for handler in HANDLERS.get(type(event), ()):
            await handler(uow, event)
