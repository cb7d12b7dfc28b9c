"""The labor-law assistant's use cases: the checks before a launch (one worker at a time, with
what the platform already knows of them), the term stored with each contract, and the
deadline alerts HR sees and is told of once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..accounts import Enterprise, Permission
from ..clock import china_time
from ..contracts import Contract, WorkerCard, with_enterprise_prefill
from ..controls import FilledBy
from ..errors import Invalid, WrongState
from ..events import LaborAlertRaised
from ..labor_law import (
    ALERT_KIND_LABELS,
    ART_10_82,
    REASON_TYPE_LABELS,
    UPLOAD_TERM_CONTROLS,
    ContractTerm,
    MinimumWage,
    MinimumWageTable,
    TermType,
    Warning_,
    WorkerCheck,
    add_days,
    add_months,
    date_text,
    derive_term,
    double_wages_from,
    parse_term_type,
    term_errors,
    term_lines,
    term_summary,
    term_warnings,
    written_contract_due,
)
from ..ports import Deps, LaborLawSettings, UnitOfWork
from ..roster import Employee
from ..templates import Template
from .accounts import Actor

# -- checks before launch ---------------------------------------------------------------------


def minimum_table(settings: LaborLawSettings) -> MinimumWageTable:
    entries = tuple(MinimumWage(m.region, m.effective, m.monthly) for m in settings.minimum_wages)
    return MinimumWageTable(entries, settings.region, settings.minimum_monthly_wage)


async def precheck(
    deps: Deps,
    enterprise: Enterprise,
    templates: list[Template],
    given: dict[str, Any],
    cards: dict[str, WorkerCard],
    workers: list[str],
    term_type: object = None,
    renewal_of: str | None = None,
) -> dict[str, WorkerCheck]:
    """Each worker's term and what the law says of it. A worker not on the roster, or whose
    values do not parse, is left to the launch to report as it always did."""
    from .contracts.controls import collect_values

    controls = [c for t in templates for c in t.controls]

    def values_of(card: WorkerCard) -> dict[str, Any]:
        return collect_values(controls, "initiator", given, card.prefill())

    types = [t.type for t in templates]
    return await _check_workers(deps, enterprise, cards, workers, values_of, types, term_type, renewal_of)


def upload_term_values(fields: object, term_type: object) -> dict[str, Any]:
    """The term an upload launch states (the presets' keys, each optional and checked as a
    template's field would be: a bad date or amount is a 422 under `fields.<key>`)."""
    from .contracts.controls import collect_values

    parse_term_type(term_type)
    if fields not in (None, "") and not isinstance(fields, dict):
        raise Invalid.field("fields", "fields 应为对象，键为合同条款（如 contract_start_date、monthly_wage）")
    return collect_values(list(UPLOAD_TERM_CONTROLS), "initiator", fields or {})


async def precheck_upload(
    deps: Deps, enterprise: Enterprise, values: dict[str, Any], cards: dict[str, WorkerCard],
    workers: list[str], term_type: object = None,
) -> dict[str, WorkerCheck]:  # fmt: skip
    """The checks of a launch from an uploaded PDF: the same rules on the term it states. With
    dates and no type chosen it is read as a general labor contract (fixed-term when it ends)."""
    dated = any(values.get(k) for k in ("contract_start_date", "contract_end_date"))
    types = ["labor_contract"] if dated else []
    return await _check_workers(deps, enterprise, cards, workers, lambda _card: values, types, term_type)


async def check_upload_launch(
    deps: Deps, enterprise: Enterprise, meta: dict[str, Any], cards: dict[str, WorkerCard], workers: list[str]
) -> dict[str, WorkerCheck]:
    """An upload launch's checks, refused (409 labor_law_warnings) until HR confirms them."""
    values = upload_term_values(meta.get("fields"), meta.get("term_type"))
    checks = await precheck_upload(deps, enterprise, values, cards, workers, meta.get("term_type"))
    require_confirmed(checks, meta.get("confirm_warnings"))
    return checks


def refusal(check: WorkerCheck, worker_name: str) -> dict[str, str] | None:
    """A launch's `failed` entry for a worker whose term makes the contract impossible."""
    error = first_error(check)
    if error is None:
        return None
    return {
        "employee_id": check.employee_id,
        "error": error.code,
        "message": f"{worker_name}：{error.message}",
    }


def warnings_of(check: WorkerCheck) -> list[dict[str, str]]:
    return [{"employee_id": check.employee_id, **w.as_dict()} for w in check.warnings]


async def _check_workers(
    deps: Deps, enterprise: Enterprise, cards: dict[str, WorkerCard], workers: list[str],
    values_of: Callable[[WorkerCard], dict[str, Any]], types: list[str], term_type: object,
    renewal_of: str | None = None,
) -> dict[str, WorkerCheck]:  # fmt: skip
    table = minimum_table(deps.labor_law)
    today = china_time(deps.clock.now()).date()
    out: dict[str, WorkerCheck] = {}
    async with deps.uow() as uow:  # one look-up for the whole batch
        earlier = await uow.labor.had_probation(enterprise.id, [c.phone for c in cards.values()])
    for employee_id in workers:
        card = cards.get(employee_id)
        check = WorkerCheck(employee_id, card.name if card else "")
        out[employee_id] = check
        if card is None or not card.active:
            continue
        try:
            values = values_of(card)
        except Invalid:
            continue
        term = derive_term(values, types, term_type, card.position)
        term.renewal_of = renewal_of
        check.term = term
        check.errors = term_errors(term, card.birth_date, today)
        if check.errors:
            continue
        region = table.region_for(term.work_place)
        minimum = table.lookup(region, term.start_date or today)
        check.warnings = term_warnings(
            term, minimum, region, earlier_probation=term.has_probation and card.phone in earlier
        )
    return out


async def recheck(
    deps: Deps, enterprise: Enterprise, contract: Contract, term: ContractTerm | None
) -> WorkerCheck:
    """The checks of a contract sent again as it was (重新发起): the rules of a launch, applied
    to the term it carried."""
    check = WorkerCheck(contract.employee_id, contract.worker_name, term=term)
    if term is None:
        return check
    today = china_time(deps.clock.now()).date()
    async with deps.uow() as uow:
        cards = await uow.workers.cards(deps, enterprise.id, [contract.employee_id])
        earlier = await uow.labor.had_probation(enterprise.id, [contract.worker_phone])
    card = cards.get(contract.employee_id)
    check.errors = term_errors(term, card.birth_date if card else None, today)
    if not check.errors:
        table = minimum_table(deps.labor_law)
        region = table.region_for(term.work_place)
        minimum = table.lookup(region, term.start_date or today)
        check.warnings = term_warnings(
            term, minimum, region, earlier_probation=term.has_probation and contract.worker_phone in earlier
        )
    return check


def require_confirmed(checks: dict[str, WorkerCheck], confirmed: object) -> None:
    """Nothing is launched while the law says otherwise and HR has not said it knows."""
    if confirmed is True or not any(c.warnings for c in checks.values()):
        return
    raise WrongState(
        "合同条款存在劳动法风险，请确认后再发起（confirm_warnings: true）",
        "labor_law_warnings",
        workers=[c.as_dict() for c in checks.values() if c.warnings or c.errors],
    )


def first_error(check: WorkerCheck | None) -> Warning_ | None:
    return check.errors[0] if check is not None and check.errors else None


async def check_launch(
    deps: Deps, actor: Actor, *, template_ids: object, employee_ids: object, fields: object,
    term_type: object = None, placements: object = None, **_launch: object,
) -> list[WorkerCheck]:  # fmt: skip
    """POST /contracts/check: the launch body's checks, nothing stored or sent. An upload
    launch's meta (placements, no template_ids) is checked on the term it states."""
    from .contracts.launch import id_list, load_templates

    enterprise = actor.require(Permission.CONTRACTS)
    upload = template_ids is None and placements is not None
    templates = (
        []
        if upload
        else await load_templates(
            deps, enterprise, id_list(template_ids, "template_ids", "请至少选择一个已开启的模板")
        )
    )
    values = upload_term_values(fields, term_type) if upload else {}
    workers = id_list(employee_ids, "employee_ids", "请至少选择一名劳动者")
    async with deps.uow() as uow:
        cards = await uow.workers.cards(deps, enterprise.id, workers)
    if upload:
        checks = await precheck_upload(deps, enterprise, values, cards, workers, term_type)
    else:
        given = with_enterprise_prefill(fields if isinstance(fields, dict) else {}, enterprise)
        checks = await precheck(deps, enterprise, templates, given, cards, workers, term_type)
    for employee_id, check in checks.items():
        card = cards.get(employee_id)
        if card is None or not card.active:
            check.errors.append(Warning_("employee_not_active", "员工不存在或不在职", ""))
    return list(checks.values())


async def store_term(uow: UnitOfWork, contract: Contract, term: ContractTerm | None) -> None:
    if term is not None:
        term.contract_id = contract.id
        contract.note_term(term.type == TermType.FIXED, term.end_date)
        uow.add(term)


def copy_term(term: ContractTerm | None) -> ContractTerm | None:
    if term is None:
        return None
    return dataclasses.replace(term, contract_id="")


async def term_of(deps: Deps, contract: Contract) -> ContractTerm | None:
    """The stored term; a contract from before terms were stored has one read from its values."""
    if contract.source == "certificate":
        return None
    async with deps.uow() as uow:
        stored = (await uow.labor.terms_of([contract.id])).get(contract.id)
    return stored if stored is not None else derive_term(contract.values)


# -- deadlines --------------------------------------------------------------------------------

ART_44_46 = "《劳动合同法》第四十四条、第四十六条"
ART_14 = "《劳动合同法》第十四条"
ART_19_21 = "《劳动合同法》第十九条、第二十一条"
ALERT_KINDS = tuple(ALERT_KIND_LABELS)
UNSIGNED_FROM_DAYS = 20
RENEWAL_WITHIN_DAYS = 30
PROBATION_WITHIN_DAYS = 7


@dataclass
class Alert:
    kind: str
    employee_id: str
    employee_name: str
    due_date: date
    days_left: int
    message: str
    article: str
    contract_id: str | None = None

    @property
    def key(self) -> str:
        overdue = ":overdue" if self.days_left < 0 and self.kind == "no_written_contract" else ""
        return f"{self.kind}:{self.employee_id}:{self.contract_id or ''}:{self.due_date.isoformat()}{overdue}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "employee_id": self.employee_id, "employee_name": self.employee_name,
            "contract_id": self.contract_id, "due_date": self.due_date.isoformat(), "days_left": self.days_left,
            "message": self.message, "article": self.article,
        }  # fmt: skip


# A new fixed-term contract this soon after the last one ended continues the count of Art. 14.
CONSECUTIVE_GAP_DAYS = 31


_fmt = date_text


async def alerts_of(uow: UnitOfWork, enterprise_id: str, today: date) -> list[Alert]:
    staff = [e for e in await uow.labor.current_employees(enterprise_id) if e.status == "active"]
    done = await uow.labor.labor_contracts(enterprise_id, ("completed",))
    terms = [(c, t if t is not None else derive_term(c.values)) for c, t in done]
    renewed = {t.renewal_of for _, t in terms if t.renewal_of}
    by_employee: dict[str, list[tuple[Contract, ContractTerm]]] = {}
    for c, t in terms:
        by_employee.setdefault(c.employee_id, []).append((c, t))
    out: list[Alert] = []
    for e in staff:
        out.extend(_employee_alerts(e, by_employee.get(e.id, []), renewed, today))
    out.sort(key=lambda a: (a.days_left, a.kind, a.employee_name))
    return out


def _employee_alerts(
    e: Employee, done: list[tuple[Contract, ContractTerm]], renewed: set[str], today: date
) -> list[Alert]:
    out: list[Alert] = []

    def alert(kind: str, due: date, message: str, article: str, contract: Contract | None = None) -> None:
        out.append(
            Alert(
                kind,
                e.id,
                e.name,
                due,
                (due - today).days,
                message,
                article,
                contract.id if contract else None,
            )
        )

    if not done and e.hire_date is not None and today >= add_days(e.hire_date, UNSIGNED_FROM_DAYS):
        due = written_contract_due(e.hire_date)
        if today > due:
            text = (f"{e.name}自{_fmt(e.hire_date)}入职已超过一个月，仍未订立书面劳动合同；"
                    f"自{_fmt(double_wages_from(e.hire_date))}起，用人单位应当每月支付二倍工资")  # fmt: skip
        else:
            text = f"{e.name}于{_fmt(e.hire_date)}入职，尚未订立书面劳动合同，请于{_fmt(due)}前订立"
        alert("no_written_contract", due, text, ART_10_82)
    for c, t in done:
        if t.type == TermType.FIXED and t.end_date and c.id not in renewed:
            if 0 <= (t.end_date - today).days <= RENEWAL_WITHIN_DAYS:
                alert("renewal_due", t.end_date, f"{e.name}的《{c.name}》将于{_fmt(t.end_date)}到期，请及时办理续签或终止", ART_44_46, c)  # fmt: skip
        if t.probation_end_date and 0 <= (t.probation_end_date - today).days <= PROBATION_WITHIN_DAYS:
            alert("probation_ending", t.probation_end_date, f"{e.name}的试用期将于{_fmt(t.probation_end_date)}结束", ART_19_21, c)  # fmt: skip
    if any(t.type == TermType.OPEN_ENDED for _, t in done):
        return out
    last = _two_consecutive_fixed_terms(done)
    if last is not None:
        last_c, last_t = last
        alert("open_ended_due", last_t.end_date or today,
              f"{e.name}已连续订立二次固定期限劳动合同，续订时劳动者提出或者同意续订的，应当订立无固定期限劳动合同",
              ART_14, last_c)  # fmt: skip
    elif e.hire_date is not None and add_months(e.hire_date, 120) <= today + timedelta(
        days=RENEWAL_WITHIN_DAYS
    ):
        alert("open_ended_due", add_months(e.hire_date, 120),
              f"{e.name}在本单位连续工作满十年，续订时劳动者提出或者同意续订的，应当订立无固定期限劳动合同", ART_14)  # fmt: skip
    return out


def _two_consecutive_fixed_terms(
    done: list[tuple[Contract, ContractTerm]],
) -> tuple[Contract, ContractTerm] | None:
    """The later of the worker's two latest fixed-term contracts when they were concluded one
    after the other (Art. 14 ¶2 (3)): the later renews the earlier, or starts within
    CONSECUTIVE_GAP_DAYS of its end. Years between them make a new count."""
    fixed = sorted(
        ((c, t) for c, t in done if t.type == TermType.FIXED and t.start_date is not None),
        key=lambda ct: ct[1].start_date or date.min,
    )
    if len(fixed) < 2:
        return None
    (earlier_c, earlier_t), (later_c, later_t) = fixed[-2], fixed[-1]
    assert later_t.start_date is not None
    follows = later_t.renewal_of == earlier_c.id or (
        earlier_t.end_date is not None and (later_t.start_date - earlier_t.end_date).days <= CONSECUTIVE_GAP_DAYS
    )
    return (later_c, later_t) if follows else None


async def list_alerts(deps: Deps, actor: Actor, kind: str | None) -> list[Alert]:
    enterprise = actor.require(Permission.CONTRACTS)
    if kind not in (None, "") and kind not in ALERT_KINDS:
        raise Invalid.field(
            "kind", "类型应为 no_written_contract、renewal_due、open_ended_due 或 probation_ending"
        )
    today = china_time(deps.clock.now()).date()
    async with deps.uow() as uow:
        items = await alerts_of(uow, enterprise.id, today)
    return [a for a in items if not kind or a.kind == kind]


def alert_text(enterprise: Enterprise, item: Alert) -> str:
    """What HR is told of an alert, by SMS and on chat: the message the alerts page shows."""
    return f"【{enterprise.name}】{item.message}（{item.article}）"


async def notify_alerts(deps: Deps) -> int:
    """Background job: tells each enterprise's HR of every alert once (LaborAlertRaised: SMS,
    and the chat of those bound on an HR app). Safe with several processes: the notice row's
    key lets only one of them tell."""
    now = deps.clock.now()
    today = china_time(now).date()
    told = 0
    async with deps.uow() as uow:
        enterprise_ids = await uow.labor.enterprises_with_employees()
    for enterprise_id in enterprise_ids:
        async with deps.uow() as uow:
            enterprise = await uow.get(Enterprise, enterprise_id)
            items = await alerts_of(uow, enterprise_id, today)
        if enterprise is None:
            continue
        for item in items:
            async with deps.uow() as uow:
                if not await uow.labor.remember_alert(enterprise_id, item.key, now):
                    continue
                uow.record(
                    LaborAlertRaised(
                        enterprise_id=enterprise_id, at=now, kind=item.kind, kind_label=ALERT_KIND_LABELS[item.kind],
                        text=alert_text(enterprise, item), employee_id=item.employee_id,
                        employee_name=item.employee_name, due_date=item.due_date.isoformat(),
                        enterprise_name=enterprise.name, link=f"{deps.public_url}/dashboard/alerts",
                    )
                )  # fmt: skip
                await uow.commit()
                told += 1
    return told


# -- renewal ----------------------------------------------------------------------------------


async def renew(
    deps: Deps, actor: Actor, contract_id: str, *, fields: object, confirm_warnings: object = None,
    term_type: object = None, sign_deadline: object = None, ctx: Any,
) -> Any:  # fmt: skip
    """续签: a contract to the same worker from the same templates with the new term's fields
    (the old values stand where none is given), checked like any launch and linked to the old
    one, whose renewal alert ends once this one is signed."""
    from .contracts.launch import initiate
    from .contracts.queries import enterprise_contract

    async with deps.uow() as uow:
        old = await enterprise_contract(uow, actor, contract_id)
    if old.status != "completed" or old.source != "template":
        raise WrongState("只有已签署完成的模板合同可以续签", "not_renewable")
    kept = {
        c.key: old.values[c.key]
        for c in old.controls
        if c.filled_by == FilledBy.INITIATOR and c.key in old.values and not c.key.startswith("worker_")
    }
    given = fields if isinstance(fields, dict) else {}
    return await initiate(
        deps, actor, name=old.name, template_ids=old.template_ids, employee_ids=[old.employee_id],
        enterprise_party={"seal_type": old.enterprise_party.get("seal_type")}, fields={**kept, **given},
        sign_deadline=sign_deadline, ctx=ctx, confirm_warnings=confirm_warnings, term_type=term_type,
        renewal_of=old.id,
    )  # fmt: skip


# -- the termination certificate ----------------------------------------------------------------

REASON_TYPES = REASON_TYPE_LABELS
CERTIFICATE_NAME = "解除（终止）劳动合同证明"


def _reason_type(raw: object) -> str:
    value = str(raw or "other")
    if value not in REASON_TYPES:
        raise Invalid.field(
            "reason_type",
            "离职类型应为 mutual_agreement（协商一致）、employee_resigned（劳动者提出）、contract_expired（合同期满）、employer_terminated（用人单位解除）或 other",
        )
    return value


def _last_day(raw: object, today: date, hired: date | None) -> date:
    if raw in (None, ""):
        return today
    try:
        day = date.fromisoformat(str(raw))
    except ValueError:
        raise Invalid.field("last_day", "最后工作日格式应为 YYYY-MM-DD") from None
    if hired is not None and day < hired:
        raise Invalid.field("last_day", "最后工作日不能早于入职日期")
    return day


def years_of_service(hired: date | None, last_day: date) -> str:
    if hired is None:
        return "—"
    months = (last_day.year - hired.year) * 12 + last_day.month - hired.month
    if last_day.day + 1 < hired.day:
        months -= 1
    years, rest = divmod(max(months, 0), 12)
    if years and rest:
        return f"{years}年{rest}个月"
    return f"{years}年" if years else f"{rest}个月"


def _term_text(term: ContractTerm | None) -> str:
    if term is None or term.start_date is None:
        return "未在本平台订立"
    if term.type == TermType.OPEN_ENDED or term.end_date is None:
        return f"无固定期限（自{_fmt(term.start_date)}起）"
    return f"{_fmt(term.start_date)}至{_fmt(term.end_date)}"


async def confirm_resignation(
    deps: Deps, actor: Actor, employee_id: str, *, handover_to: object, remark: object,
    last_day: object = None, reason_type: object = None, ctx: Any,
) -> tuple[Employee, Contract]:  # fmt: skip
    """确认离职 with what Art. 50 asks of the employer: the certificate, prepared for the
    enterprise's seal, and the worker's contracts still signing withdrawn with the reason."""
    from . import roster
    from .contracts.lifecycle import withdraw

    kind = _reason_type(reason_type)
    today = china_time(deps.clock.now()).date()
    async with deps.uow() as uow:
        current = await uow.get(Employee, employee_id)
        live = []
        if (
            current is not None
            and actor.enterprise is not None
            and current.enterprise_id == actor.enterprise.id
        ):
            live = await uow.labor.labor_contracts(current.enterprise_id, ("signing", "completed"), employee_id)
    day = _last_day(last_day, today, current.hire_date if current else None)
    signing = [c for c, _ in live if c.employee_id == employee_id and c.status == "signing"]
    if signing:
        actor.require(Permission.CONTRACTS)  # before anything changes
    employee = await roster.confirm_resignation(deps, actor, employee_id, handover_to, remark)
    label = REASON_TYPES[kind]
    if kind == "other" and employee.resign_reason:
        label = f"{employee.resign_reason}"
    for c in signing:
        await withdraw(deps, actor, c.id, f"劳动者已离职（{label}）", ctx)
    done = [(c, t) for c, t in live if c.employee_id == employee_id and c.status == "completed"]
    term = (done[-1][1] or derive_term(done[-1][0].values)) if done else None
    certificate = await _issue_certificate(deps, actor, employee, term, day, kind, label, ctx)
    return employee, certificate


async def _issue_certificate(
    deps: Deps, actor: Actor, employee: Employee, term: ContractTerm | None, day: date, kind: str,
    label: str, ctx: Any,
) -> Contract:  # fmt: skip
    import asyncio
    import hashlib
    import uuid

    from ..contracts import Party, PartyRole
    from ..identity_rules import mask_id_number
    from ..pdf.certificate import CertificateData, build_certificate, seal_control
    from .contracts.audit import audited
    from .contracts.audit import enterprise_actor as _enterprise_actor
    from .contracts.controls import party_slots

    enterprise = actor.require_enterprise()[0]
    now = deps.clock.now()
    async with deps.uow() as uow:
        card = (await uow.workers.cards(deps, enterprise.id, [employee.id]))[employee.id]
    contract = Contract(
        enterprise_id=enterprise.id, batch_id=uuid.uuid4().hex, name=CERTIFICATE_NAME, employee_id=employee.id,
        created_by=actor.user.id if actor.user else (actor.api_key.created_by if actor.api_key else ""),
        created_at=now, source="certificate", document_blob="", original_blob="", original_sha256="",
        controls=[seal_control()], values={"last_day": day.isoformat(), "reason_type": kind, "reason": label},
        enterprise_party={
            "name": enterprise.name, "credit_code": enterprise.credit_code, "seal_type": "official",
            "operator_name": actor.member.name if actor.member else "", "operator_phone": actor.user.phone if actor.user else "",
        },
        worker_user_id=card.user_id, worker_name=card.name, worker_phone=card.phone,
    )  # fmt: skip
    data = CertificateData(
        enterprise_name=enterprise.name, worker_name=card.name,
        id_masked=mask_id_number(card.id_number) if card.id_number else "—",
        hire_date=_fmt(employee.hire_date) if employee.hire_date else "—",
        position=(term.position if term and term.position else None) or employee.position or "—",
        term=_term_text(term), last_day=_fmt(day), ending="终止" if kind == "contract_expired" else "解除",
        reason=label, years_of_service=years_of_service(employee.hire_date, day), issued_on=_fmt(china_time(now).date()),
        number=contract.id,
    )  # fmt: skip
    # One small page: a thread keeps the event loop free without a trip to the process pool.
    pdf = await asyncio.to_thread(build_certificate, data)
    pdf = await deps.pdf.add_slots(pdf, party_slots(contract.controls))
    blob = await deps.blobs.put(pdf)
    sha = hashlib.sha256(pdf).hexdigest()
    contract.document_blob = contract.original_blob = blob
    contract.document_sha256 = contract.original_sha256 = sha
    contract.files = [{"index": 0, "name": f"{CERTIFICATE_NAME}.pdf", "first_page": 1, "pages": 1}]
    who, actor_id, actor_name = _enterprise_actor(actor)
    async with deps.uow() as uow:
        uow.add(contract)
        seal_only = Party(contract_id=contract.id, role=PartyRole.ENTERPRISE, name=enterprise.name)
        uow.add(seal_only)
        await uow.flush()
        uow.record(
            audited(contract, "created", now, ctx, actor_type=who, actor_id=actor_id, actor_name=actor_name)
        )
        contract.launch(now, [seal_only])
        uow.record(
            audited(contract, "launched", now, ctx, actor_type=who, actor_id=actor_id, actor_name=actor_name)
        )
        await uow.commit()
    return contract


# -- chat -------------------------------------------------------------------------------------


async def contract_end_text(deps: Deps, phone: str) -> str:
    """What a worker asking 合同到期 hears: when each of their signed labor contracts ends."""
    today = china_time(deps.clock.now()).date()
    async with deps.uow() as uow:
        items, _, _ = await uow.contracts.page(
            worker_phone=phone, view="completed", q=None, status=None, offset=0, limit=50
        )
        items = [c for c in items if c.source != "certificate"]
        terms = await uow.labor.terms_of([c.id for c in items])
        names: dict[str, str] = {}
        for c in items:
            enterprise = await uow.get(Enterprise, c.enterprise_id)
            names[c.enterprise_id] = enterprise.name if enterprise else ""
    if not items:
        return "您目前没有已签署完成的劳动合同。回复“我的合同”查看全部合同。"
    lines = ["您的劳动合同期限："]
    for c in items:
        term = terms.get(c.id) or derive_term(c.values)
        who = f"【{names.get(c.enterprise_id, '')}】《{c.name}》"
        if term.end_date is not None:
            left = (term.end_date - today).days
            when = f"还有{left}天" if left >= 0 else f"已于{-left}天前到期"
            lines.append(f"{who}于{_fmt(term.end_date)}到期（{when}）")
        elif term.type == TermType.OPEN_ENDED:
            lines.append(f"{who}为无固定期限劳动合同，没有到期日")
        else:
            lines.append(f"{who}未约定终止日期，请咨询用人单位")
    return "\n".join(lines)


async def terms_for(uow: UnitOfWork, items: list[Contract]) -> dict[str, ContractTerm]:
    """Each contract's term (stored, or read from the values of a contract from before terms
    were stored); a certificate has none."""
    shown = [c for c in items if c.source != "certificate"]
    stored = await uow.labor.terms_of([c.id for c in shown])
    return {c.id: stored.get(c.id) or derive_term(c.values) for c in shown}


async def term_texts(uow: UnitOfWork, items: list[Contract]) -> dict[str, list[str]]:
    """Each contract's term as the lines a chat message shows (none when it states none):
    the facts the web answers as `term`."""
    return {cid: term_lines(term) for cid, term in (await terms_for(uow, items)).items()}


async def term_summaries(uow: UnitOfWork, items: list[Contract]) -> dict[str, str]:
    return {cid: term_summary(term) for cid, term in (await terms_for(uow, items)).items()}
