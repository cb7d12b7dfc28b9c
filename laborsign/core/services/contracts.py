"""Contract use cases: initiate (from templates or an uploaded PDF), list, remind, withdraw,
re-initiate, decline, expire, and signing by both parties with intent verification.

Each signature is applied to the PDF first (off the event loop), stored as a new blob, and
then recorded in one transaction guarded by the contract's version, so a crash or a double
submit never leaves a contract signed twice or marked signed without its signature."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..accounts import Enterprise, Permission, User
from ..budgets import spend
from ..clock import china_time
from ..contracts import (
    CONTRACT_STATUS_LABELS,
    Contract,
    ContractEvent,
    ContractFilters,
    ContractStatus,
    Party,
    PartyRole,
    PartyStatus,
    SealType,
    SigningOrder,
    WorkerCard,
    chain_event,
    display_value,
    parse_control_value,
    parse_day_range,
    parse_signing_order,
    validate_contract_name,
    with_enterprise_prefill,
)
from ..errors import DomainError, Invalid, NotFound, WrongState
from ..events import ContractDeclined, ContractExpired, ContractLaunched, ContractWithdrawn, contract_facts
from ..labor_law import ContractTerm
from ..notify import notify_person
from ..paging import Cursor, looks_like_id_number, next_cursor, search_text
from ..pdf.compose import merge_pdfs, rebase_controls
from ..pdf.stamps import Stamp
from ..ports import Deps, UnitOfWork
from ..signing import INTENT_METHOD_LABELS, Seal
from ..templates import Template
from ..values import mask_phone
from ..verification import PERSON_METHOD_LABELS, PersonMethod, require_enterprise_verified
from . import labor
from .accounts import Actor

NOT_FOUND = "合同不存在"
LAUNCH_CONCURRENCY = 4


@dataclass
class Context:
    """Who did it and from where, for the audit trail."""

    ip: str = ""
    user_agent: str = ""


@dataclass
class LaunchResult:
    batch_id: str
    created: list[tuple[Contract, list[Party]]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)


# -- audit ------------------------------------------------------------------------------------


async def record_event(
    uow: UnitOfWork,
    contract: Contract,
    kind: str,
    now: datetime,
    ctx: Context,
    *,
    actor_type: str,
    actor_id: str | None,
    actor_name: str,
    method: str | None = None,
    **details: Any,
) -> ContractEvent:
    previous = await uow.contracts.last_event(contract.id)
    event = chain_event(
        previous,
        contract_id=contract.id,
        kind=kind,
        at=now,
        actor_type=actor_type,
        actor_id=actor_id,
        actor_name=actor_name,
        ip=ctx.ip[:64],
        user_agent=ctx.user_agent[:300],
        method=method,
        document_sha256=contract.document_sha256,
        details=details,
    )
    uow.add(event)
    await uow.flush()
    return event


def _enterprise_actor(actor: Actor) -> tuple[str, str | None, str]:
    if actor.member is not None:
        return "enterprise", actor.member.user_id, actor.member.name
    if actor.api_key is not None:
        return "integrator", actor.api_key.id, f"API密钥 {actor.api_key.name}"
    return "enterprise", None, "企业"


# -- initiation -------------------------------------------------------------------------------


def _merge_controls(templates: list[Template], starts: list[list[int]]) -> list[dict[str, Any]]:
    """Controls of all chosen templates on the merged document. A key used by two templates
    is one field (filled once, drawn in both places)."""
    out: list[dict[str, Any]] = []
    for template, template_starts in zip(templates, starts, strict=True):
        out.extend(rebase_controls(template.controls, template_starts))
    return out


def unique_controls(controls: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for c in controls:
        seen.setdefault(c["key"], c)
    return seen


def collect_values(
    controls: list[dict[str, Any]], filled_by: str, given: object, prefill: dict[str, str] | None = None
) -> dict[str, str]:
    """Typed values of the controls one side fills, every error at once; `prefill` stands in
    for what was not given. A signing party's signature, seal and date areas are not values:
    they are made when it signs."""
    data = given if isinstance(given, dict) else {}
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for key, control in unique_controls(controls).items():
        if control["filled_by"] != filled_by:
            continue
        if filled_by != "initiator" and control["kind"] in ("signature", "seal", "sign_date"):
            continue
        try:
            value = parse_control_value(control, data.get(key, (prefill or {}).get(key)))
        except Invalid as exc:
            errors.update(exc.fields)
            continue
        if value is not None:
            values[key] = value
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    return values


def _stamps_for(controls: list[dict[str, Any]], values: dict[str, str]) -> list[Stamp]:
    return [
        Stamp(c["page"], c["x"], c["y"], c["width"], c["height"], text=display_value(c, values[c["key"]]))
        for c in controls
        if c["key"] in values and c["kind"] not in ("signature", "seal")
    ]


def slot_name(index: int) -> str:
    """The form field prepared for the control at `index` of a contract's controls."""
    return f"ls_mark_{index}"


def party_slots(controls: list[dict[str, Any]]) -> list[Stamp]:
    """Where the parties' own marks will go: one prepared field per control they fill."""
    return [
        Stamp(c["page"], c["x"], c["y"], c["width"], c["height"], slot=slot_name(i))
        for i, c in enumerate(controls)
        if c["filled_by"] in ("worker", "enterprise")
    ]


def _parse_party(raw: object, enterprise: Enterprise, actor: Actor) -> dict[str, Any]:
    data = raw if isinstance(raw, dict) else {}
    operator = actor.member.name if actor.member else ""
    phone = actor.user.phone if actor.user else ""
    seal_type = str(data.get("seal_type") or SealType.CONTRACT)
    if seal_type not in {s.value for s in SealType}:
        raise Invalid.field("enterprise_party.seal_type", "印章类型应为公章、合同专用章或人事专用章")
    name = str(data.get("operator_name") or operator).strip()
    if not name or len(name) > 50:
        raise Invalid.field("enterprise_party.operator_name", "请填写经办人姓名（最多50个字符）")
    from ..values import Phone

    operator_phone = Phone.parse(data.get("operator_phone") or phone, "enterprise_party.operator_phone").value
    return {
        "name": enterprise.name,
        "credit_code": enterprise.credit_code,
        "operator_name": name,
        "operator_phone": operator_phone,
        "seal_type": seal_type,
    }


def _parse_deadline(raw: object, now: datetime) -> datetime | None:
    if raw in (None, ""):
        return None
    try:
        when = datetime.fromisoformat(str(raw))
    except ValueError:
        raise Invalid.field(
            "sign_deadline", "签署截止时间格式应为 ISO 8601，例如 2026-12-31T18:00:00+08:00"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=china_time(now).tzinfo)
    if when <= now:
        raise Invalid.field("sign_deadline", "签署截止时间应晚于当前时间")
    return when


async def initiate(
    deps: Deps,
    actor: Actor,
    *,
    name: object,
    template_ids: object,
    employee_ids: object,
    enterprise_party: object,
    fields: object,
    sign_deadline: object = None,
    signing_order: object = None,
    ctx: Context,
    confirm_warnings: object = None,
    term_type: object = None,
    renewal_of: str | None = None,
) -> LaunchResult:
    enterprise = actor.require(Permission.CONTRACTS)
    require_enterprise_verified(enterprise)
    order = parse_signing_order(signing_order)
    ids = id_list(template_ids, "template_ids", "请至少选择一个已开启的模板")
    workers = id_list(employee_ids, "employee_ids", "请至少选择一名劳动者")
    given = with_enterprise_prefill(fields if isinstance(fields, dict) else {}, enterprise)
    now = deps.clock.now()
    templates = await load_templates(deps, enterprise, ids)
    contract_name = validate_contract_name(name if name not in (None, "") else templates[0].name)
    party = _parse_party(enterprise_party, enterprise, actor)
    deadline = _parse_deadline(sign_deadline, now)
    files: list[bytes] = []
    file_names: list[str] = []
    starts_per_template: list[list[int]] = []
    for t in templates:
        starts_per_template.append([])
        for f in t.files:
            files.append(await deps.blobs.get(f["blob"]))
            file_names.append(f["name"])
    base, starts = merge_pdfs(files) if len(files) > 1 else (files[0], [1])
    cursor = 0
    for i, t in enumerate(templates):
        starts_per_template[i] = starts[cursor : cursor + len(t.files)]
        cursor += len(t.files)
    controls = _merge_controls(templates, starts_per_template)
    # Validate the shared values once, before touching any worker, so a typo fails fast.
    collect_values(controls, "initiator", given, _placeholder_prefill(controls))
    page_counts = [len(f["pages"]) for t in templates for f in t.files]
    doc_files = [
        {"index": i, "name": n, "first_page": s, "pages": c}
        for i, (n, s, c) in enumerate(zip(file_names, starts, page_counts, strict=True))
    ]
    result = LaunchResult(batch_id=uuid.uuid4().hex)
    async with deps.uow() as uow:
        cards = await uow.workers.cards(deps, enterprise.id, workers)
    checks = await labor.precheck(deps, enterprise, templates, given, cards, workers, term_type, renewal_of)
    labor.require_confirmed(checks, confirm_warnings)
    # Workers are launched a few at a time: the PDF work runs in the process pool while the
    # event loop stores the previous ones. Results keep the order of the request.
    gate = asyncio.Semaphore(LAUNCH_CONCURRENCY)
    outcomes: dict[str, tuple[Contract, list[Party]] | DomainError] = {}

    async def one(employee_id: str) -> None:
        async with gate:
            try:
                outcomes[employee_id] = await _launch_one(
                    deps, actor, enterprise, cards.get(employee_id), employee_id, contract_name, base, controls,
                    given, party, deadline, [t.id for t in templates], doc_files, result, ctx,
                    checks[employee_id], order=order,
                )  # fmt: skip
            except (Invalid, WrongState, NotFound) as exc:
                outcomes[employee_id] = exc

    await asyncio.gather(*(one(e) for e in workers))
    for employee_id in workers:
        outcome = outcomes[employee_id]
        if isinstance(outcome, DomainError):
            result.failed.append(
                {"employee_id": employee_id, "error": outcome.code, "message": outcome.message}
            )
        else:
            result.created.append(outcome)
    return result


async def load_templates(deps: Deps, enterprise: Enterprise, ids: list[str]) -> list[Template]:
    """The chosen templates in order: each enabled and the enterprise's own or public."""
    async with deps.uow() as uow:
        found = {t.id: t for t in await uow.templates.by_ids(ids)}
    templates = []
    for tid in ids:
        t = found.get(tid)
        visible = t is not None and (
            (t.scope == "public") or (t.scope == "enterprise" and t.enterprise_id == enterprise.id)
        )
        if t is None or not visible:
            raise NotFound("模板不存在", "template_not_found")
        t.require_enabled()
        templates.append(t)
    return templates


def _placeholder_prefill(controls: list[dict[str, Any]]) -> dict[str, str]:
    """Worker facts are only known per worker; assume they will be present for the dry run."""
    out = {}
    for c in controls:
        if c["key"].startswith("worker_") and c["filled_by"] == "initiator":
            out[c["key"]] = "2000-01-01" if c["kind"] == "date" else ("1" if c["kind"] == "number" else "-")
            if c["kind"] == "choice" and c.get("options"):
                out[c["key"]] = c["options"][0]
    return out


def id_list(raw: object, name: str, empty: str) -> list[str]:
    if not isinstance(raw, list) or not raw:
        raise Invalid.field(name, empty)
    if len(raw) > 1000:
        raise Invalid.field(name, "一次最多1000项")
    out = []
    for item in raw:
        if not isinstance(item, str) or not item:
            raise Invalid.field(name, "编号格式不正确")
        if item not in out:
            out.append(item)
    return out


async def _launch_one(
    deps: Deps,
    actor: Actor,
    enterprise: Enterprise,
    card: WorkerCard | None,
    employee_id: str,
    contract_name: str,
    base: bytes,
    controls: list[dict[str, Any]],
    given: dict[str, Any],
    party: dict[str, Any],
    deadline: datetime | None,
    template_ids: list[str],
    doc_files: list[dict[str, Any]],
    result: LaunchResult,
    ctx: Context,
    check: labor.WorkerCheck,
    *,
    order: str = SigningOrder.PARALLEL,
) -> tuple[Contract, list[Party]]:
    if card is None:
        raise NotFound("员工不存在", "employee_not_found")
    if not card.active:
        raise WrongState(f"{card.name}不是在职员工，不能发起合同", "employee_not_active")
    now = deps.clock.now()
    values = collect_values(controls, "initiator", given, card.prefill())
    error = labor.first_error(check)
    if error is not None:
        raise Invalid.field("employee_ids", f"{card.name}：{error.message}", code=error.code)
    result.warnings.extend({"employee_id": employee_id, **w.as_dict()} for w in check.warnings)
    filled = await deps.pdf.stamp(base, _stamps_for(controls, values), flatten=True)
    filled = await deps.pdf.add_slots(filled, party_slots(controls))
    blob = await deps.blobs.put(filled)
    sha = hashlib.sha256(filled).hexdigest()
    creator = actor.user.id if actor.user else (actor.api_key.created_by if actor.api_key else "")
    contract = Contract(
        enterprise_id=enterprise.id,
        batch_id=result.batch_id,
        name=contract_name,
        employee_id=employee_id,
        created_by=creator,
        created_at=now,
        source="template",
        document_blob=blob,
        original_blob=blob,
        original_sha256=sha,
        document_sha256=sha,
        files=doc_files,
        controls=controls,
        values=values,
        enterprise_party=party,
        template_ids=template_ids,
        worker_user_id=card.user_id,
        worker_name=card.name,
        worker_phone=card.phone,
        sign_deadline=deadline,
        signing_order=order,
    )
    return await _store_and_launch(deps, actor, contract, ctx, check.term)


async def _store_and_launch(
    deps: Deps, actor: Actor, contract: Contract, ctx: Context, term: ContractTerm | None = None
) -> tuple[Contract, list[Party]]:
    now = deps.clock.now()
    parties = [
        Party(
            contract_id=contract.id,
            role=PartyRole.WORKER,
            name=contract.worker_name,
            user_id=contract.worker_user_id,
        ),
        Party(contract_id=contract.id, role=PartyRole.ENTERPRISE, name=contract.enterprise_party["name"]),
    ]
    kind, actor_id, actor_name = _enterprise_actor(actor)
    async with deps.uow() as uow:
        uow.add(contract)
        for p in parties:
            uow.add(p)
        await uow.flush()
        await labor.store_term(uow, contract, term)
        await record_event(
            uow, contract, "created", now, ctx, actor_type=kind, actor_id=actor_id, actor_name=actor_name
        )
        contract.launch(now, parties)
        await record_event(
            uow, contract, "launched", now, ctx, actor_type=kind, actor_id=actor_id, actor_name=actor_name,
            sign_deadline=contract.sign_deadline.isoformat() if contract.sign_deadline else None,
        )  # fmt: skip
        uow.record(ContractLaunched(at=now, sign_deadline=contract.sign_deadline, **contract_facts(contract)))
        if contract.turn_of(PartyRole.WORKER, parties):
            await invite_worker_to_sign(deps, uow, contract, now)
        await uow.commit()
    return contract, parties


async def invite_worker_to_sign(deps: Deps, uow: UnitOfWork, contract: Contract, now: datetime) -> None:
    """The worker's invitation, sent when it is their turn: at launch, or once the enterprise
    has signed a contract it signs first."""
    enterprise = contract.enterprise_party["name"]
    text = f"【{enterprise}】邀请您签署《{contract.name}》，请点击链接查看并签署："
    await _tell_worker(deps, uow, contract, now, "contract_to_sign", text)


async def _tell_worker(
    deps: Deps, uow: UnitOfWork, contract: Contract, now: datetime, kind: str, text: str
) -> None:
    """A message to the contract's worker with the link to sign it (SMS and chat)."""
    await notify_person(
        uow,
        phone=contract.worker_phone,
        user_id=contract.worker_user_id,
        kind=kind,
        text=text,
        link=f"{deps.public_url}/h5/contracts/{contract.id}",
        now=now,
        contract_id=contract.id,
        enterprise_id=contract.enterprise_id,
        sms={"enterprise": contract.enterprise_party["name"], "contract": contract.name},
    )


async def initiate_from_upload(
    deps: Deps, actor: Actor, *, pdf: bytes, meta: dict[str, Any], ctx: Context
) -> LaunchResult:
    """上传文件直接发起: the PDF is used as it is; only the parties' signature and seal areas
    are added (as prepared fields). The term it states (meta `fields`, `term_type`) is stored
    and checked like a template launch's (labor.check_upload_launch)."""
    enterprise = actor.require(Permission.CONTRACTS)
    require_enterprise_verified(enterprise)
    facts = await deps.pdf.inspect(pdf)
    name = validate_contract_name(meta.get("name"))
    workers = id_list(meta.get("employee_ids"), "employee_ids", "请至少选择一名劳动者")
    party = _parse_party(meta.get("enterprise_party"), enterprise, actor)
    deadline = _parse_deadline(meta.get("sign_deadline"), deps.clock.now())
    order = parse_signing_order(meta.get("signing_order"))
    placements = meta.get("placements")
    if not isinstance(placements, list) or not placements:
        raise Invalid.field("placements", "请为签署双方放置签署位置")
    raw_controls = []
    for i, p in enumerate(placements):
        if not isinstance(p, dict) or p.get("party") not in ("worker", "enterprise"):
            raise Invalid.field(f"placements[{i}].party", "签署方应为 worker 或 enterprise")
        worker = p["party"] == "worker"
        raw_controls.append(
            {
                "key": f"{p['party']}_sign_{i + 1}",
                "label": "劳动者签名" if worker else "企业盖章",
                "kind": "signature" if worker else "seal",
                "file": p.get("file", 0),
                "page": p.get("page"),
                "x": p.get("x"),
                "y": p.get("y"),
                "width": p.get("width"),
                "height": p.get("height"),
                "required": True,
                "filled_by": p["party"],
            }
        )
    from ..templates import validate_controls

    file_desc = [{"pages": [{"width": pg.width, "height": pg.height} for pg in facts.pages]}]
    try:
        controls = validate_controls(raw_controls, file_desc)
    except Invalid as exc:
        raise Invalid(
            exc.message, {k.replace("controls", "placements"): v for k, v in exc.fields.items()}
        ) from None
    kinds = {c["kind"] for c in controls}
    if kinds != {"signature", "seal"}:
        raise Invalid.field("placements", "请同时放置劳动者签名位置和企业盖章位置")
    async with deps.uow() as uow:
        cards = await uow.workers.cards(deps, enterprise.id, workers)
    checks = await labor.check_upload_launch(deps, enterprise, meta, cards, workers)  # before any blob
    pdf = await deps.pdf.add_slots(pdf, party_slots(controls))
    blob = await deps.blobs.put(pdf)
    sha = hashlib.sha256(pdf).hexdigest()
    result = LaunchResult(batch_id=uuid.uuid4().hex)
    creator = actor.user.id if actor.user else (actor.api_key.created_by if actor.api_key else "")
    for employee_id in workers:
        card = cards.get(employee_id)
        if card is None or not card.active:
            result.failed.append(
                {"employee_id": employee_id, "error": "employee_not_found", "message": "员工不存在或不在职"}
            )
            continue
        refused = labor.refusal(checks[employee_id], card.name)
        if refused is not None:
            result.failed.append(refused)
            continue
        result.warnings.extend(labor.warnings_of(checks[employee_id]))
        contract = Contract(
            enterprise_id=enterprise.id, batch_id=result.batch_id, name=name, employee_id=employee_id,
            created_by=creator, created_at=deps.clock.now(), source="upload", document_blob=blob,
            original_blob=blob, original_sha256=sha, document_sha256=sha,
            files=[{"index": 0, "name": f"{name}.pdf", "first_page": 1, "pages": len(facts.pages)}],
            controls=controls, values={}, enterprise_party=party, worker_user_id=card.user_id,
            worker_name=card.name, worker_phone=card.phone, sign_deadline=deadline, signing_order=order,
        )  # fmt: skip
        result.created.append(await _store_and_launch(deps, actor, contract, ctx, checks[employee_id].term))
    return result


# -- reading ----------------------------------------------------------------------------------------

VIEWS = ("all", "awaiting_me", "awaiting_others", "completed")


def _view(raw: str | None) -> str:
    view = raw or "all"
    if view not in VIEWS:
        raise Invalid.field("view", "视图应为 all、awaiting_me、awaiting_others 或 completed")
    return view


async def list_for_enterprise(
    deps: Deps, actor: Actor, view: str | None, q: str | None, status: str | None, page: int, per_page: int,
    cursor: str | None = None, narrow: Mapping[str, str] | None = None,
) -> tuple[list[tuple[Contract, list[Party]]], int, str | None]:  # fmt: skip
    """A page of the tenant's contracts, their total and the cursor of the next page. `q` is
    the start of the worker's name, the contract's name or the phone, or a whole ID number;
    `narrow` the list's other filters as the query gives them (see contract_filters)."""
    enterprise = actor.require(Permission.CONTRACTS)
    after = Cursor.decode(cursor)
    text = search_text(q)
    async with deps.uow() as uow:
        filters = await contract_filters(uow, enterprise.id, narrow or {})
        employee_ids = (
            await uow.roster.employee_ids_by_id_number(
                enterprise.id, deps.cipher.blind_index(text.upper(), "id_number")
            )
            if text and looks_like_id_number(text)
            else []
        )
        items, total, more = await uow.contracts.page(
            enterprise_id=enterprise.id, view=_view(view), q=text, status=status or None,
            offset=0 if after else (page - 1) * per_page, limit=per_page, cursor=after,
            employee_ids=employee_ids, filters=filters,
        )  # fmt: skip
        parties = await uow.contracts.parties_of([c.id for c in items])
    return [(c, parties[c.id]) for c in items], total, next_cursor(items, more)


async def contract_filters(uow: UnitOfWork, enterprise_id: str, query: Mapping[str, str]) -> ContractFilters:
    """department_id (with its sub-departments), template_id, launched_/completed_/term_end_
    from and to (YYYY-MM-DD): unknown departments and templates are a 422."""
    from .roster import _subtree

    department_ids: tuple[str, ...] | None = None
    department_id = (query.get("department_id") or "").strip()
    if department_id:
        departments = await uow.roster.departments_of(enterprise_id)
        if department_id not in {d.id for d in departments}:
            raise Invalid.field("department_id", "部门不存在")
        department_ids = tuple(_subtree(departments, department_id))
    template_id = (query.get("template_id") or "").strip() or None
    if template_id is not None and not (
        len(template_id) <= 64 and template_id.isascii() and template_id.isalnum()
    ):
        raise Invalid.field("template_id", "模板不存在")
    return ContractFilters(
        department_ids=department_ids, template_id=template_id,
        launched=parse_day_range(query, "launched"), completed=parse_day_range(query, "completed"),
        term_end=parse_day_range(query, "term_end"),
    )  # fmt: skip


async def counts_for_enterprise(deps: Deps, actor: Actor) -> dict[str, int]:
    enterprise = actor.require(Permission.CONTRACTS)
    async with deps.uow() as uow:
        return await uow.contracts.counts(enterprise_id=enterprise.id)


async def list_for_worker(
    deps: Deps, actor: Actor, view: str | None, page: int, per_page: int, cursor: str | None = None
) -> tuple[list[tuple[Contract, list[Party]]], int, str | None]:
    user = actor.require_user()
    after = Cursor.decode(cursor)
    async with deps.uow() as uow:
        items, total, more = await uow.contracts.page(
            worker_phone=user.phone, view=_view(view), q=None, status=None,
            offset=0 if after else (page - 1) * per_page, limit=per_page, cursor=after,
        )  # fmt: skip
        parties = await uow.contracts.parties_of([c.id for c in items])
    return [(c, parties[c.id]) for c in items], total, next_cursor(items, more)


async def counts_for_worker(deps: Deps, actor: Actor) -> dict[str, int]:
    user = actor.require_user()
    async with deps.uow() as uow:
        return await uow.contracts.counts(worker_phone=user.phone)


async def enterprise_contract(uow: UnitOfWork, actor: Actor, contract_id: str) -> Contract:
    enterprise = actor.require(Permission.CONTRACTS)
    contract = await uow.get(Contract, contract_id)
    if contract is None or contract.enterprise_id != enterprise.id:
        raise NotFound(NOT_FOUND, "contract_not_found")
    return contract


async def worker_contract(uow: UnitOfWork, actor: Actor, contract_id: str) -> Contract:
    user = actor.require_user()
    contract = await uow.get(Contract, contract_id)
    if contract is None or contract.worker_phone != user.phone or contract.status == ContractStatus.DRAFT:
        raise NotFound(NOT_FOUND, "contract_not_found")
    return contract


async def get_contract(deps: Deps, actor: Actor, contract_id: str) -> tuple[Contract, list[Party], str]:
    """Either side may read a contract it is party to; returns the viewer's role too."""
    async with deps.uow() as uow:
        contract = await uow.get(Contract, contract_id)
        if contract is None:
            raise NotFound(NOT_FOUND, "contract_not_found")
        if actor.enterprise is not None and contract.enterprise_id == actor.enterprise.id:
            actor.require(Permission.CONTRACTS)
            role = "enterprise"
        elif (
            actor.user is not None
            and contract.worker_phone == actor.user.phone
            and contract.status != "draft"
        ):
            role = "worker"
        else:
            raise NotFound(NOT_FOUND, "contract_not_found")
        parties = (await uow.contracts.parties_of([contract.id]))[contract.id]
    return contract, parties, role


async def signer_refusal(deps: Deps, contract: Contract, parties: list[Party]) -> dict[str, Any] | None:
    """While the worker has not signed: the latest refusal of a signer whose verified identity is
    not the contract's employee, for HR to see why (the audit trail keeps every one)."""
    worker = next((p for p in parties if p.role == "worker"), None)
    if worker is None or worker.status != "pending":
        return None
    async with deps.uow() as uow:
        events = await uow.contracts.events_of(contract.id)
    refusals = [e for e in events if e.kind == "identity_mismatch"]
    if not refusals:
        return None
    last = refusals[-1]
    return {"at": last.at, **{k: last.details.get(k) for k in (
        "reason", "verified_name", "verified_id_masked", "roster_name", "roster_id_masked",
    )}}  # fmt: skip


async def mark_viewed(deps: Deps, actor: Actor, contract_id: str, ctx: Context) -> None:
    """The worker's first look at a contract goes into the audit trail (SPEC §2.8)."""
    async with deps.uow() as uow:
        contract = await worker_contract(uow, actor, contract_id)
        user = actor.require_user()
        events = await uow.contracts.events_of(contract.id)
        if any(e.kind == "viewed" and e.actor_id == user.id for e in events):
            return
        await record_event(
            uow, contract, "viewed", deps.clock.now(), ctx,
            actor_type="worker", actor_id=user.id, actor_name=contract.worker_name,
        )  # fmt: skip
        await uow.commit()


async def contract_events(deps: Deps, actor: Actor, contract_id: str) -> tuple[Contract, list[ContractEvent]]:
    contract, _, _ = await get_contract(deps, actor, contract_id)
    async with deps.uow() as uow:
        return contract, await uow.contracts.events_of(contract.id)


async def document(deps: Deps, actor: Actor, contract_id: str) -> tuple[Contract, bytes]:
    contract, _, _ = await get_contract(deps, actor, contract_id)
    return contract, await deps.blobs.get(contract.document_blob)


async def page_image(
    deps: Deps, actor: Actor, contract_id: str, page: int, scale: float
) -> tuple[Contract, bytes]:
    contract, data = await document(deps, actor, contract_id)
    total = sum(int(f["pages"]) for f in contract.files)
    if not 1 <= page <= total:
        raise NotFound("页面不存在", "page_not_found")
    return contract, await deps.pdf.render(data, page, scale)


async def evidence_report(deps: Deps, actor: Actor, contract_id: str) -> tuple[Contract, bytes]:
    """出证报告, signed and timestamped by the platform so it cannot be altered unnoticed."""
    from ..contracts import EVENT_LABELS, verify_chain
    from ..pdf.evidence import EvidenceData, EvidenceEvent, EvidenceParty
    from ..pdf.pades import SignSpec

    contract, parties, _ = await get_contract(deps, actor, contract_id)
    async with deps.uow() as uow:
        events = await uow.contracts.events_of(contract.id)
        signers = {p.user_id: await uow.verification.identity_of(p.user_id) for p in parties if p.user_id}
    intact, first_bad = verify_chain(events)
    ident = await worker_ident(deps, contract)

    def who(p: Party) -> tuple[str, str, str]:
        """(name, masked ident, how verified) as the signature's certificate has them."""
        person = signers.get(p.user_id) if p.user_id and p.status == "signed" else None
        if p.role == "worker":
            if person is None:
                return p.name, ident, "未签署" if p.status != "signed" else "实名认证"
            method = PERSON_METHOD_LABELS.get(PersonMethod(person.method), person.method)
            return person.name, person.id_number_masked, method
        operator = (
            f"；经办人：{person.name}（已实名 {person.id_number_masked}）" if person is not None else ""
        )
        return p.name, contract.enterprise_party["credit_code"], "企业实名认证" + operator

    methods: dict[str, str] = {str(k): v for k, v in INTENT_METHOD_LABELS.items()}
    data = EvidenceData(
        contract_id=contract.id,
        contract_name=contract.name,
        original_sha256=contract.original_sha256,
        final_sha256=contract.document_sha256,
        enterprise_name=contract.enterprise_party["name"],
        status=status_label(contract.status),
        generated_at=deps.clock.now(),
        parties=[
            EvidenceParty(
                role="劳动者" if p.role == "worker" else "用人单位",
                name=who(p)[0],
                ident_masked=who(p)[1],
                verification=who(p)[2],
                intent=methods.get(p.verification_method or "", p.verification_method or ""),
                signed_at=p.signed_at,
            )
            for p in parties
        ],
        events=[
            EvidenceEvent(
                at=e.at, actor=e.actor_name, action=EVENT_LABELS.get(e.kind, e.kind), ip=e.ip,
                user_agent=e.user_agent, method=methods.get(e.method or "", e.method or ""),
                document_sha256=e.document_sha256, chain_hash=e.hash,
            )
            for e in events
        ],
        notes=[
            "审计记录哈希链完整，未被删除或篡改。" if intact else f"审计记录哈希链在第{first_bad}条处断开：记录被删除或篡改。",
        ],
    )  # fmt: skip
    pdf = await deps.pdf.evidence(data)
    signed = await deps.pdf.sign(
        pdf, SignSpec("LaborSign 电子劳动合同平台", "平台出证", "organisation", "platform", "平台出证")
    )
    return contract, signed


# -- remind, withdraw, re-initiate, decline, expire ----------------------------------------------------


async def remind(deps: Deps, actor: Actor, contract_id: str, ctx: Context) -> Contract:
    now = deps.clock.now()
    async with deps.uow() as uow:
        contract = await enterprise_contract(uow, actor, contract_id)
        parties = (await uow.contracts.parties_of([contract.id]))[contract.id]
        worker = next(p for p in parties if p.role == PartyRole.WORKER)
        contract.check_remind(now)
        if worker.status != PartyStatus.PENDING:
            raise WrongState("劳动者已签署，无需催签", "worker_already_signed")
        contract.require_turn(PartyRole.WORKER, parties)  # enterprise first: nothing to urge yet
        contract.remind(now)
        kind, actor_id, actor_name = _enterprise_actor(actor)
        await record_event(
            uow, contract, "reminded", now, ctx, actor_type=kind, actor_id=actor_id, actor_name=actor_name
        )
        enterprise = contract.enterprise_party["name"]
        text = f"【{enterprise}】提醒您尽快签署《{contract.name}》，点击链接直接签署："
        await _tell_worker(deps, uow, contract, now, "contract_reminder", text)
        await spend(uow.budgets, deps.limits.reminders_per_enterprise, contract.enterprise_id, now)
        await uow.commit()
    return contract


def _reason(raw: object, label: str) -> str:
    text = str(raw or "").strip()
    if not text:
        raise Invalid.field("reason", f"请填写{label}")
    if len(text) > 200:
        raise Invalid.field("reason", f"{label}不能超过200个字符")
    return text


async def withdraw(deps: Deps, actor: Actor, contract_id: str, reason: object, ctx: Context) -> Contract:
    now = deps.clock.now()
    async with deps.uow() as uow:
        contract = await enterprise_contract(uow, actor, contract_id)
        text = _reason(reason, "撤回原因")
        contract.withdraw(text, now)
        contract.version += 1
        kind, actor_id, actor_name = _enterprise_actor(actor)
        await record_event(
            uow,
            contract,
            "withdrawn",
            now,
            ctx,
            actor_type=kind,
            actor_id=actor_id,
            actor_name=actor_name,
            reason=text,
        )
        uow.record(ContractWithdrawn(at=now, reason=text, **contract_facts(contract)))
        await notify_person(
            uow, phone=contract.worker_phone, user_id=contract.worker_user_id, kind="contract_withdrawn",
            text=f"【{contract.enterprise_party['name']}】已撤回《{contract.name}》，原因：{text}。", link=None, now=now,
            contract_id=contract.id,
            enterprise_id=contract.enterprise_id,
            sms={"enterprise": contract.enterprise_party["name"], "contract": contract.name, "reason": text},
        )  # fmt: skip
        await uow.commit()
    return contract


async def reinitiate(
    deps: Deps, actor: Actor, contract_id: str, ctx: Context, confirm_warnings: object = None
) -> Contract:
    """重新发起: a new contract with the same content and parties as a withdrawn one — after
    the labor-law checks of a launch (409 labor_law_warnings unless HR confirms them)."""
    enterprise = actor.require(Permission.CONTRACTS)
    async with deps.uow() as uow:
        old = await enterprise_contract(uow, actor, contract_id)
    old.require_withdrawn()
    require_enterprise_verified(enterprise)
    now = deps.clock.now()
    creator = actor.user.id if actor.user else old.created_by
    fresh = Contract(
        enterprise_id=old.enterprise_id, batch_id=uuid.uuid4().hex, name=old.name, employee_id=old.employee_id,
        created_by=creator, created_at=now, source=old.source, document_blob=old.original_blob,
        original_blob=old.original_blob, original_sha256=old.original_sha256, document_sha256=old.original_sha256,
        files=old.files, controls=old.controls, values=old.values, enterprise_party=old.enterprise_party,
        template_ids=old.template_ids, worker_user_id=old.worker_user_id, worker_name=old.worker_name,
        worker_phone=old.worker_phone, reinitiated_from=old.id, signing_order=old.signing_order,
        sign_deadline=old.sign_deadline if old.sign_deadline and old.sign_deadline > now else None,
    )  # fmt: skip
    term = labor.copy_term(await labor.term_of(deps, old))
    check = await labor.recheck(deps, enterprise, old, term)
    if check.errors:
        raise WrongState(
            f"不能重新发起：{check.errors[0].message}", check.errors[0].code, workers=[check.as_dict()]
        )
    labor.require_confirmed({old.employee_id: check}, confirm_warnings)
    contract, _ = await _store_and_launch(deps, actor, fresh, ctx, term)
    async with deps.uow() as uow:
        previous = await uow.get_or_404(Contract, old.id)
        kind, actor_id, actor_name = _enterprise_actor(actor)
        await record_event(
            uow, previous, "reinitiated", now, ctx, actor_type=kind, actor_id=actor_id, actor_name=actor_name,
            new_contract_id=contract.id,
        )  # fmt: skip
        await uow.commit()
    return contract


async def decline(deps: Deps, actor: Actor, contract_id: str, reason: object, ctx: Context) -> Contract:
    now = deps.clock.now()
    user = actor.require_user()
    async with deps.uow() as uow:
        contract = await worker_contract(uow, actor, contract_id)
        text = _reason(reason, "拒签原因")
        parties = (await uow.contracts.parties_of([contract.id]))[contract.id]
        worker = next(p for p in parties if p.role == PartyRole.WORKER)
        contract.decline(worker, text, now)
        contract.version += 1
        await record_event(
            uow, contract, "declined", now, ctx, actor_type="worker", actor_id=user.id,
            actor_name=contract.worker_name, reason=text,
        )  # fmt: skip
        uow.record(ContractDeclined(at=now, reason=text, **contract_facts(contract)))
        await uow.commit()
    return contract


async def expire_due(deps: Deps, limit: int = 200) -> int:
    """Background job: contracts past their signing deadline become expired. Safe with several
    processes: the version guard lets only one of them record each expiry."""
    now = deps.clock.now()
    done = 0
    async with deps.uow() as uow:
        due = await uow.contracts.due_to_expire(now, limit)
    for candidate in due:
        async with deps.uow() as uow:
            contract = await uow.get(Contract, candidate.id)
            if contract is None or not await uow.contracts.bump_version(contract, contract.version):
                continue
            contract.version += 1
            if not contract.expire(now):
                continue
            await record_event(
                uow,
                contract,
                "expired",
                now,
                Context(),
                actor_type="system",
                actor_id=None,
                actor_name="平台",
            )
            uow.record(ContractExpired(at=now, **contract_facts(contract)))
            await notify_person(
                uow, phone=contract.worker_phone, user_id=contract.worker_user_id, kind="contract_expired",
                text=f"《{contract.name}》已超过签署截止时间，合同已过期。", link=None, now=now, contract_id=contract.id,
                enterprise_id=contract.enterprise_id, sms={"contract": contract.name},
            )  # fmt: skip
            await uow.commit()
            done += 1
    return done


# -- seals ---------------------------------------------------------------------------------------------


async def list_seals(deps: Deps, actor: Actor) -> list[Seal]:
    enterprise = actor.require_enterprise()[0]
    async with deps.uow() as uow:
        return await uow.contracts.seals_of(enterprise.id)


async def create_seal(
    deps: Deps, actor: Actor, *, seal_type: object, name: object = None, png: bytes | None = None
) -> Seal:
    """Generates a round red seal from the enterprise name, or stores an uploaded PNG."""
    enterprise = actor.require(Permission.CONTRACTS)
    try:
        kind = SealType(str(seal_type or SealType.CONTRACT))
    except ValueError:
        raise Invalid.field(
            "type", "印章类型应为 official（公章）、contract（合同专用章）或 hr（人事专用章）"
        ) from None
    from ..contracts import SEAL_TYPE_LABELS
    from ..pdf.seals import draw_round_seal, normalise_uploaded_seal

    label = str(name or "").strip() or SEAL_TYPE_LABELS[kind]
    if len(label) > 20:
        raise Invalid.field("name", "印章名称不能超过20个字符")
    if png is None:
        image = draw_round_seal(enterprise.name, "" if kind == SealType.OFFICIAL else SEAL_TYPE_LABELS[kind])
        source = "generated"
    else:
        image = normalise_uploaded_seal(png)
        source = "uploaded"
    blob = await deps.blobs.put(image)
    user = actor.user.id if actor.user else (actor.api_key.created_by if actor.api_key else "")
    seal = Seal(
        enterprise_id=enterprise.id, type=kind, name=label, source=source, blob=blob, created_by=user,
        created_at=deps.clock.now(),
    )  # fmt: skip
    async with deps.uow() as uow:
        uow.add(seal)
        await uow.commit()
    return seal


async def seal_image(deps: Deps, actor: Actor, seal_id: str) -> bytes:
    enterprise = actor.require_enterprise()[0]
    async with deps.uow() as uow:
        seal = await uow.get(Seal, seal_id)
    if seal is None or seal.enterprise_id != enterprise.id:
        raise NotFound("印章不存在", "seal_not_found")
    return await deps.blobs.get(seal.blob)


async def load_user(deps: Deps, user_id: str) -> User:
    async with deps.uow() as uow:
        return await uow.get_or_404(User, user_id)


async def worker_ident(deps: Deps, contract: Contract) -> str:
    """The masked ID for the worker's certificate (never the full number)."""
    async with deps.uow() as uow:
        cards = await uow.workers.cards(deps, contract.enterprise_id, [contract.employee_id])
    card = cards.get(contract.employee_id)
    if card is not None and card.id_number:
        from ..identity_rules import mask_id_number

        return mask_id_number(card.id_number)
    return mask_phone(contract.worker_phone)


def status_label(status: str) -> str:
    return CONTRACT_STATUS_LABELS.get(ContractStatus(status), status)
