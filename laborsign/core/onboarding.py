"""The onboarding form (入职资料) and the records it produces.

The form is data: an ordered list of fields, each with its question, choices and a parser
that refuses bad input with a Chinese message. The H5 form validates the whole form at once
with `validate_onboarding`; a chat conversation asks the same fields one at a time and calls
each field's `parse` — so both doors apply the very same rules."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .errors import Invalid, WrongState
from .identity_rules import ID_TYPE_LABELS, IdType, parse_id_document
from .ids import new_id
from .values import Phone

GENDERS = {"male": "男", "female": "女"}
RELATIONS = ["父母", "配偶", "子女", "兄弟姐妹", "其他亲属", "朋友"]


def _name(raw: str, today: date) -> str:
    text = raw.strip()
    if not text:
        raise Invalid.field("name", "请填写姓名")
    if len(text) > 30 or not re.fullmatch(r"[\u4e00-\u9fa5·A-Za-z .]{2,30}", text):
        raise Invalid.field("name", "姓名应为2-30个汉字或字母")
    return text


def _gender(raw: str, today: date) -> str:
    text = raw.strip()
    for code, label in GENDERS.items():
        if text in (code, label):
            return code
    raise Invalid.field("gender", "性别请填写“男”或“女”")


def _id_type(raw: str, today: date) -> str:
    text = raw.strip()
    for code, label in ID_TYPE_LABELS.items():
        if text in (code.value, label) or (code == IdType.RESIDENT_ID and text in ("身份证", "1")):
            return code.value
    aliases = {
        "2": IdType.HK_MACAU_PERMIT,
        "3": IdType.TAIWAN_PERMIT,
        "4": IdType.PASSPORT,
        "港澳通行证": IdType.HK_MACAU_PERMIT,
        "台胞证": IdType.TAIWAN_PERMIT,
    }
    if text in aliases:
        return aliases[text].value
    raise Invalid.field("id_type", "证件类型请选择：身份证、港澳通行证、台胞证或护照")


def _birth_date(raw: str, today: date) -> date:
    text = raw.strip().replace("/", "-").replace(".", "-")
    match = re.fullmatch(r"(\d{4})-?(\d{1,2})-?(\d{1,2})", text) or re.fullmatch(
        r"(\d{4})年(\d{1,2})月(\d{1,2})日?", text
    )
    if not match:
        raise Invalid.field("birth_date", "出生日期格式应为YYYY-MM-DD，例如1995-08-01")
    try:
        born = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise Invalid.field("birth_date", "出生日期不存在") from None
    if born > today or born.year < today.year - 100:
        raise Invalid.field("birth_date", "出生日期不合理")
    return born


def _phone(key: str) -> Callable[[str, date], str]:
    def parse(raw: str, today: date) -> str:
        return Phone.parse(raw, key).value

    return parse


def _address(raw: str, today: date) -> str:
    text = raw.strip()
    if len(text) < 5:
        raise Invalid.field("address", "请填写详细住址（至少5个字）")
    if len(text) > 100:
        raise Invalid.field("address", "住址不能超过100个字")
    return text


def _contact_name(raw: str, today: date) -> str:
    try:
        return _name(raw, today)
    except Invalid:
        raise Invalid.field("emergency_contact.name", "紧急联系人姓名应为2-30个汉字或字母") from None


def _relation(raw: str, today: date) -> str:
    text = raw.strip()
    if text.isdigit() and 1 <= int(text) <= len(RELATIONS):
        return RELATIONS[int(text) - 1]
    if text in RELATIONS:
        return text
    raise Invalid.field("emergency_contact.relation", f"与紧急联系人的关系请选择：{'、'.join(RELATIONS)}")


@dataclass(frozen=True)
class FormField:
    key: str  # dotted for the emergency contact: emergency_contact.name
    label: str
    prompt: str  # the question a chat bot asks
    parse: Callable[[str, date], Any]
    choices: tuple[str, ...] = ()


ONBOARDING_FIELDS: list[FormField] = [
    FormField("name", "姓名", "请输入您的真实姓名：", _name),
    FormField("gender", "性别", "请选择性别（回复“男”或“女”）：", _gender, ("男", "女")),
    FormField(
        "id_type",
        "证件类型",
        "请选择证件类型（回复序号）：1 身份证 2 港澳通行证 3 台胞证 4 护照",
        _id_type,
        ("身份证", "港澳通行证", "台胞证", "护照"),
    ),
    FormField("id_number", "证件号码", "请输入证件号码：", lambda raw, today: raw.strip().upper()),
    FormField("birth_date", "出生日期", "请输入出生日期（例如 1995-08-01）：", _birth_date),
    FormField("phone", "手机号", "请输入您的手机号：", _phone("phone")),
    FormField("address", "现住址", "请输入现住址（详细到门牌号）：", _address),
    FormField("emergency_contact.name", "紧急联系人", "请输入紧急联系人姓名：", _contact_name),
    FormField(
        "emergency_contact.relation",
        "与紧急联系人关系",
        "与紧急联系人的关系（回复序号）：" + " ".join(f"{i} {r}" for i, r in enumerate(RELATIONS, 1)),
        _relation,
        tuple(RELATIONS),
    ),
    FormField(
        "emergency_contact.phone",
        "紧急联系人手机号",
        "请输入紧急联系人手机号：",
        _phone("emergency_contact.phone"),
    ),
]
FIELDS_BY_KEY = {f.key: f for f in ONBOARDING_FIELDS}


@dataclass(frozen=True)
class OnboardingData:
    name: str
    gender: str
    id_type: str
    id_number: str
    birth_date: date
    phone: str
    address: str
    contact_name: str
    contact_relation: str
    contact_phone: str


def _flatten(data: dict[str, Any]) -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in data.items():
        if key == "emergency_contact" and isinstance(value, dict):
            for sub, sub_value in value.items():
                flat[f"emergency_contact.{sub}"] = "" if sub_value is None else str(sub_value)
        elif value is not None and not isinstance(value, dict | list):
            flat[key] = str(value)
    return flat


def validate_onboarding(data: dict[str, Any], today: date) -> OnboardingData:
    """Every field required; all problems reported at once; ID, birth date and gender agree."""
    flat = _flatten(data)
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in ONBOARDING_FIELDS:
        raw = flat.get(spec.key, "").strip()
        if not raw:
            errors[spec.key] = f"请填写{spec.label}"
            continue
        try:
            values[spec.key] = spec.parse(raw, today)
        except Invalid as exc:
            errors.update(exc.fields)
    if "id_type" in values and "id_number" in values:
        try:
            document = parse_id_document(values["id_type"], values["id_number"], today)
            values["id_number"] = document.number
            if document.birth_date and values.get("birth_date") not in (None, document.birth_date):
                errors.setdefault("birth_date", "出生日期与身份证号码不一致")
            if document.gender and values.get("gender") not in (None, document.gender):
                errors.setdefault("gender", "性别与身份证号码不一致")
        except Invalid as exc:
            errors.update(exc.fields)
    if values.get("emergency_contact.phone") and values.get("emergency_contact.phone") == values.get("phone"):
        errors.setdefault("emergency_contact.phone", "紧急联系人手机号不能与本人相同")
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    return OnboardingData(
        name=values["name"], gender=values["gender"], id_type=values["id_type"], id_number=values["id_number"],
        birth_date=values["birth_date"], phone=values["phone"], address=values["address"],
        contact_name=values["emergency_contact.name"], contact_relation=values["emergency_contact.relation"],
        contact_phone=values["emergency_contact.phone"],
    )  # fmt: skip


class OnboardingStatus(enum.StrEnum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"


ONBOARDING_STATUS_LABELS = {
    OnboardingStatus.PENDING_REVIEW: "待审核",
    OnboardingStatus.APPROVED: "已通过",
    OnboardingStatus.REJECTED: "已拒绝",
}

# Fields HR may correct while reviewing (not the identity itself).
CORRECTABLE = (
    "address",
    "phone",
    "emergency_contact.name",
    "emergency_contact.relation",
    "emergency_contact.phone",
)


@dataclass(eq=False)
class OnboardingRecord:
    enterprise_id: str
    user_id: str
    name: str
    phone: str
    gender: str
    id_type: str
    id_number_enc: str
    id_number_hash: str
    id_number_masked: str
    birth_date: date
    address: str
    emergency_contact: dict[str, str]
    created_at: datetime
    channel: str = "h5"  # h5 | wechat | dingtalk
    status: str = OnboardingStatus.PENDING_REVIEW
    reject_reason: str | None = None
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    employee_id: str | None = None
    corrections: list[dict[str, Any]] = field(default_factory=list)
    id: str = field(default_factory=new_id)

    def require_pending(self) -> None:
        if self.status != OnboardingStatus.PENDING_REVIEW:
            label = ONBOARDING_STATUS_LABELS[OnboardingStatus(self.status)]
            raise WrongState(f"该入职资料已{label}，不能再修改或审核", "not_pending")

    def correct(self, changes: dict[str, Any], by: str, today: date, now: datetime) -> None:
        self.require_pending()
        flat = _flatten(changes)
        errors: dict[str, str] = {}
        applied: dict[str, str] = {}
        for key, raw in flat.items():
            if key not in CORRECTABLE:
                errors[key] = "该项不能由企业修改"
                continue
            try:
                applied[key] = FIELDS_BY_KEY[key].parse(raw, today)
            except Invalid as exc:
                errors.update(exc.fields)
        if errors:
            raise Invalid(next(iter(errors.values())), errors)
        for key, value in applied.items():
            if key.startswith("emergency_contact."):
                self.emergency_contact = {**self.emergency_contact, key.split(".", 1)[1]: value}
            else:
                setattr(self, key, value)
        self.corrections = [*self.corrections, {"by": by, "at": now.isoformat(), "fields": sorted(applied)}]

    def approve(self, by: str, employee_id: str, now: datetime) -> None:
        self.require_pending()
        self.status = OnboardingStatus.APPROVED
        self.reviewed_by = by
        self.reviewed_at = now
        self.employee_id = employee_id

    def reject(self, by: str, reason: str, now: datetime) -> None:
        self.require_pending()
        text = reason.strip()
        if not text:
            raise Invalid.field("reason", "请填写拒绝原因")
        if len(text) > 200:
            raise Invalid.field("reason", "拒绝原因不能超过200个字符")
        self.status = OnboardingStatus.REJECTED
        self.reject_reason = text
        self.reviewed_by = by
        self.reviewed_at = now
