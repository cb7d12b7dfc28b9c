"""Contracts, their parties and the hash-chained audit trail.

State machine (SPEC §2.6–2.8):
    draft → signing (launch) → completed (all parties signed)
                             → withdrawn (enterprise withdraws; may be re-initiated)
                             → rejected (the worker declines)
                             → expired (past the signing deadline)
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .accounts import Enterprise
from .controls import Control, ControlKind
from .errors import Invalid, WrongState, not_before
from .ids import new_id

REMIND_AFTER_LAUNCH = timedelta(hours=6)
REMIND_INTERVAL = timedelta(minutes=30)
MAX_NAME = 50


class ContractStatus(enum.StrEnum):
    DRAFT = "draft"
    SIGNING = "signing"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"
    EXPIRED = "expired"


CONTRACT_STATUS_LABELS = {
    ContractStatus.DRAFT: "草稿",
    ContractStatus.SIGNING: "签署中",
    ContractStatus.COMPLETED: "已完成",
    ContractStatus.WITHDRAWN: "已撤回",
    ContractStatus.REJECTED: "已拒签",
    ContractStatus.EXPIRED: "已过期",
}


class PartyRole(enum.StrEnum):
    WORKER = "worker"
    ENTERPRISE = "enterprise"


class PartyStatus(enum.StrEnum):
    PENDING = "pending"
    SIGNED = "signed"
    DECLINED = "declined"


PARTY_STATUS_LABELS = {
    PartyStatus.PENDING: "待签署",
    PartyStatus.SIGNED: "已签署",
    PartyStatus.DECLINED: "已拒签",
}


def party_status_label(party_status: str, contract_status: str) -> str:
    """A party who had not signed when the contract ended (withdrawn, expired, declined by the
    other side) is 未签署, not 待签署: nobody waits for them any more."""
    open_ = contract_status in (ContractStatus.DRAFT, ContractStatus.SIGNING)
    if party_status == PartyStatus.PENDING and not open_:
        return "未签署"
    return PARTY_STATUS_LABELS.get(PartyStatus(party_status), party_status)


class SealType(enum.StrEnum):
    OFFICIAL = "official"
    CONTRACT = "contract"
    HR = "hr"


SEAL_TYPE_LABELS = {SealType.OFFICIAL: "公章", SealType.CONTRACT: "合同专用章", SealType.HR: "人事专用章"}


class SigningOrder(enum.StrEnum):
    WORKER_FIRST = "worker_first"
    ENTERPRISE_FIRST = "enterprise_first"
    PARALLEL = "parallel"  # as before signing orders existed: either party, in any order


SIGNING_ORDER_LABELS = {
    SigningOrder.WORKER_FIRST: "劳动者先签",
    SigningOrder.ENTERPRISE_FIRST: "企业先签",
    SigningOrder.PARALLEL: "不限顺序",
}
_FIRST = {SigningOrder.WORKER_FIRST: PartyRole.WORKER, SigningOrder.ENTERPRISE_FIRST: PartyRole.ENTERPRISE}
_ROLE_LABELS = {PartyRole.WORKER: "劳动者", PartyRole.ENTERPRISE: "企业"}


def parse_signing_order(raw: object) -> SigningOrder:
    if raw in (None, ""):
        return SigningOrder.PARALLEL
    try:
        return SigningOrder(str(raw))
    except ValueError:
        raise Invalid.field(
            "signing_order",
            "签署顺序应为 worker_first（劳动者先签）、enterprise_first（企业先签）或 parallel（不限顺序）",
        ) from None


def validate_contract_name(raw: object) -> str:
    name = str(raw or "").strip()
    if not name:
        raise Invalid.field("name", "请填写合同名称")
    if len(name) > MAX_NAME:
        raise Invalid.field("name", f"合同名称最长{MAX_NAME}个字符")
    return name


@dataclass(frozen=True)
class ContractFilters:
    """What the contract list may be narrowed to besides its view, status and search: the
    worker's department (with its sub-departments, as employee ids' departments), a template,
    and day ranges (Beijing days, both ends included) of launch, completion and term end."""

    department_ids: tuple[str, ...] | None = None
    template_id: str | None = None
    launched: tuple[date | None, date | None] = (None, None)
    completed: tuple[date | None, date | None] = (None, None)
    term_end: tuple[date | None, date | None] = (None, None)


FILTER_LABELS = {
    "launched": "发起日期", "completed": "完成日期", "term_end": "合同到期日",
}  # fmt: skip


def parse_day_range(
    query: Mapping[str, str], name: str, label: str | None = None
) -> tuple[date | None, date | None]:
    """`<name>_from` and `<name>_to` as YYYY-MM-DD; 422 naming the field when unreadable.
    `label` names the range in the message (the contract list's ranges know their own)."""
    label = label or FILTER_LABELS[name]
    days: list[date | None] = []
    for end in ("from", "to"):
        key = f"{name}_{end}"
        raw = (query.get(key) or "").strip()
        try:
            days.append(date.fromisoformat(raw) if raw else None)
        except ValueError:
            raise Invalid.field(key, f"{label}应为 YYYY-MM-DD 格式的日期") from None
    first, last = days
    if first and last and first > last:
        raise Invalid.field(f"{name}_to", f"{label}的结束日期不能早于开始日期")
    return first, last


@dataclass(eq=False)
class Party:
    contract_id: str
    role: str
    name: str
    status: str = PartyStatus.PENDING
    user_id: str | None = None  # the worker's account, or the enterprise operator who signed
    signed_at: datetime | None = None
    verification_method: str | None = None
    decline_reason: str | None = None
    id: str = field(default_factory=new_id)


@dataclass(eq=False)
class Contract:
    enterprise_id: str
    batch_id: str
    name: str
    employee_id: str
    created_by: str
    created_at: datetime
    source: str  # template | upload
    document_blob: str  # the current PDF (grows by one incremental update per signature)
    original_blob: str
    original_sha256: str
    files: list[dict[str, Any]] = field(default_factory=list)  # [{index, name, first_page, pages}]
    controls: list[Control] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    enterprise_party: dict[str, Any] = field(default_factory=dict)
    template_ids: list[str] = field(default_factory=list)
    worker_user_id: str | None = None
    worker_name: str = ""
    worker_phone: str = ""
    status: str = ContractStatus.DRAFT
    launched_at: datetime | None = None
    last_reminded_at: datetime | None = None
    sign_deadline: datetime | None = None
    completed_at: datetime | None = None
    ended_reason: str | None = None
    reinitiated_from: str | None = None
    document_sha256: str = ""
    version: int = 0
    signing_order: str = "parallel"
    # Kept by the transitions below (never by a door) so the lists "awaiting me / others" are
    # an index range, not a search through the parties: True while signing and that party
    # has still to sign and it is its turn (signing_order).
    awaiting_worker: bool = False
    awaiting_enterprise: bool = False
    # The last day of its fixed term (None for any other term or none stored), copied from its
    # ContractTerm when that is stored: a tenant's signed contracts ending soon are one range.
    fixed_term_end: date | None = None
    id: str = field(default_factory=new_id)

    # -- transitions -------------------------------------------------------------------

    def note_term(self, fixed: bool, end_date: date | None) -> None:
        """The term stored beside it (core/labor_law.py ContractTerm): fixed, ending then."""
        self.fixed_term_end = end_date if fixed else None

    def launch(self, now: datetime, parties: list[Party] | None = None) -> None:
        """`parties`: who signs it (default: a worker and the enterprise); a party that is not
        on the contract is never awaited (a termination certificate has only the enterprise)."""
        if self.status != ContractStatus.DRAFT:
            raise WrongState("只有草稿状态的合同可以发起", "not_draft")
        if self.sign_deadline is not None and self.sign_deadline <= now:
            raise Invalid.field("sign_deadline", "签署截止时间应晚于当前时间")
        self.status = ContractStatus.SIGNING
        self.launched_at = now
        roles = {p.role for p in parties} if parties is not None else {PartyRole.WORKER, PartyRole.ENTERPRISE}
        first = self.first_signer()
        self.awaiting_worker = PartyRole.WORKER in roles and first in (None, PartyRole.WORKER)
        self.awaiting_enterprise = PartyRole.ENTERPRISE in roles and first in (None, PartyRole.ENTERPRISE)

    def check_remind(self, now: datetime) -> None:
        """催签: only while signing, ≥ 6 h after launch and ≥ 30 min after the last reminder."""
        if self.status != ContractStatus.SIGNING:
            raise WrongState("只有签署中的合同可以催签", "not_signing")
        assert self.launched_at is not None
        earliest = self.launched_at + REMIND_AFTER_LAUNCH
        if now < earliest:
            raise not_before(
                f"发起签署6小时后才能催签，请于{_local(earliest)}后再试", "remind_too_early", earliest
            )
        if self.last_reminded_at is not None and now < self.last_reminded_at + REMIND_INTERVAL:
            at = self.last_reminded_at + REMIND_INTERVAL
            raise not_before(f"两次催签间隔不得少于30分钟，请于{_local(at)}后再试", "remind_too_frequent", at)

    def remind(self, now: datetime) -> None:
        self.check_remind(now)
        self.last_reminded_at = now

    def withdraw(self, reason: str, now: datetime) -> None:
        if self.status != ContractStatus.SIGNING:
            raise WrongState("只有签署中的合同可以撤回", "not_signing")
        self.status = ContractStatus.WITHDRAWN
        self.ended_reason = reason
        self._end(now)

    def require_withdrawn(self) -> None:
        if self.status != ContractStatus.WITHDRAWN:
            raise WrongState("只有已撤回的合同可以重新发起", "not_withdrawn")

    def decline(self, party: Party, reason: str, now: datetime) -> None:
        self.require_signing()
        if party.status != PartyStatus.PENDING:
            raise WrongState("您已处理过该合同", "already_acted")
        party.status = PartyStatus.DECLINED
        party.decline_reason = reason
        self.status = ContractStatus.REJECTED
        self.ended_reason = reason
        self._end(now)

    def expire(self, now: datetime) -> bool:
        if (
            self.status == ContractStatus.SIGNING
            and self.sign_deadline is not None
            and now >= self.sign_deadline
        ):
            self.status = ContractStatus.EXPIRED
            self._end(now)
            return True
        return False

    def first_signer(self) -> str | None:
        return _FIRST.get(SigningOrder(self.signing_order))

    def turn_of(self, role: str, parties: list[Party]) -> bool:
        """Whether the party may sign now: signing, its own part pending, and, under an order,
        the party that signs first has signed."""
        mine = next((p for p in parties if p.role == role), None)
        if self.status != ContractStatus.SIGNING or mine is None or mine.status != PartyStatus.PENDING:
            return False
        first = self.first_signer()
        return (
            first is None
            or first == role
            or all(p.status == PartyStatus.SIGNED for p in parties if p.role == first)
        )

    def require_turn(self, role: str, parties: list[Party]) -> None:
        if self.turn_of(role, parties):
            return
        first = self.first_signer()
        mine = next((p for p in parties if p.role == role), None)
        if (
            self.status == ContractStatus.SIGNING
            and mine is not None
            and mine.status == PartyStatus.PENDING
            and first
        ):
            raise WrongState(
                f"本合同约定{_ROLE_LABELS[PartyRole(first)]}先签署，请待其签署后再签", "not_your_turn"
            )

    def require_signing(self) -> None:
        if self.status != ContractStatus.SIGNING:
            label = CONTRACT_STATUS_LABELS.get(ContractStatus(self.status), self.status)
            raise WrongState(f"合同当前状态为“{label}”，不能签署", "not_signing")

    def record_signature(
        self,
        party: Party,
        parties: list[Party],
        *,
        user_id: str,
        method: str,
        new_blob: str,
        new_sha256: str,
        now: datetime,
    ) -> bool:
        """Applies one party's signature; returns True when that completes the contract."""
        self.require_signing()
        if party.status != PartyStatus.PENDING:
            raise WrongState("该签署方已签署", "already_signed")
        self.require_turn(party.role, parties)
        party.status = PartyStatus.SIGNED
        party.signed_at = now
        party.user_id = user_id
        party.verification_method = method
        self.document_blob = new_blob
        self.document_sha256 = new_sha256
        self.version += 1
        self.awaiting_worker = self.turn_of(PartyRole.WORKER, parties)
        self.awaiting_enterprise = self.turn_of(PartyRole.ENTERPRISE, parties)
        if all(p.status == PartyStatus.SIGNED for p in parties):
            self.status = ContractStatus.COMPLETED
            self._end(now)
            return True
        return False

    def _end(self, now: datetime) -> None:
        self.completed_at = now
        self.awaiting_worker = self.awaiting_enterprise = False


def _local(when: datetime) -> str:
    from .clock import china_text

    return china_text(when)


# -- audit trail --------------------------------------------------------------------------------

EVENT_LABELS = {
    "created": "创建合同",
    "launched": "发起签署",
    "viewed": "查看合同",
    "filled": "填写合同内容",
    "intent_requested": "发起意愿认证",
    "intent_verified": "意愿认证通过",
    "intent_failed": "意愿认证未通过",
    "identity_mismatch": "签署人实名身份与劳动者不一致，已拒绝签署",
    "signed": "签署",
    "reminded": "催签",
    "withdrawn": "撤回",
    "declined": "拒签",
    "expired": "超过签署截止时间",
    "completed": "签署完成",
    "reinitiated": "重新发起",
    "downloaded": "下载合同",
}


@dataclass(eq=False)
class ContractEvent:
    contract_id: str
    seq: int
    kind: str
    at: datetime
    actor_type: str  # worker | enterprise | system | platform
    actor_id: str | None
    actor_name: str
    ip: str
    user_agent: str
    method: str | None
    document_sha256: str
    details: dict[str, Any]
    prev_hash: str
    hash: str = ""
    id: str = field(default_factory=new_id)

    def canonical(self) -> bytes:
        return canonical_event({name: getattr(self, name) for name in EVENT_HASHED})

    def seal(self) -> None:
        self.hash = hashlib.sha256(self.canonical()).hexdigest()


GENESIS = "0" * 64
EVENT_HASHED = ("contract_id", "seq", "kind", "at", "actor_type", "actor_id", "actor_name", "ip", "user_agent",
                "method", "document_sha256", "details", "prev_hash")  # fmt: skip


def canonical_event(values: Mapping[str, Any]) -> bytes:
    """The bytes an event's hash covers: every field but its id and its own hash, as sorted,
    compact JSON. Built by hand (the same bytes as json.dumps with sort_keys, compact
    separators and ensure_ascii off) because bulk loads hash millions of events."""
    v = values
    return (
        f'{{"actor_id":{_js(v["actor_id"])},"actor_name":{_js(v["actor_name"])},'
        f'"actor_type":{_js(v["actor_type"])},"at":{_js(v["at"].isoformat())},'
        f'"contract_id":{_js(v["contract_id"])},"details":{_details(v["details"])},'
        f'"document_sha256":{_js(v["document_sha256"])},"ip":{_js(v["ip"])},"kind":{_js(v["kind"])},'
        f'"method":{_js(v["method"])},"prev_hash":{_js(v["prev_hash"])},"seq":{int(v["seq"])},'
        f'"user_agent":{_js(v["user_agent"])}}}'
    ).encode()


def _js(value: str | None) -> str:
    if value is None:
        return "null"
    # Printable text without quotes or backslashes is written by json.dumps as it is.
    if value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)


def _details(details: dict[str, Any]) -> str:
    if not details:
        return "{}"
    return json.dumps(details, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def chain_event(previous: ContractEvent | None, **values: Any) -> ContractEvent:
    event = ContractEvent(
        seq=(previous.seq + 1) if previous else 1,
        prev_hash=previous.hash if previous else GENESIS,
        **values,
    )
    event.seal()
    return event


def verify_chain(events: list[ContractEvent]) -> tuple[bool, int | None]:
    """(intact, first bad seq). A removed, reordered or altered event breaks the chain."""
    prev = GENESIS
    for expected_seq, event in enumerate(sorted(events, key=lambda e: e.seq), start=1):
        if event.seq != expected_seq or event.prev_hash != prev:
            return False, expected_seq
        if hashlib.sha256(event.canonical()).hexdigest() != event.hash:
            return False, event.seq
        prev = event.hash
    return True, None


# -- control values ------------------------------------------------------------------------------

MAX_TEXT = 200


def parse_control_value(control: Control, raw: object, *, required: bool | None = None) -> str | None:
    """Checks one value for a control and returns the text to draw (None when left empty);
    `required` stands in for the control's own. Raises Invalid keyed `fields.<key>`."""
    field_name = f"fields.{control.key}"
    label = control.label
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if control.required if required is None else required:
            raise Invalid.field(field_name, f"请填写“{label}”")
        return None
    text = str(raw).strip()
    kind = control.kind
    if kind == ControlKind.NUMBER:
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise Invalid.field(field_name, f"“{label}”应为数字") from None
        if not number.is_finite() or abs(number) >= Decimal("1e12"):
            raise Invalid.field(field_name, f"“{label}”数值不合理")
        return format(number.normalize(), "f") if number == number.to_integral() else text
    if kind in (ControlKind.DATE, ControlKind.SIGN_DATE):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise Invalid.field(field_name, f"“{label}”应为日期，格式为YYYY-MM-DD") from None
        return day.isoformat()
    if kind == ControlKind.CHOICE:
        if text not in control.options:
            raise Invalid.field(field_name, f"“{label}”应为以下选项之一：{'、'.join(control.options)}")
        return text
    if len(text) > MAX_TEXT:
        raise Invalid.field(field_name, f"“{label}”不能超过{MAX_TEXT}个字符")
    return text


def display_value(control: Control, value: str) -> str:
    """How a stored value is drawn on the page: dates the Chinese way."""
    if control.kind in (ControlKind.DATE, ControlKind.SIGN_DATE):
        day = date.fromisoformat(value)
        return f"{day.year}年{day.month}月{day.day}日"
    return value


# Keys a template may use for 甲方's own facts, filled from the enterprise when a launch
# leaves them blank (the shipped standard contract uses these).
ENTERPRISE_PREFILL_KEYS = ("enterprise_name", "enterprise_credit_code")


def with_enterprise_prefill(given: Mapping[str, Any], enterprise: Enterprise) -> dict[str, Any]:
    """The launch's values with 甲方's name and unified credit code where none was typed."""
    facts = dict(zip(ENTERPRISE_PREFILL_KEYS, (enterprise.name, enterprise.credit_code), strict=True))
    return {**given, **{k: v for k, v in facts.items() if given.get(k) in (None, "")}}


@dataclass(frozen=True)
class WorkerCard:
    """What a contract needs to know about a worker on the roster."""

    employee_id: str
    name: str
    phone: str
    active: bool
    user_id: str | None = None
    id_type: str | None = None
    id_number: str | None = None  # plaintext, only in memory
    birth_date: date | None = None
    gender: str | None = None
    department: str | None = None
    address: str | None = None
    position: str | None = None  # the roster's, for the contract's term when no field names one

    def prefill(self) -> dict[str, str]:
        """Values for worker fields that come from the roster (keys a template may use)."""
        values = {"worker_name": self.name, "worker_phone": self.phone}
        if self.id_number:
            values["worker_id_number"] = self.id_number
        if self.gender:
            values["worker_gender"] = {"male": "男", "female": "女"}.get(self.gender, self.gender)
        if self.birth_date:
            values["worker_birth_date"] = self.birth_date.isoformat()
        if self.address:
            values["worker_address"] = self.address
        if self.department:
            values["worker_department"] = self.department
        return values
