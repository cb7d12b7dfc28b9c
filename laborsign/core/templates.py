"""Contract templates: base PDF files plus the controls placed on their pages.

A template is created closed and cannot be chosen for a contract until enabled. Controls are
checked against the real page sizes of the files they sit on."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .controls import (
    CONTROL_KIND_LABELS,
    FILLED_BY_LABELS,
    MAX_CONTROLS,
    MIN_BOX,
    Control,
    ControlKind,
    FilledBy,
    validate_controls,
)
from .errors import Invalid, WrongState
from .ids import new_id

# Controls live in core.controls; these names were always imported from here too.
__all__ = [
    "CONTROL_KIND_LABELS", "FILLED_BY_LABELS", "MAX_CONTROLS", "MIN_BOX", "TEMPLATE_TYPES", "Control",
    "ControlKind", "FilledBy", "Template", "TemplateScope", "TemplateStatus", "validate_controls",
    "validate_template_name", "validate_template_type",
]  # fmt: skip


class TemplateStatus(enum.StrEnum):
    CLOSED = "closed"
    ENABLED = "enabled"


class TemplateScope(enum.StrEnum):
    PUBLIC = "public"  # made by the regulator, offered to every enterprise
    ENTERPRISE = "enterprise"


TEMPLATE_TYPES = {
    "labor_contract": "劳动合同",
    "fixed_term": "固定期限劳动合同",
    "open_ended": "无固定期限劳动合同",
    "task_based": "以完成一定工作任务为期限的劳动合同",
    "part_time": "非全日制用工合同",
    "supplement": "补充协议",
    "confidentiality": "保密协议",
    "non_compete": "竞业限制协议",
    "other": "其他",
}


def validate_template_name(raw: object) -> str:
    name = str(raw or "").strip()
    if not name:
        raise Invalid.field("name", "请输入模板名称")
    if len(name) > 50:
        raise Invalid.field("name", "模板名称不能超过50个字符")
    return name


def validate_template_type(raw: object) -> str:
    value = str(raw or "").strip()
    if value not in TEMPLATE_TYPES:
        raise Invalid.field("type", "请选择模板类型")
    return value


@dataclass(eq=False)
class Template:
    name: str
    type: str
    scope: str
    created_by: str | None  # None: shipped with the platform (laborsign/first_start.py)
    created_at: datetime
    updated_at: datetime
    files: list[dict[str, Any]] = field(
        default_factory=list
    )  # [{index, name, blob, sha256, pages:[{width,height}]}]
    controls: list[Control] = field(default_factory=list)
    enterprise_id: str | None = None
    status: str = TemplateStatus.CLOSED
    id: str = field(default_factory=new_id)

    def set_controls(self, controls: object, now: datetime) -> None:
        self.controls = validate_controls(controls, self.files)
        self.updated_at = now

    def rename(self, name: object, type_: object, now: datetime) -> None:
        if name is not None:
            self.name = validate_template_name(name)
        if type_ is not None:
            self.type = validate_template_type(type_)
        self.updated_at = now

    def enable(self, now: datetime) -> None:
        if self.status == TemplateStatus.ENABLED:
            raise WrongState("模板已是开启状态", "already_enabled")
        kinds = {c.kind for c in self.controls}
        missing = [
            label
            for kind, label in ((ControlKind.SIGNATURE, "劳动者签名区"), (ControlKind.SEAL, "企业印章区"))
            if kind not in kinds
        ]
        if missing:
            raise WrongState(f"模板缺少{'和'.join(missing)}，请先在模板上放置后再开启", "template_incomplete")
        self.status = TemplateStatus.ENABLED
        self.updated_at = now

    def disable(self, now: datetime) -> None:
        if self.status == TemplateStatus.CLOSED:
            raise WrongState("模板已是关闭状态", "already_closed")
        self.status = TemplateStatus.CLOSED
        self.updated_at = now

    def require_enabled(self) -> None:
        if self.status != TemplateStatus.ENABLED:
            raise WrongState(f"模板“{self.name}”未开启，不能用于发起签署", "template_closed")

    def controls_for(self, party: str) -> list[Control]:
        return [c for c in self.controls if c.filled_by == party]
