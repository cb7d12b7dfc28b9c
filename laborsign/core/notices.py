"""HR notices: what HR is told about its contracts (a worker signed and the seal is awaited,
a worker declined, a contract completed, lapsed or was withdrawn). One notice per enterprise,
made by the handler table from the contract's domain event; members with the contracts
permission read it in the dashboard and on their bound chat (SMS only where they chose it).

Read state per member: a watermark (every notice up to it is read, set by 全部已读) plus a
mark per notice read one by one after it, so counting the unread only looks past the
watermark, however many notices the enterprise has."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from .contracts import ContractStatus
from .events import (
    ContractChange,
    ContractCompleted,
    ContractDeclined,
    ContractExpired,
    ContractWithdrawn,
    DomainEvent,
    PartySigned,
)
from .ids import new_id


class NoticeKind(enum.StrEnum):
    WORKER_SIGNED = "worker_signed"
    WORKER_DECLINED = "worker_declined"
    CONTRACT_COMPLETED = "contract_completed"
    CONTRACT_EXPIRED = "contract_expired"
    CONTRACT_WITHDRAWN = "contract_withdrawn"


NOTICE_KIND_LABELS = {
    NoticeKind.WORKER_SIGNED: "劳动者已签署",
    NoticeKind.WORKER_DECLINED: "劳动者拒签",
    NoticeKind.CONTRACT_COMPLETED: "合同签署完成",
    NoticeKind.CONTRACT_EXPIRED: "合同已过期",
    NoticeKind.CONTRACT_WITHDRAWN: "合同已撤回",
}

MAX_READ_IDS = 100  # ids in one POST /notices/read: a page of the list


@dataclass(eq=False)
class Notice:
    enterprise_id: str
    kind: str
    text: str
    created_at: datetime
    contract_id: str | None = None
    employee_id: str | None = None
    event_id: str | None = None  # the domain event it tells of: one notice per event
    id: str = field(default_factory=new_id)


@dataclass(eq=False)
class NoticePrefs:
    """A member's notice settings: SMS as well as chat (off unless chosen), and the time up to
    which every notice counts as read."""

    member_id: str
    notify_by_sms: bool = False
    read_until: datetime | None = None


def notice_for(event: DomainEvent) -> Notice | None:
    """The notice HR gets for a contract event, or None when it tells HR nothing to act on."""
    if not isinstance(event, ContractChange):
        return None
    who, what = event.worker_name, f"《{event.name}》"
    if isinstance(event, PartySigned):
        if event.party != "worker" or event.status != ContractStatus.SIGNING:
            return None  # the enterprise's own seal, or the last signature (completed says it)
        kind, text = NoticeKind.WORKER_SIGNED, f"{who}已签署{what}，等待企业盖章"
    elif isinstance(event, ContractDeclined):
        kind, text = NoticeKind.WORKER_DECLINED, f"{who}拒签了{what}，理由：{event.reason}"
    elif isinstance(event, ContractCompleted):
        kind, text = NoticeKind.CONTRACT_COMPLETED, f"与{who}的{what}已签署完成"
    elif isinstance(event, ContractExpired):
        kind, text = NoticeKind.CONTRACT_EXPIRED, f"与{who}的{what}超过签署截止时间未完成，已过期"
    elif isinstance(event, ContractWithdrawn):
        kind, text = NoticeKind.CONTRACT_WITHDRAWN, f"与{who}的{what}已撤回，原因：{event.reason}"
    else:
        return None
    return Notice(
        enterprise_id=event.enterprise_id, kind=kind, text=text, created_at=event.at,
        contract_id=event.contract_id, employee_id=event.employee_id, event_id=event.id,
    )  # fmt: skip
