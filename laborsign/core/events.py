"""Domain events: facts a state change leaves behind, recorded on the unit of work.

A service records one after the owner's method changed the state (`uow.record(...)`); when
the unit of work commits it hands them to the handler table (`core/handlers.py`), which runs
in the same transaction, so a side effect (an integrator delivery, an HR card) exists exactly
when the change does. Each event has its own id, made once: every delivery and redelivery of
it carries the same id, which is what lets a receiver deduplicate."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from .clock import iso
from .ids import new_id

if TYPE_CHECKING:
    from .contracts import Contract


# A field with this metadata travels with the event to its handlers but is not part of what
# the event says to integrators (`data()`): the audit row's context, a link to a page.
INTERNAL: dict[str, bool] = {"internal": True}


@dataclass(frozen=True)
class AuditEntry:
    """The contract audit row a change leaves (core/handlers.py write_contract_audit): who did
    it, from where and how, and the document as it stood then."""

    kind: str
    actor_type: str  # worker | enterprise | integrator | system
    actor_id: str | None
    actor_name: str
    document_sha256: str
    ip: str = ""
    user_agent: str = ""
    method: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    type: ClassVar[str]  # the public code integrators subscribe to, e.g. "contract.completed"
    label: ClassVar[str]

    enterprise_id: str
    at: datetime
    id: str = field(default_factory=new_id)
    audit: AuditEntry | None = field(default=None, metadata=INTERNAL)

    def data(self) -> dict[str, Any]:
        """What the event says beyond who, when and which: its own fields."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("enterprise_id", "at", "id") or f.metadata.get("internal"):
                continue
            value = getattr(self, f.name)
            out[f.name] = iso(value) if isinstance(value, datetime) else value
        return out


@dataclass(frozen=True, kw_only=True)
class OnboardingSubmitted(DomainEvent):
    type = "onboarding.submitted"
    label = "提交入职资料"
    record_id: str
    name: str


@dataclass(frozen=True, kw_only=True)
class OnboardingApproved(DomainEvent):
    type = "onboarding.approved"
    label = "入职审核通过"
    record_id: str
    employee_id: str
    name: str


@dataclass(frozen=True, kw_only=True)
class OnboardingRejected(DomainEvent):
    type = "onboarding.rejected"
    label = "入职审核驳回"
    record_id: str
    name: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class EmployeeResigned(DomainEvent):
    type = "employee.resigned"
    label = "员工离职"
    employee_id: str
    name: str
    resigned_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class ContractChange(DomainEvent):
    """What every contract event names: the contract and the employee it is with."""

    type = ""
    label = ""
    contract_id: str
    name: str
    status: str
    employee_id: str
    worker_name: str


@dataclass(frozen=True, kw_only=True)
class ContractLaunched(ContractChange):
    type = "contract.launched"
    label = "合同发起"
    sign_deadline: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class PartySigned(ContractChange):
    type = "contract.signed"
    label = "一方签署"
    party: str  # worker | enterprise


@dataclass(frozen=True, kw_only=True)
class ContractCompleted(ContractChange):
    type = "contract.completed"
    label = "合同签署完成"
    document_sha256: str
    link: str = field(default="", metadata=INTERNAL)  # the worker's page of the contract


@dataclass(frozen=True, kw_only=True)
class ContractWithdrawn(ContractChange):
    type = "contract.withdrawn"
    label = "合同撤回"
    reason: str


@dataclass(frozen=True, kw_only=True)
class ContractDeclined(ContractChange):
    type = "contract.declined"
    label = "劳动者拒签"
    reason: str


@dataclass(frozen=True, kw_only=True)
class ContractExpired(ContractChange):
    type = "contract.expired"
    label = "合同过期"


@dataclass(frozen=True, kw_only=True)
class ContractAudited(DomainEvent):
    """A fact only the contract's audit trail keeps (viewed, re-initiated, a failed face
    check, …): `audit` says which. Internal (not in EVENT_CLASSES)."""

    type = "contract.audited"
    label = "合同审计记录"
    contract_id: str


@dataclass(frozen=True, kw_only=True)
class WorkerAskedToSign(DomainEvent):
    """It is the worker's turn to sign (at launch, or once the enterprise signed first), or HR
    urges them (`reminder`): they get the link by SMS and chat. Internal (not in
    EVENT_CLASSES)."""

    type = "contract.worker_asked"
    label = "邀请劳动者签署"
    contract_id: str
    reminder: bool = False
    link: str


@dataclass(frozen=True, kw_only=True)
class WorkerInvited(DomainEvent):
    """HR invited a person to join by name and phone: the invitation SMS. Internal (not in
    EVENT_CLASSES): integrators are not offered it."""

    type = "invitation.sent"
    label = "邀请入职"
    invitation_id: str
    name: str
    phone: str
    enterprise_name: str
    link: str


@dataclass(frozen=True, kw_only=True)
class LaborAlertRaised(DomainEvent):
    """A labor-law alert (no written contract, renewal due, …) met for the first time: the
    enterprise's HR hear of it. Internal (not in EVENT_CLASSES)."""

    type = "labor.alert"
    label = "用工风险提醒"
    kind: str
    kind_label: str
    text: str
    employee_id: str
    employee_name: str
    due_date: str
    enterprise_name: str
    link: str


EVENT_CLASSES: tuple[type[DomainEvent], ...] = (
    OnboardingSubmitted,
    OnboardingApproved,
    OnboardingRejected,
    EmployeeResigned,
    ContractLaunched,
    PartySigned,
    ContractCompleted,
    ContractWithdrawn,
    ContractDeclined,
    ContractExpired,
)
EVENT_TYPES: dict[str, type[DomainEvent]] = {cls.type: cls for cls in EVENT_CLASSES}
EVENT_TYPE_LABELS: dict[str, str] = {cls.type: cls.label for cls in EVENT_CLASSES}


def contract_facts(contract: Contract) -> dict[str, Any]:
    """The common fields of a contract event, read off the contract."""
    return {
        "enterprise_id": contract.enterprise_id,
        "contract_id": contract.id,
        "name": contract.name,
        "status": str(contract.status),
        "employee_id": contract.employee_id,
        "worker_name": contract.worker_name,
    }
