"""Launching contracts: from templates (a few workers at a time) or from an uploaded PDF, and
the worker's invitation to sign once it is their turn."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...accounts import Enterprise, Permission
from ...clock import china_time
from ...contracts import (
    Contract,
    Party,
    PartyRole,
    SealType,
    SigningOrder,
    WorkerCard,
    parse_signing_order,
    validate_contract_name,
    with_enterprise_prefill,
)
from ...controls import MARK_KINDS, Control, validate_controls
from ...errors import DomainError, Invalid, NotFound, WrongState
from ...events import ContractLaunched, WorkerAskedToSign, contract_facts
from ...labor_law import ContractTerm
from ...pdf.compose import merge_pdfs
from ...ports import Deps
from ...templates import Template
from ...verification import require_enterprise_verified
from .. import labor
from ..accounts import Actor
from .audit import Context, audit_entry, audited, enterprise_actor
from .controls import collect_values, merge_controls, party_slots, placeholder_prefill, stamps_for

LAUNCH_CONCURRENCY = 4


@dataclass
class LaunchResult:
    batch_id: str
    created: list[tuple[Contract, list[Party]]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)


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
    from ...values import Phone

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
    controls = merge_controls(templates, starts_per_template)
    # Validate the shared values once, before touching any worker, so a typo fails fast.
    collect_values(controls, "initiator", given, placeholder_prefill(controls))
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
    controls: list[Control],
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
    filled = await deps.pdf.stamp(base, stamps_for(controls, values), flatten=True)
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
    return await store_and_launch(deps, actor, contract, ctx, check.term)


async def store_and_launch(
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
    kind, actor_id, actor_name = enterprise_actor(actor)
    async with deps.uow() as uow:
        uow.add(contract)
        for p in parties:
            uow.add(p)
        await uow.flush()
        await labor.store_term(uow, contract, term)
        uow.record(
            audited(contract, "created", now, ctx, actor_type=kind, actor_id=actor_id, actor_name=actor_name)
        )
        contract.launch(now, parties)
        entry = audit_entry(
            contract, "launched", ctx, actor_type=kind, actor_id=actor_id, actor_name=actor_name,
            sign_deadline=contract.sign_deadline.isoformat() if contract.sign_deadline else None,
        )  # fmt: skip
        uow.record(
            ContractLaunched(
                at=now, sign_deadline=contract.sign_deadline, audit=entry, **contract_facts(contract)
            )
        )
        if contract.turn_of(PartyRole.WORKER, parties):
            uow.record(ask_worker_to_sign(deps, contract, now))
        await uow.commit()
    return contract, parties


def sign_link(deps: Deps, contract: Contract) -> str:
    """The worker's page of the contract (where they read and sign it)."""
    return f"{deps.public_url}/h5/contracts/{contract.id}"


def ask_worker_to_sign(deps: Deps, contract: Contract, now: datetime) -> WorkerAskedToSign:
    """The worker's invitation, recorded when it is their turn: at launch, or once the
    enterprise has signed a contract it signs first (core/handlers.py sends it)."""
    return WorkerAskedToSign(
        enterprise_id=contract.enterprise_id, at=now, contract_id=contract.id, link=sign_link(deps, contract)
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
    file_desc = [{"pages": [{"width": pg.width, "height": pg.height} for pg in facts.pages]}]
    try:
        controls = validate_controls(raw_controls, file_desc)
    except Invalid as exc:
        raise Invalid(
            exc.message, {k.replace("controls", "placements"): v for k, v in exc.fields.items()}
        ) from None
    if {c.kind for c in controls} != MARK_KINDS:
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
        result.created.append(await store_and_launch(deps, actor, contract, ctx, checks[employee_id].term))
    return result
