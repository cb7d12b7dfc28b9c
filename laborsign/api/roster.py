"""Onboarding and roster part of the JSON API."""

from __future__ import annotations

import io
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from ..core import bulk
from ..core.accounts import User
from ..core.clock import iso
from ..core.errors import Invalid
from ..core.identity_rules import ID_TYPE_LABELS, IdType
from ..core.onboarding import ONBOARDING_STATUS_LABELS, OnboardingRecord, OnboardingStatus
from ..core.ports import Deps
from ..core.roster import EMPLOYEE_STATUS_LABELS, Department, Employee, EmployeeStatus, Invitation
from ..core.services import labor
from ..core.services import roster as svc
from ..core.values import mask_phone
from .contracts import ctx as contract_ctx
from .http import (
    CURSOR_DOC,
    DEPS,
    ApiRoutes,
    body,
    current_actor,
    json_response,
    page_json,
    paging,
    require_actor,
    require_user,
)
from .uploads import read_multipart

routes = ApiRoutes("入职与花名册")


class DepartmentIn(BaseModel):
    name: Any = None
    parent_id: Any = None


class InvitationIn(BaseModel):
    name: Any = None
    phone: Any = None
    department_id: Any = None


class OnboardingIn(BaseModel):
    name: Any = None
    gender: Any = None
    id_type: Any = None
    id_number: Any = None
    birth_date: Any = None
    phone: Any = None
    address: Any = None
    emergency_contact: Any = None


class ApproveIn(BaseModel):
    department_id: Any = None
    hire_date: Any = None


class RejectIn(BaseModel):
    reason: Any = None


class MoveIn(BaseModel):
    department_id: Any = None


class ResignIn(BaseModel):
    reason: Any = None
    remark: Any = None


class ConfirmResignIn(BaseModel):
    handover_to: Any = None
    remark: Any = None
    last_day: Any = None  # YYYY-MM-DD, the last working day (default today)
    reason_type: Any = None  # mutual_agreement employee_resigned contract_expired employer_terminated other


def department_json(d: Department) -> dict[str, Any]:
    return {"id": d.id, "name": d.name, "parent_id": d.parent_id, "created_at": iso(d.created_at)}


def employee_json(e: Employee, departments: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "id": e.id,
        "name": e.name,
        "phone_masked": mask_phone(e.phone),
        "gender": e.gender,
        "id_type": e.id_type,
        "id_number_masked": e.id_number_masked,
        "birth_date": e.birth_date.isoformat() if e.birth_date else None,
        "department_id": e.department_id,
        "department_name": (departments or {}).get(e.department_id or ""),
        "position": e.position,
        "hire_date": e.hire_date.isoformat() if e.hire_date else None,
        "status": e.status,
        "status_label": EMPLOYEE_STATUS_LABELS[EmployeeStatus(e.status)],
        "resign_reason": e.resign_reason,
        "resign_remark": e.resign_remark,
        "handover_to": e.handover_to,
        "resigned_at": iso(e.resigned_at),
        "created_at": iso(e.created_at),
    }


def employee_detail_json(e: Employee, departments: dict[str, str] | None = None) -> dict[str, Any]:
    out = employee_json(e, departments)
    out["address"] = e.address
    contact = dict(e.emergency_contact)
    if contact.get("phone"):
        contact["phone_masked"] = mask_phone(str(contact.pop("phone")))
    out["emergency_contact"] = contact
    return out


def record_json(
    r: OnboardingRecord, enterprise_name: str | None = None, *, own_id_number: str | None = None
) -> dict[str, Any]:
    contact = dict(r.emergency_contact)
    out: dict[str, Any] = {
        "id": r.id,
        "status": r.status,
        "status_label": ONBOARDING_STATUS_LABELS[OnboardingStatus(r.status)],
        "name": r.name,
        "gender": r.gender,
        "id_type": r.id_type,
        "id_type_label": ID_TYPE_LABELS.get(IdType(r.id_type), r.id_type),
        "id_number_masked": r.id_number_masked,
        "birth_date": r.birth_date.isoformat(),
        "address": r.address,
        "channel": r.channel,
        "reject_reason": r.reject_reason,
        "employee_id": r.employee_id,
        "reviewed_at": iso(r.reviewed_at),
        "created_at": iso(r.created_at),
    }
    if own_id_number is not None:  # the owner reads their own full record
        out["phone"] = r.phone
        out["id_number"] = own_id_number
        out["emergency_contact"] = contact
    else:
        out["phone_masked"] = mask_phone(r.phone)
        contact_phone = str(contact.pop("phone", ""))
        out["emergency_contact"] = {**contact, "phone_masked": mask_phone(contact_phone)}
    if enterprise_name is not None:
        out["enterprise_name"] = enterprise_name
    return out


def invitation_json(i: Invitation) -> dict[str, Any]:
    return {
        "id": i.id,
        "name": i.name,
        "phone_masked": mask_phone(i.phone),
        "status": i.status,
        "created_at": iso(i.created_at),
    }


# -- departments ----------------------------------------------------------------------------------


@routes.get("/api/v1/departments", "部门列表（按 parent_id 组成部门树）", auth="enterprise")
async def list_departments(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    items = await svc.list_departments(request.app[DEPS], actor)
    return json_response({"items": [department_json(d) for d in items], "total": len(items)})


@routes.post("/api/v1/departments", "新建部门", body=DepartmentIn, status=201, auth="enterprise")
async def create_department(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, DepartmentIn)
    department = await svc.create_department(request.app[DEPS], actor, data.name, data.parent_id)
    return json_response(department_json(department), 201)


@routes.patch("/api/v1/departments/{id}", "重命名或移动部门", body=DepartmentIn, auth="enterprise")
async def update_department(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, DepartmentIn)
    department = await svc.update_department(
        request.app[DEPS], actor, request.match_info["id"], data.model_dump(exclude_unset=True)
    )
    return json_response(department_json(department))


@routes.delete("/api/v1/departments/{id}", "删除部门（仅空部门）", auth="enterprise")
async def delete_department(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    await svc.delete_department(request.app[DEPS], actor, request.match_info["id"])
    return web.Response(status=204)


EMPLOYEE_DAYS = {
    "hired_from": "入职日期起（YYYY-MM-DD，含当日）",
    "hired_to": "入职日期止（含当日）",
    "left_from": "离职日期起（北京时间，含当日）",
    "left_to": "离职日期止（含当日）",
}

# -- employees --------------------------------------------------------------------------------------------


@routes.get(
    "/api/v1/employees",
    "员工花名册",
    paged=True,
    auth="enterprise",
    query={
        "status": "active | resigning | resigned",
        "department_id": "部门（含下级）",
        "q": "姓名或手机号开头、手机尾号（4位），或完整证件号码",
        **EMPLOYEE_DAYS,
        "cursor": CURSOR_DOC,
    },
)
async def list_employees(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    page, per_page = paging(request)
    items, total, names, after = await svc.list_employees(
        request.app[DEPS], actor, request.query.get("status"), request.query.get("department_id"),
        request.query.get("q"), page, per_page, request.query.get("cursor"), request.query,
    )  # fmt: skip
    out = page_json([employee_json(e, names) for e in items], total, page, per_page)
    return json_response({**out, "next_cursor": after})


@routes.get("/api/v1/employees/{id}", "员工详情", auth="enterprise")
async def get_employee(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    employee = await svc.get_employee(request.app[DEPS], actor, request.match_info["id"])
    return json_response(employee_detail_json(employee))


class EmployeePatch(BaseModel):
    name: Any = None
    phone: Any = None
    position: Any = None
    address: Any = None
    hire_date: Any = None


@routes.patch("/api/v1/employees/{id}", "编辑员工信息", body=EmployeePatch, auth="enterprise")
async def patch_employee(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, EmployeePatch)
    employee = await svc.update_employee(
        request.app[DEPS], actor, request.match_info["id"], data.model_dump(exclude_unset=True)
    )
    return json_response(employee_detail_json(employee))


@routes.post("/api/v1/employees/{id}/department", "调整部门", body=MoveIn, auth="enterprise")
async def move_employee(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, MoveIn)
    employee = await svc.move_employee(request.app[DEPS], actor, request.match_info["id"], data.department_id)
    return json_response(employee_json(employee))


@routes.post(
    "/api/v1/employees/{id}/resignation", "办理离职（→ 待确认离职）", body=ResignIn, auth="enterprise"
)
async def resign(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, ResignIn)
    employee = await svc.start_resignation(
        request.app[DEPS], actor, request.match_info["id"], data.reason, data.remark
    )
    return json_response(employee_json(employee))


@routes.post(
    "/api/v1/employees/{id}/resignation/confirm",
    "确认离职（→ 已离职）",
    body=ConfirmResignIn,
    auth="enterprise",
)
async def confirm_resign(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, ConfirmResignIn)
    employee, certificate = await labor.confirm_resignation(
        request.app[DEPS], actor, request.match_info["id"], **data.model_dump(), ctx=contract_ctx(request)
    )
    return json_response({**employee_json(employee), "certificate_contract_id": certificate.id})


# -- invitations ------------------------------------------------------------------------------------------


@routes.get("/api/v1/invite-link", "扫码入职：邀请链接与二维码", auth="enterprise")
async def invite_link(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    deps = request.app[DEPS]
    link = await svc.invite_link(deps, actor)
    answer = {
        "url": svc.join_url(deps, link.token),
        "token": link.token,
        "qr_png": "/api/v1/invite-link/qr.png",
    }
    if deps.config.wechat.enabled:
        answer["wechat_scene"] = f"join:{link.token}"
    return json_response(answer)


@routes.post("/api/v1/invite-link/reset", "重新生成邀请链接（旧链接失效）", auth="enterprise")
async def reset_invite_link(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    deps = request.app[DEPS]
    link = await svc.invite_link(deps, actor, reset=True)
    return json_response(
        {"url": svc.join_url(deps, link.token), "token": link.token, "qr_png": "/api/v1/invite-link/qr.png"}
    )


@routes.get(
    "/api/v1/invite-link/qr.png", "邀请二维码图片（PNG，可下载）", auth="enterprise", produces="image/png"
)
async def invite_qr(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    deps = request.app[DEPS]
    link = await svc.invite_link(deps, actor)
    import qrcode

    image = qrcode.make(svc.join_url(deps, link.token), box_size=10, border=2)
    out = io.BytesIO()
    image.save(out)
    disposition = "attachment" if request.query.get("download") == "1" else "inline"
    return web.Response(
        body=out.getvalue(),
        content_type="image/png",
        headers={
            "Content-Disposition": f'{disposition}; filename="invite-qr.png"',
            "Cache-Control": "no-store",
        },
    )


@routes.post("/api/v1/invitations", "短信邀请一位劳动者", body=InvitationIn, status=201, auth="enterprise")
async def invite(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, InvitationIn)
    invitation = await svc.invite_one(request.app[DEPS], actor, data.name, data.phone, data.department_id)
    return json_response(invitation_json(invitation), 201)


@routes.get(
    "/api/v1/invitations/template.xlsx",
    "批量邀请模板",
    auth="enterprise",
    produces="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
async def bulk_template(request: web.Request) -> web.Response:
    await require_actor(request)
    return web.Response(
        body=bulk.template_xlsx(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": "attachment; filename*=UTF-8''%E6%89%B9%E9%87%8F%E9%82%80%E8%AF%B7%E6%A8%A1%E6%9D%BF.xlsx"
        },
    )


@routes.post(
    "/api/v1/invitations/batch",
    "批量邀请：上传填好的模板，全部通过校验才发送",
    status=201,
    auth="enterprise",
    multipart={"file": "xlsx 文件"},
)
async def bulk_invite(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    deps = request.app[DEPS]
    upload = await read_multipart(
        request, max_file_bytes=bulk.MAX_BYTES, max_files=1, too_large_message="文件不能超过5MB"
    )
    files = upload.files.get("file", [])
    if not files:
        raise Invalid.field("file", "请选择填写好的表格文件")
    taken, departments = await svc.bulk_context(deps, actor)
    import asyncio

    checked = await asyncio.to_thread(bulk.check_bulk, files[0][1], taken, departments)
    if checked.errors:
        raise Invalid(
            f"表格中有{len(checked.errors)}处错误，请修改后重新上传，本次未发送任何邀请",
            {"file": "表格有错误"},
            code="invalid_rows",
            rows=checked.errors[:1000],
            error_count=len(checked.errors),
        )
    sent = await svc.invite_many(deps, actor, checked.rows)
    return json_response({"sent": sent}, 201)


# -- joining and onboarding ---------------------------------------------------------------------------------


@routes.get("/api/v1/join/{token}", "邀请链接对应的用人单位", auth="public")
async def join_info(request: web.Request) -> web.Response:
    """With a person's session it also says what they already sent (`mine`, as /mine)."""
    deps = request.app[DEPS]
    token = request.match_info["token"]
    enterprise = await svc.enterprise_for_token(deps, token)
    out: dict[str, Any] = {"enterprise": {"name": enterprise.name}}
    actor = await current_actor(request)
    if actor is not None and actor.user is not None and actor.api_key is None:
        out["mine"] = await _mine(deps, actor.user, token)
    return json_response(out)


async def _mine(deps: Deps, user: User, token: str) -> dict[str, Any]:
    _, mine, prefill = await svc.my_join_state(deps, user, token)
    return {"record": record_json(mine[0], own_id_number=mine[1]) if mine else None, "prefill": prefill}


@routes.get(
    "/api/v1/join/{token}/mine",
    "劳动者再次打开入职链接：我提交给该单位的最近一份资料、实名信息可预填的项目",
    auth="worker",
)
async def my_join_state(request: web.Request) -> web.Response:
    actor = await require_user(request)
    return json_response(await _mine(request.app[DEPS], actor.require_user(), request.match_info["token"]))


@routes.post(
    "/api/v1/join/{token}/onboarding", "劳动者提交入职资料", body=OnboardingIn, status=201, auth="worker"
)
async def submit(request: web.Request) -> web.Response:
    actor = await require_user(request)
    deps = request.app[DEPS]
    enterprise = await svc.enterprise_for_token(deps, request.match_info["token"])
    data = await body(request, OnboardingIn)
    record = await svc.submit_onboarding(deps, actor.require_user(), enterprise.id, data.model_dump())
    return json_response({"id": record.id, "status": record.status}, 201)


@routes.get("/api/v1/me/onboarding", "我的入职资料列表", paged=True, auth="worker")
async def my_records(request: web.Request) -> web.Response:
    actor = await require_user(request)
    page, per_page = paging(request)
    items, total = await svc.my_records(request.app[DEPS], actor.require_user(), page, per_page)
    return json_response(page_json([record_json(r, name) for r, name in items], total, page, per_page))


@routes.get("/api/v1/me/onboarding/{id}", "我的入职资料详情", auth="worker")
async def my_record(request: web.Request) -> web.Response:
    actor = await require_user(request)
    record, name, number = await svc.my_record(
        request.app[DEPS], actor.require_user(), request.match_info["id"]
    )
    return json_response(record_json(record, name, own_id_number=number))


@routes.get(
    "/api/v1/onboarding",
    "入职资料审核列表",
    paged=True,
    auth="enterprise",
    query={"status": "pending_review | approved | rejected"},
)
async def list_records(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    page, per_page = paging(request)
    items, total = await svc.list_records(
        request.app[DEPS], actor, request.query.get("status"), page, per_page
    )
    return json_response(page_json([record_json(r) for r in items], total, page, per_page))


@routes.get("/api/v1/onboarding/{id}", "入职资料详情", auth="enterprise")
async def get_record(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    record = await svc.get_record(request.app[DEPS], actor, request.match_info["id"])
    return json_response(record_json(record))


class RecordPatch(BaseModel):
    phone: Any = None
    address: Any = None
    emergency_contact: Any = None


@routes.patch(
    "/api/v1/onboarding/{id}", "审核时修正部分信息（仅待审核）", body=RecordPatch, auth="enterprise"
)
async def patch_record(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, RecordPatch)
    record = await svc.correct_record(
        request.app[DEPS], actor, request.match_info["id"], data.model_dump(exclude_unset=True)
    )
    return json_response(record_json(record))


@routes.post("/api/v1/onboarding/{id}/approve", "审核通过（加入花名册）", body=ApproveIn, auth="enterprise")
async def approve(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, ApproveIn)
    record, employee = await svc.approve(
        request.app[DEPS], actor, request.match_info["id"], data.department_id, data.hire_date
    )
    return json_response({"id": record.id, "status": record.status, "employee_id": employee.id})


@routes.post("/api/v1/onboarding/{id}/reject", "审核拒绝（填写原因）", body=RejectIn, auth="enterprise")
async def reject(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, RejectIn)
    record = await svc.reject(request.app[DEPS], actor, request.match_info["id"], data.reason)
    return json_response({"id": record.id, "status": record.status})
