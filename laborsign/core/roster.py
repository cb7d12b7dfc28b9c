"""The roster (员工花名册): departments, employees and invitations to join.

Resignation follows the seed: 办理离职 (reason) → 待确认离职 → 确认离职 (handover) → 已离职."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from .errors import Invalid, WrongState
from .ids import new_id


class EmployeeStatus(enum.StrEnum):
    ACTIVE = "active"
    RESIGNING = "resigning"
    RESIGNED = "resigned"


EMPLOYEE_STATUS_LABELS = {
    EmployeeStatus.ACTIVE: "在职",
    EmployeeStatus.RESIGNING: "待确认离职",
    EmployeeStatus.RESIGNED: "已离职",
}


def validate_department_name(raw: object) -> str:
    name = str(raw or "").strip()
    if not name:
        raise Invalid.field("name", "请填写部门名称")
    if len(name) > 50:
        raise Invalid.field("name", "部门名称不能超过50个字符")
    return name


@dataclass(eq=False)
class Department:
    enterprise_id: str
    name: str
    created_at: datetime
    parent_id: str | None = None
    id: str = field(default_factory=new_id)


def _text(raw: object, field_name: str, label: str, required: bool, limit: int = 200) -> str | None:
    text = str(raw or "").strip()
    if not text:
        if required:
            raise Invalid.field(field_name, f"请填写{label}")
        return None
    if len(text) > limit:
        raise Invalid.field(field_name, f"{label}不能超过{limit}个字符")
    return text


class RosterRow(NamedTuple):
    """What one roster export row needs of an employee, read without building an Employee."""

    id: str
    created_at: datetime
    name: str
    phone: str
    gender: str | None
    id_type: str | None
    id_number_masked: str | None
    birth_date: date | None
    department_id: str | None
    position: str | None
    hire_date: date | None
    status: str
    resigned_at: datetime | None


@dataclass(eq=False)
class Employee:
    enterprise_id: str
    name: str
    phone: str
    created_at: datetime
    user_id: str | None = None
    gender: str | None = None
    id_type: str | None = None
    id_number_enc: str | None = None
    id_number_hash: str | None = None
    id_number_masked: str | None = None
    birth_date: date | None = None
    address: str | None = None
    emergency_contact: dict[str, Any] = field(default_factory=dict)
    department_id: str | None = None
    position: str | None = None
    hire_date: date | None = None
    status: str = EmployeeStatus.ACTIVE
    resign_reason: str | None = None
    resign_remark: str | None = None
    handover_to: str | None = None
    resigned_at: datetime | None = None
    onboarding_id: str | None = None
    id: str = field(default_factory=new_id)

    def start_resignation(self, reason: object, remark: object) -> None:
        if self.status != EmployeeStatus.ACTIVE:
            raise WrongState(
                f"员工当前状态为{EMPLOYEE_STATUS_LABELS[EmployeeStatus(self.status)]}，不能办理离职",
                "not_active",
            )
        self.resign_reason = _text(reason, "reason", "离职原因", True)
        self.resign_remark = _text(remark, "remark", "离职备注", False)
        self.status = EmployeeStatus.RESIGNING

    def confirm_resignation(self, handover_to: object, remark: object, now: datetime) -> None:
        if self.status != EmployeeStatus.RESIGNING:
            raise WrongState("只有待确认离职的员工可以确认离职，请先办理离职", "not_resigning")
        self.handover_to = _text(handover_to, "handover_to", "离职交接人", True, 50)
        extra = _text(remark, "remark", "离职备注", False)
        if extra:
            self.resign_remark = extra
        self.status = EmployeeStatus.RESIGNED
        self.resigned_at = now

    def move_to(self, department_id: str | None) -> None:
        if self.status == EmployeeStatus.RESIGNED:
            raise WrongState("已离职员工不能调整部门", "resigned")
        self.department_id = department_id


class InvitationStatus(enum.StrEnum):
    SENT = "sent"
    JOINED = "joined"  # the worker submitted onboarding data


@dataclass(eq=False)
class JoinLink:
    """An enterprise's invite link / QR code. One active token per enterprise; regenerating
    it makes old links stop working."""

    enterprise_id: str
    token: str
    created_at: datetime
    active: bool = True
    id: str = field(default_factory=new_id)

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(12)


def invitation_text(name: str, enterprise_name: str) -> str:
    """The invitation SMS (one invitation by the handler table, many in bulk by the service)."""
    return f"{name}您好，【{enterprise_name}】邀请您办理入职，请点击链接填写入职资料："


@dataclass(eq=False)
class Invitation:
    enterprise_id: str
    name: str
    phone: str
    token: str
    created_at: datetime
    created_by: str
    department_id: str | None = None
    batch: str | None = None
    status: str = InvitationStatus.SENT
    id: str = field(default_factory=new_id)

    def joined(self) -> None:
        """The invited worker submitted their onboarding data (an invitation answered once)."""
        if self.status == InvitationStatus.SENT:
            self.status = InvitationStatus.JOINED
