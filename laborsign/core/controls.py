"""Controls: the boxes placed on a template's (and then a contract's) pages, each filled by one
side: a value the initiator gives, the worker's signature, the enterprise's seal, the date of
signing.

A `Control` is immutable: a contract keeps the controls it was launched with, and moving one
onto the merged document's pages (`on_page`) makes a new one. `from_dict` and `as_dict` are the
JSON edge (the storage column and the designer's input); `validate_controls` is the only way a
person's list of controls becomes `Control`s."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .errors import Invalid


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

_KINDS = {k.value: k for k in ControlKind}
_FILLERS = {f.value: f for f in FilledBy}

# Made by the signing party when it signs, never given as a value.
MARK_KINDS = frozenset({ControlKind.SIGNATURE, ControlKind.SEAL})
SIGNING_KINDS = MARK_KINDS | {ControlKind.SIGN_DATE}


@dataclass(frozen=True)
class Control:
    """One control. Pages count from 1 within `file` (a contract's controls are on its one
    merged document: file 0); boxes are in PDF points from the page's top-left corner. A
    control with no box (page 0) only names a value, like the term facts an upload states."""

    key: str
    label: str
    kind: ControlKind
    filled_by: FilledBy
    file: int = 0
    page: int = 0
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0
    required: bool = True
    options: tuple[str, ...] = ()  # a choice's options

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Control:
        """A control as stored (the shape `as_dict` writes; `file`, `required` and `options`
        may be left out, as the designer may). Built around the frozen __init__ (its
        object.__setattr__ per field was most of the cost: a contract's controls are loaded
        with every contract read: 19 of them 55 -> 24 µs here)."""
        control = object.__new__(cls)
        control.__dict__.update(
            key=str(data["key"]),
            label=str(data["label"]),
            kind=_KINDS[data["kind"]],
            filled_by=_FILLERS[data["filled_by"]],
            file=int(data.get("file", 0)),
            page=int(data.get("page", 0)),
            x=float(data.get("x", 0.0)),
            y=float(data.get("y", 0.0)),
            width=float(data.get("width", 0.0)),
            height=float(data.get("height", 0.0)),
            required=bool(data.get("required", True)),
            options=tuple(str(o) for o in data.get("options") or ()),
        )
        return control

    def as_dict(self) -> dict[str, Any]:
        """The stored JSON, key for key as it has always been written (`options` only on a
        choice that has them)."""
        out: dict[str, Any] = {
            "key": self.key,
            "label": self.label,
            "kind": self.kind.value,
            "file": self.file,
            "page": self.page,
            "x": self.x,
            "y": self.y,
            "width": self.width,
            "height": self.height,
            "required": self.required,
            "filled_by": self.filled_by.value,
        }
        if self.options:
            out["options"] = list(self.options)
        return out

    @property
    def box(self) -> tuple[int, float, float, float, float]:
        """(page, x, y, width, height), as a Stamp takes them."""
        return self.page, self.x, self.y, self.width, self.height

    def on_page(self, page: int) -> Control:
        """The same control on page `page` of a merged document (file 0)."""
        return replace(self, file=0, page=page)


_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
MAX_CONTROLS = 300
MIN_BOX = 8.0  # points: smaller boxes cannot hold a readable glyph


def _number(item: dict[str, Any], key: str, where: str, errors: dict[str, str]) -> float:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors[f"{where}.{key}"] = "应为数字"
        return 0.0
    return float(value)


def validate_controls(raw: object, files: list[dict[str, Any]]) -> list[Control]:
    """Checks a whole control list; every problem is reported as `controls[i].field`."""
    if not isinstance(raw, list):
        raise Invalid.field("controls", "控件列表格式不正确")
    if len(raw) > MAX_CONTROLS:
        raise Invalid.field("controls", f"控件不能超过{MAX_CONTROLS}个")
    errors: dict[str, str] = {}
    seen: set[str] = set()
    out: list[Control] = []
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
        if errors:
            continue  # nothing is returned: no need to build what would be thrown away
        chosen = tuple(o.strip() for o in options) if kind == ControlKind.CHOICE and options else ()
        out.append(
            Control(
                key=key, label=label, kind=kind, filled_by=filled_by, file=file_index, page=page,
                x=round(x, 2), y=round(y, 2), width=round(w, 2), height=round(h, 2), required=required,
                options=chosen,
            )
        )  # fmt: skip
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
