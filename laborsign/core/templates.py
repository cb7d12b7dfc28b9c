"""Contract templates: base PDF files plus the controls placed on their pages.

A template is created closed and cannot be chosen for a contract until enabled. Controls are
checked against the real page sizes of the files they sit on."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import Invalid, WrongState
from .ids import new_id


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


class ControlKind(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"
    SIGNATURE = "signature"  # the worker's handwritten signature area
    SEAL = "seal"  # the enterprise's seal area
    SIGN_DATE = "sign_date"  # filled with the date at signing time


CONTROL_KIND_LABELS = {
    ControlKind.TEXT: "文本",
    ControlKind.NUMBER: "数字",
    ControlKind.DATE: "日期",
    ControlKind.CHOICE: "选项",
    ControlKind.SIGNATURE: "劳动者签名区",
    ControlKind.SEAL: "企业印章区",
    ControlKind.SIGN_DATE: "签署日期",
}


class FilledBy(enum.StrEnum):
    INITIATOR = "initiator"
    WORKER = "worker"
    ENTERPRISE = "enterprise"


FILLED_BY_LABELS = {FilledBy.INITIATOR: "发起方", FilledBy.WORKER: "劳动者", FilledBy.ENTERPRISE: "企业"}

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
MAX_CONTROLS = 300
MIN_BOX = 8.0  # points: smaller boxes cannot hold a readable glyph


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


def _number(item: dict[str, Any], key: str, where: str, errors: dict[str, str]) -> float:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors[f"{where}.{key}"] = "应为数字"
        return 0.0
    return float(value)


def validate_controls(raw: object, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checks a whole control list; every problem is reported as `controls[i].field`."""
    if not isinstance(raw, list):
        raise Invalid.field("controls", "控件列表格式不正确")
    if len(raw) > MAX_CONTROLS:
        raise Invalid.field("controls", f"控件不能超过{MAX_CONTROLS}个")
    errors: dict[str, str] = {}
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        where = f"controls[{i}]"
        if not isinstance(item, dict):
            errors[where] = "控件格式不正确"
            continue
        key = str(item.get("key") or "")
        if not _KEY.match(key):
            errors[f"{where}.key"] = "字段代码须以英文字母开头，只含字母、数字和下划线（最多40位）"
        elif key in seen:
            errors[f"{where}.key"] = f"字段代码“{key}”重复"
        seen.add(key)
        label = str(item.get("label") or "").strip()
        if not label or len(label) > 50:
            errors[f"{where}.label"] = "请填写控件名称（最多50个字符）"
        try:
            kind = ControlKind(str(item.get("kind")))
        except ValueError:
            errors[f"{where}.kind"] = "控件类型不正确"
            continue
        try:
            filled_by = FilledBy(str(item.get("filled_by")))
        except ValueError:
            errors[f"{where}.filled_by"] = "填写方应为发起方、劳动者或企业"
            continue
        _check_party(kind, filled_by, where, errors)
        options = item.get("options")
        if kind == ControlKind.CHOICE:
            if (
                not isinstance(options, list)
                or not 2 <= len(options) <= 20
                or not all(isinstance(o, str) and o.strip() for o in options)
            ):
                errors[f"{where}.options"] = "选项控件需要2-20个非空选项"
        file_index = item.get("file", 0)
        page = item.get("page")
        x, y = _number(item, "x", where, errors), _number(item, "y", where, errors)
        w, h = _number(item, "width", where, errors), _number(item, "height", where, errors)
        if not isinstance(file_index, int) or not 0 <= file_index < len(files):
            errors[f"{where}.file"] = "控件所在文件不存在"
            continue
        pages = files[file_index]["pages"]
        if not isinstance(page, int) or not 1 <= page <= len(pages):
            errors[f"{where}.page"] = f"页码应在1到{len(pages)}之间"
            continue
        size = pages[page - 1]
        if w < MIN_BOX or h < MIN_BOX:
            errors[f"{where}.width"] = "控件区域过小"
        elif x < 0 or y < 0 or x + w > size["width"] + 0.5 or y + h > size["height"] + 0.5:
            errors[f"{where}.x"] = "控件超出了页面范围"
        required = item.get("required", True)
        if not isinstance(required, bool):
            errors[f"{where}.required"] = "应为是或否"
        out.append(
            {
                "key": key,
                "label": label,
                "kind": kind.value,
                "file": file_index,
                "page": page,
                "x": round(x, 2),
                "y": round(y, 2),
                "width": round(w, 2),
                "height": round(h, 2),
                "required": bool(required),
                "filled_by": filled_by.value,
                **(
                    {"options": [o.strip() for o in options]}
                    if kind == ControlKind.CHOICE and options
                    else {}
                ),
            }
        )
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    return out


def _check_party(kind: ControlKind, filled_by: FilledBy, where: str, errors: dict[str, str]) -> None:
    if kind == ControlKind.SIGNATURE and filled_by != FilledBy.WORKER:
        errors[f"{where}.filled_by"] = "劳动者签名区只能由劳动者填写"
    elif kind == ControlKind.SEAL and filled_by != FilledBy.ENTERPRISE:
        errors[f"{where}.filled_by"] = "企业印章区只能由企业填写"
    elif kind == ControlKind.SIGN_DATE and filled_by == FilledBy.INITIATOR:
        errors[f"{where}.filled_by"] = "签署日期由签署方在签署时自动填写"


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
    controls: list[dict[str, Any]] = field(default_factory=list)
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
        kinds = {c["kind"] for c in self.controls}
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

    def controls_for(self, party: str) -> list[dict[str, Any]]:
        return [c for c in self.controls if c["filled_by"] == party]
