"""Roster and onboarding use cases: departments, employees, resignation, invitations (link,
QR, SMS, bulk spreadsheet), the worker's onboarding submission and HR review."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from ..accounts import Enterprise, Permission, User
from ..budgets import spend
from ..clock import china_time
from ..contracts import parse_day_range
from ..errors import Conflict, Invalid, NotFound, WrongState
from ..events import (
    EmployeeResigned,
    OnboardingApproved,
    OnboardingRejected,
    OnboardingSubmitted,
    WorkerInvited,
)
from ..identity_rules import mask_id_number
from ..onboarding import OnboardingRecord, validate_onboarding
from ..paging import COUNT_BOUND, Cursor, Total, looks_like_id_number, next_cursor, search_text
from ..ports import Deps, UnitOfWork
from ..roster import (
    Department,
    Employee,
    Invitation,
    InvitationStatus,
    JoinLink,
    invitation_text,
    validate_department_name,
)
from ..values import Phone
from .accounts import Actor

ID_CONTEXT = "employees.id_number"
RECORD_ID_CONTEXT = "onboarding_records.id_number"


def _today(deps: Deps) -> date:
    return china_time(deps.clock.now()).date()


# -- departments -----------------------------------------------------------------------------


async def list_departments(deps: Deps, actor: Actor) -> list[Department]:
    enterprise = actor.require(Permission.ONBOARDING)
    async with deps.uow() as uow:
        return await uow.roster.departments_of(enterprise.id)


async def _department(
    uow: UnitOfWork, enterprise: Enterprise, department_id: object, field: str
) -> Department:
    department = await uow.get(Department, str(department_id or ""))
    if department is None or department.enterprise_id != enterprise.id:
        raise Invalid.field(field, "部门不存在")
    return department


async def create_department(deps: Deps, actor: Actor, name: object, parent_id: object) -> Department:
    enterprise = actor.require(Permission.ONBOARDING)
    async with deps.uow() as uow:
        parent = await _department(uow, enterprise, parent_id, "parent_id") if parent_id else None
        department = Department(
            enterprise_id=enterprise.id,
            name=validate_department_name(name),
            parent_id=parent.id if parent else None,
            created_at=deps.clock.now(),
        )
        uow.add(department)
        await uow.commit()
    return department


async def _own_department(uow: UnitOfWork, actor: Actor, department_id: str) -> tuple[Enterprise, Department]:
    enterprise = actor.require(Permission.ONBOARDING)
    department = await uow.get(Department, department_id)
    if department is None or department.enterprise_id != enterprise.id:
        raise NotFound("部门不存在", "department_not_found")
    return enterprise, department


async def update_department(
    deps: Deps, actor: Actor, department_id: str, changes: dict[str, Any]
) -> Department:
    async with deps.uow() as uow:
        enterprise, department = await _own_department(uow, actor, department_id)
        if "name" in changes:
            department.name = validate_department_name(changes["name"])
        if "parent_id" in changes:
            parent_id = changes["parent_id"]
            if parent_id:
                parent = await _department(uow, enterprise, parent_id, "parent_id")
                all_departments = {d.id: d for d in await uow.roster.departments_of(enterprise.id)}
                cursor: Department | None = parent
                while cursor is not None:  # refuse making a department its own ancestor
                    if cursor.id == department.id:
                        raise Invalid.field("parent_id", "不能移动到自身或其下级部门中")
                    cursor = all_departments.get(cursor.parent_id or "")
                department.parent_id = parent.id
            else:
                department.parent_id = None
        await uow.commit()
    return department


async def delete_department(deps: Deps, actor: Actor, department_id: str) -> None:
    async with deps.uow() as uow:
        _, department = await _own_department(uow, actor, department_id)
        if await uow.roster.department_in_use(department.id):
            raise WrongState("部门下还有子部门或在职员工，不能删除", "department_not_empty")
        await uow.delete(department)
        await uow.commit()


def _subtree(departments: list[Department], root_id: str) -> list[str]:
    children: dict[str | None, list[str]] = {}
    for d in departments:
        children.setdefault(d.parent_id, []).append(d.id)
    out, stack = [], [root_id]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(children.get(current, []))
    return out


# -- employees -----------------------------------------------------------------------------------


def roster_query(
    deps: Deps, departments: list[Department], status: str | None, department_id: str | None,
    q: str | None, days: Mapping[str, str] | None,
) -> dict[str, Any]:  # fmt: skip
    """The roster list's filters checked (a bad one is a 422), as the repository takes them."""
    text = search_text(q)
    if status not in (None, "", "active", "resigning", "resigned"):
        raise Invalid.field("status", "状态应为 active、resigning 或 resigned")
    hired = parse_day_range(days or {}, "hired", "入职日期")
    left = parse_day_range(days or {}, "left", "离职日期")
    ids = None
    if department_id:
        if department_id not in {d.id for d in departments}:
            raise Invalid.field("department_id", "部门不存在")
        ids = _subtree(departments, department_id)
    id_hash = (
        deps.cipher.blind_index(text.upper(), "id_number") if text and looks_like_id_number(text) else None
    )
    return {
        "status": status or None, "department_ids": ids, "q": text, "id_number_hash": id_hash,
        "hired": hired, "left": left,
    }  # fmt: skip


async def list_employees(
    deps: Deps,
    actor: Actor,
    status: str | None,
    department_id: str | None,
    q: str | None,
    page: int,
    per_page: int,
    cursor: str | None = None,
    days: Mapping[str, str] | None = None,
) -> tuple[list[Employee], Total, dict[str, str], str | None]:
    """A page of the roster, its total (a search's or filter's counted up to COUNT_BOUND:
    Total.exact), department names and the next page's cursor. `q` is
    the start of a name or phone, or a whole ID number; `days` may hold hired_/left_ from and
    to (YYYY-MM-DD, Beijing days, both ends included), as the contract list's day ranges."""
    enterprise = actor.require(Permission.ONBOARDING)
    after = Cursor.decode(cursor)
    async with deps.uow() as uow:
        departments = await uow.roster.departments_of(enterprise.id)
        query = roster_query(deps, departments, status, department_id, q, days)
        items, total, more = await uow.roster.employees_page(
            enterprise.id, **query,
            offset=0 if after else (page - 1) * per_page, limit=per_page, cursor=after, count_bound=COUNT_BOUND,
        )  # fmt: skip
    return items, total, {d.id: d.name for d in departments}, next_cursor(items, more)


async def get_employee(deps: Deps, actor: Actor, employee_id: str) -> Employee:
    enterprise = actor.require(Permission.ONBOARDING)
    async with deps.uow() as uow:
        employee = await uow.get(Employee, employee_id)
    if employee is None or employee.enterprise_id != enterprise.id:
        raise NotFound("员工不存在", "employee_not_found")
    return employee


async def _own_employee(uow: UnitOfWork, actor: Actor, employee_id: str) -> tuple[Enterprise, Employee]:
    enterprise = actor.require(Permission.ONBOARDING)
    employee = await uow.get(Employee, employee_id)
    if employee is None or employee.enterprise_id != enterprise.id:
        raise NotFound("员工不存在", "employee_not_found")
    return enterprise, employee


async def update_employee(deps: Deps, actor: Actor, employee_id: str, changes: dict[str, Any]) -> Employee:
    async with deps.uow() as uow:
        enterprise, employee = await _own_employee(uow, actor, employee_id)
        errors: dict[str, str] = {}
        for key, raw in changes.items():
            try:
                if key == "name":
                    from ..accounts import validate_person_name

                    employee.name = validate_person_name(raw)
                elif key == "phone":
                    phone = Phone.parse(raw).value
                    other = await uow.roster.current_employee_by_phone(enterprise.id, phone)
                    if other is not None and other.id != employee.id:
                        raise Invalid.field("phone", "该手机号已属于花名册中的其他员工")
                    employee.phone = phone
                elif key == "position":
                    employee.position = (
                        (str(raw or "").strip() or None)
                        if len(str(raw or "")) <= 50
                        else _too_long("position")
                    )
                elif key == "address":
                    text = str(raw or "").strip()
                    employee.address = text[:100] or None
                elif key == "hire_date":
                    employee.hire_date = _parse_date(raw, "hire_date")
                else:
                    errors[key] = "该项不能修改"
            except Invalid as exc:
                errors.update(exc.fields)
        if errors:
            raise Invalid(next(iter(errors.values())), errors)
        await uow.commit()
    return employee


def _too_long(field: str) -> str:
    raise Invalid.field(field, "内容过长")


def _parse_date(raw: object, field: str) -> date | None:
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise Invalid.field(field, "日期格式应为YYYY-MM-DD") from None


async def move_employee(deps: Deps, actor: Actor, employee_id: str, department_id: object) -> Employee:
    async with deps.uow() as uow:
        enterprise, employee = await _own_employee(uow, actor, employee_id)
        department = (
            await _department(uow, enterprise, department_id, "department_id") if department_id else None
        )
        employee.move_to(department.id if department else None)
        await uow.commit()
    return employee


async def start_resignation(
    deps: Deps, actor: Actor, employee_id: str, reason: object, remark: object
) -> Employee:
    async with deps.uow() as uow:
        _, employee = await _own_employee(uow, actor, employee_id)
        employee.start_resignation(reason, remark)
        await uow.commit()
    return employee


async def confirm_resignation(
    deps: Deps, actor: Actor, employee_id: str, handover_to: object, remark: object
) -> Employee:
    async with deps.uow() as uow:
        _, employee = await _own_employee(uow, actor, employee_id)
        employee.confirm_resignation(handover_to, remark, deps.clock.now())
        uow.record(
            EmployeeResigned(
                enterprise_id=employee.enterprise_id, at=deps.clock.now(), employee_id=employee.id,
                name=employee.name, resigned_at=employee.resigned_at,
            )
        )  # fmt: skip
        await uow.commit()
    return employee


# -- invitations -------------------------------------------------------------------------------------


def join_url(deps: Deps, token: str) -> str:
    return f"{deps.public_url}/h5/join/{token}"


async def invite_link(deps: Deps, actor: Actor, reset: bool = False) -> JoinLink:
    """The enterprise's one invite link. Resetting gives it a new token, so links and QR codes
    already handed out stop working."""
    enterprise = actor.require(Permission.ONBOARDING)
    now = deps.clock.now()
    async with deps.uow() as uow:
        link = await uow.roster.join_link(enterprise.id)
        if link is not None:
            if reset:
                link.token = JoinLink.new_token()
                link.created_at = now
                await uow.commit()
            return link
        link = JoinLink(enterprise_id=enterprise.id, token=JoinLink.new_token(), created_at=now)
        uow.add(link)
        try:
            await uow.commit()
            return link
        except Conflict:  # another request created it first: use theirs
            pass
    async with deps.uow() as uow:
        existing = await uow.roster.join_link(enterprise.id)
        assert existing is not None
        return existing


async def invite_one(
    deps: Deps, actor: Actor, name: object, phone: object, department_id: object
) -> Invitation:
    enterprise = actor.require(Permission.ONBOARDING)
    from ..accounts import validate_person_name

    errors: dict[str, str] = {}
    person = parsed = None
    try:
        person = validate_person_name(name)
    except Invalid as exc:
        errors.update(exc.fields)
    try:
        parsed = Phone.parse(phone).value
    except Invalid as exc:
        errors.update(exc.fields)
    if errors or person is None or parsed is None:
        raise Invalid(next(iter(errors.values())), errors)
    link = await invite_link(deps, actor)
    now = deps.clock.now()
    async with deps.uow() as uow:
        department = (
            await _department(uow, enterprise, department_id, "department_id") if department_id else None
        )
        if parsed in await uow.roster.current_phones(enterprise.id):
            raise WrongState("该手机号已在花名册中或已发出邀请", "already_invited")
        invitation = Invitation(
            enterprise_id=enterprise.id, name=person, phone=parsed, token=link.token, created_at=now,
            created_by=actor.user.id if actor.user else "", department_id=department.id if department else None,
        )  # fmt: skip
        uow.add(invitation)
        uow.record(
            WorkerInvited(
                enterprise_id=enterprise.id, at=now, invitation_id=invitation.id, name=person, phone=parsed,
                enterprise_name=enterprise.name, link=join_url(deps, link.token),
            )
        )  # fmt: skip
        await spend(uow.budgets, deps.limits.invites_per_enterprise, enterprise.id, now)
        await uow.commit()
    return invitation


async def invite_many(deps: Deps, actor: Actor, rows: list[dict[str, Any]]) -> int:
    """All-or-nothing: the caller has validated every row; this writes them in bulk."""
    enterprise = actor.require(Permission.ONBOARDING)
    link = await invite_link(deps, actor)
    now = deps.clock.now()
    batch = uuid.uuid4().hex
    url = join_url(deps, link.token)
    creator = actor.user.id if actor.user else ""
    invitation_rows = []
    messages = []
    from ..ids import new_id

    for row in rows:
        invitation_id = new_id()
        invitation_rows.append(
            {
                "id": invitation_id, "enterprise_id": enterprise.id, "name": row["name"], "phone": row["phone"],
                "token": link.token, "department_id": row.get("department_id"), "batch": batch,
                "status": InvitationStatus.SENT.value, "created_by": creator, "created_at": now,
            }
        )  # fmt: skip
        messages.append(
            {
                "id": new_id(), "channel": "sms", "recipient": row["phone"], "kind": "invitation",
                "text": f"{invitation_text(row['name'], enterprise.name)} {url}", "payload": {"link": url, "invitation_id": invitation_id, "sms": {"name": row["name"], "enterprise": enterprise.name}},
                "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now,
            }
        )  # fmt: skip
    async with deps.uow() as uow:
        # The whole file or nothing: a file larger than what is left of today's budget is
        # refused before anything is written.
        await spend(uow.budgets, deps.limits.invites_per_enterprise, enterprise.id, now, cost=len(rows))
        await uow.roster.add_invitations(invitation_rows)
        await uow.outbox.add_many(messages)
        await uow.commit()
    return len(rows)


async def bulk_context(deps: Deps, actor: Actor) -> tuple[set[str], dict[str, str]]:
    """Phones already taken and department names → ids, for validating a spreadsheet."""
    enterprise = actor.require(Permission.ONBOARDING)
    async with deps.uow() as uow:
        phones = await uow.roster.current_phones(enterprise.id)
        departments = await uow.roster.departments_of(enterprise.id)
    by_name: dict[str, str] = {}
    for d in departments:
        by_name.setdefault(d.name, d.id)
    return phones, by_name


# -- joining and onboarding ------------------------------------------------------------------------------


async def enterprise_for_token(deps: Deps, token: str) -> Enterprise:
    async with deps.uow() as uow:
        link = await uow.roster.join_link_by_token(token) if len(token) <= 40 else None
        if link is None or not link.active:
            raise NotFound("邀请链接无效或已失效，请联系用人单位重新获取", "invite_not_found")
        return await uow.get_or_404(Enterprise, link.enterprise_id)


async def my_join_state(
    deps: Deps, user: User, token: str
) -> tuple[Enterprise, tuple[OnboardingRecord, str] | None, dict[str, str] | None]:
    """What the join page shows a worker who opens the enterprise's link again: their latest
    record for it (with their own full ID number), and what their verified identity fills in
    (name, document) when they have one."""
    from .verification import verified_identity

    enterprise = await enterprise_for_token(deps, token)
    async with deps.uow() as uow:
        records, _ = await uow.roster.records_page(enterprise.id, user.id, None, 0, 1)
    mine = None
    if records:
        mine = (records[0], deps.cipher.decrypt(records[0].id_number_enc, RECORD_ID_CONTEXT))
    person = await verified_identity(deps, user.id)
    prefill = None
    if person is not None:
        prefill = {"name": person.name, "id_type": person.id_type, "id_number": person.id_number}
    return enterprise, mine, prefill


async def submit_onboarding(
    deps: Deps, user: User, enterprise_id: str, data: dict[str, Any], channel: str = "h5"
) -> OnboardingRecord:
    form = validate_onboarding(data, _today(deps))
    now = deps.clock.now()
    async with deps.uow() as uow:
        enterprise = await uow.get_or_404(Enterprise, enterprise_id)
        await uow.roster.lock_user(user.id)  # the checks below and the insert, one at a time
        if await uow.roster.pending_record(enterprise.id, user.id):
            raise WrongState("您提交的入职资料正在审核中，请勿重复提交", "onboarding_pending")
        existing = await uow.roster.current_employee_by_phone(enterprise.id, form.phone)
        if existing is not None and existing.user_id == user.id:
            # a second approval would put the same person on the roster twice
            raise WrongState("您已是该单位的在职员工，无需重复提交入职资料", "already_employee")
        if existing is not None and existing.user_id is not None:
            raise WrongState("该手机号已在该企业花名册中", "already_employee")
        record = OnboardingRecord(
            enterprise_id=enterprise.id, user_id=user.id, name=form.name, phone=form.phone, gender=form.gender,
            id_type=form.id_type, id_number_enc=deps.cipher.encrypt(form.id_number, RECORD_ID_CONTEXT),
            id_number_hash=deps.cipher.blind_index(form.id_number, "id_number"),
            id_number_masked=mask_id_number(form.id_number), birth_date=form.birth_date, address=form.address,
            emergency_contact={"name": form.contact_name, "relation": form.contact_relation, "phone": form.contact_phone},
            created_at=now, channel=channel,
        )  # fmt: skip
        uow.add(record)
        for invitation in await uow.roster.open_invitations(enterprise.id, user.phone):
            invitation.joined()
        uow.record(
            OnboardingSubmitted(enterprise_id=enterprise.id, at=now, record_id=record.id, name=form.name)
        )
        await uow.commit()
    return record


async def my_records(
    deps: Deps, user: User, page: int, per_page: int
) -> tuple[list[tuple[OnboardingRecord, str]], int]:
    async with deps.uow() as uow:
        items, total = await uow.roster.records_page(None, user.id, None, (page - 1) * per_page, per_page)
        names = {}
        for r in items:
            if r.enterprise_id not in names:
                names[r.enterprise_id] = (await uow.get_or_404(Enterprise, r.enterprise_id)).name
    return [(r, names[r.enterprise_id]) for r in items], total


async def my_record(deps: Deps, user: User, record_id: str) -> tuple[OnboardingRecord, str, str]:
    async with deps.uow() as uow:
        record = await uow.get(OnboardingRecord, record_id)
        if record is None or record.user_id != user.id:
            raise NotFound("入职资料不存在", "onboarding_not_found")
        enterprise = await uow.get_or_404(Enterprise, record.enterprise_id)
    # The owner reads the full record, including their own ID number.
    return record, enterprise.name, deps.cipher.decrypt(record.id_number_enc, RECORD_ID_CONTEXT)


async def list_records(
    deps: Deps, actor: Actor, status: str | None, page: int, per_page: int
) -> tuple[list[OnboardingRecord], int]:
    enterprise = actor.require(Permission.ONBOARDING)
    if status not in (None, "", "pending_review", "approved", "rejected"):
        raise Invalid.field("status", "状态应为 pending_review、approved 或 rejected")
    async with deps.uow() as uow:
        return await uow.roster.records_page(
            enterprise.id, None, status or None, (page - 1) * per_page, per_page
        )


async def _own_record(
    uow: UnitOfWork, actor: Actor, record_id: str, *, for_decision: bool = False
) -> tuple[Enterprise, OnboardingRecord]:
    """`for_decision`: the record's row is locked first, so that two decisions at once (the
    dashboard and a chat card, on any host) run one after the other and the second sees the
    first one's outcome."""
    enterprise = actor.require(Permission.ONBOARDING)
    if for_decision:
        await uow.roster.lock_record(record_id)
    record = await uow.get(OnboardingRecord, record_id)
    if record is None or record.enterprise_id != enterprise.id:
        raise NotFound("入职资料不存在", "onboarding_not_found")
    return enterprise, record


async def get_record(deps: Deps, actor: Actor, record_id: str) -> OnboardingRecord:
    async with deps.uow() as uow:
        return (await _own_record(uow, actor, record_id))[1]


async def correct_record(
    deps: Deps, actor: Actor, record_id: str, changes: dict[str, Any]
) -> OnboardingRecord:
    async with deps.uow() as uow:
        _, record = await _own_record(uow, actor, record_id, for_decision=True)
        record.correct(changes, actor.user.id if actor.user else "api", _today(deps), deps.clock.now())
        await uow.commit()
    return record


async def approve(
    deps: Deps, actor: Actor, record_id: str, department_id: object = None, hire_date: object = None
) -> tuple[OnboardingRecord, Employee]:
    now = deps.clock.now()
    async with deps.uow() as uow:
        enterprise, record = await _own_record(uow, actor, record_id, for_decision=True)
        record.require_pending()
        department = (
            await _department(uow, enterprise, department_id, "department_id") if department_id else None
        )
        hired = _parse_date(hire_date, "hire_date") or _today(deps)
        invitation_department = None
        for invitation in await uow.roster.open_invitations(enterprise.id, record.phone):
            invitation_department = invitation.department_id
        number = deps.cipher.decrypt(record.id_number_enc, RECORD_ID_CONTEXT)
        employee = Employee(
            enterprise_id=enterprise.id, name=record.name, phone=record.phone, created_at=now, user_id=record.user_id,
            gender=record.gender, id_type=record.id_type, id_number_enc=deps.cipher.encrypt(number, ID_CONTEXT),
            id_number_hash=record.id_number_hash, id_number_masked=record.id_number_masked,
            birth_date=record.birth_date, address=record.address, emergency_contact=record.emergency_contact,
            department_id=department.id if department else invitation_department, hire_date=hired,
            onboarding_id=record.id,
        )  # fmt: skip
        uow.add(employee)
        record.approve(actor.user.id if actor.user else "api", employee.id, now)
        uow.record(
            OnboardingApproved(
                enterprise_id=enterprise.id,
                at=now,
                record_id=record.id,
                employee_id=employee.id,
                name=record.name,
            )
        )
        await uow.commit()
    return record, employee


async def reject(deps: Deps, actor: Actor, record_id: str, reason: object) -> OnboardingRecord:
    now = deps.clock.now()
    async with deps.uow() as uow:
        enterprise, record = await _own_record(uow, actor, record_id, for_decision=True)
        record.reject(actor.user.id if actor.user else "api", str(reason or ""), now)
        uow.record(
            OnboardingRejected(
                enterprise_id=enterprise.id, at=now, record_id=record.id, name=record.name,
                reason=record.reject_reason or "",
            )
        )  # fmt: skip
        await uow.commit()
    return record
