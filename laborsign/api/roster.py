"""Onboarding and roster part of the JSON API."""

from __future__ import annotations

import io
from typing import Annotated, Any, NotRequired

from aiohttp import web
from pydantic import BaseModel
from typing_extensions import TypedDict

from ..bots.channels import registry
from ..core import bulk
from ..core.accounts import User
from ..core.clock import iso
from ..core.errors import Invalid
from ..core.identity_rules import ID_TYPE_LABELS, IdType
from ..core.onboarding import GENDERS, ONBOARDING_STATUS_LABELS, OnboardingRecord, OnboardingStatus
from ..core.ports import Deps
from ..core.roster import (
    EMPLOYEE_STATUS_LABELS,
    Department,
    Employee,
    EmployeeStatus,
    Invitation,
    InvitationStatus,
)
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
from .schemas import Codes, Day, Page, PageFields, Timestamp, Url
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


Gender = Annotated[str, Codes(GENDERS, "性别")]
IdTypeCode = Annotated[str, Codes(IdType, "证件类型")]
# The door a record came in through: the H5 form or one of the chat channels' conversations.
OnboardingChannel = Annotated[str, Codes(("h5", *registry.worker_facing()), "提交渠道")]


class DepartmentOut(TypedDict):
    id: str
    name: str
    parent_id: str | None  # None: a top-level department
    created_at: Timestamp


class DepartmentList(TypedDict):
    items: list[DepartmentOut]
    total: int


class EmployeeOut(TypedDict):
    id: str
    name: str
    phone_masked: str
    gender: Gender | None
    id_type: IdTypeCode | None
    id_number_masked: str | None
    birth_date: Day | None
    department_id: str | None
    department_name: str | None  # only in the roster list
    position: str | None
    hire_date: Day | None
    status: Annotated[str, Codes(EmployeeStatus, "员工状态")]
    status_label: Annotated[str, Codes(EMPLOYEE_STATUS_LABELS.values(), "员工状态（中文）")]
    resign_reason: str | None
    resign_remark: str | None
    handover_to: str | None
    resigned_at: Timestamp | None
    created_at: Timestamp


class EmployeePage(PageFields):
    items: list[EmployeeOut]
    total_exact: bool  # false: a search or filter matched more than 10,000 (total is 10000)


class EmployeeContactOut(TypedDict, total=False):
    """Empty for an employee added without onboarding data."""

    name: str
    relation: str
    phone_masked: str


class EmployeeDetailOut(EmployeeOut):
    address: str | None
    emergency_contact: EmployeeContactOut


class ResignedEmployeeOut(EmployeeOut):
    certificate_contract_id: str  # the 离职证明 generated on confirmation


class InviteLinkOut(TypedDict):
    url: Url
    token: str
    qr_png: Url
    wechat_scene: NotRequired[str]  # when the WeChat Official Account is enabled


class InvitationOut(TypedDict):
    id: str
    name: str
    phone_masked: str
    status: Annotated[str, Codes(InvitationStatus, "邀请状态")]
    created_at: Timestamp


class BulkSentOut(TypedDict):
    sent: int


class ContactOut(TypedDict):
    name: str
    relation: str
    phone: str


class MaskedContactOut(TypedDict):
    name: str
    relation: str
    phone_masked: str


class RecordFields(TypedDict):
    id: str
    status: Annotated[str, Codes(OnboardingStatus, "入职资料状态")]
    status_label: Annotated[str, Codes(ONBOARDING_STATUS_LABELS.values(), "入职资料状态（中文）")]
    name: str
    gender: Gender
    id_type: IdTypeCode
    id_type_label: Annotated[str, Codes(ID_TYPE_LABELS.values(), "证件类型（中文）")]
    id_number_masked: str
    birth_date: Day
    address: str
    channel: OnboardingChannel
    reject_reason: str | None
    employee_id: str | None  # set once approved
    reviewed_at: Timestamp | None
    created_at: Timestamp


class OnboardingRecordOut(RecordFields):
    """A record as the enterprise reviews it (phones masked)."""

    phone_masked: str
    emergency_contact: MaskedContactOut


class MyOnboardingItemOut(OnboardingRecordOut):
    enterprise_name: str


class MyOnboardingPage(PageFields):
    items: list[MyOnboardingItemOut]


class OwnOnboardingRecordOut(RecordFields):
    """A record as the person who sent it reads it: in full."""

    phone: str
    id_number: str
    emergency_contact: ContactOut
    enterprise_name: NotRequired[str]


class PrefillOut(TypedDict):
    """What the person's verified identity fills in."""

    name: str
    id_type: IdTypeCode
    id_number: str


class MyJoinStateOut(TypedDict):
    record: OwnOnboardingRecordOut | None  # the latest record sent to this enterprise
    prefill: PrefillOut | None  # None without a verified identity


class JoinEnterpriseOut(TypedDict):
    name: str


class JoinInfoOut(TypedDict):
    enterprise: JoinEnterpriseOut
    mine: NotRequired[MyJoinStateOut]  # with a person's session


class RecordStatusOut(TypedDict):
    id: str
    status: Annotated[str, Codes(OnboardingStatus, "入职资料状态")]


class ApprovedOut(RecordStatusOut):
    employee_id: str


def department_json(d: Department) -> DepartmentOut:
    return {"id": d.id, "name": d.name, "parent_id": d.parent_id, "created_at": iso(d.created_at)}


def employee_json(e: Employee, departments: dict[str, str] | None = None) -> EmployeeOut:
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


def employee_detail_json(e: Employee, departments: dict[str, str] | None = None) -> EmployeeDetailOut:
    contact: EmployeeContactOut = {}
    for key in ("name", "relation"):
        if e.emergency_contact.get(key):
            contact[key] = str(e.emergency_contact[key])
    if e.emergency_contact.get("phone"):
        contact["phone_masked"] = mask_phone(str(e.emergency_contact["phone"]))
    return {**employee_json(e, departments), "address": e.address, "emergency_contact": contact}


def _record_fields(r: OnboardingRecord) -> RecordFields:
    return {
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


def record_json(r: OnboardingRecord) -> OnboardingRecordOut:
    contact = r.emergency_contact
    return {
        **_record_fields(r),
        "phone_masked": mask_phone(r.phone),
        "emergency_contact": {
            "name": contact.get("name", ""),
            "relation": contact.get("relation", ""),
            "phone_masked": mask_phone(contact.get("phone", "")),
        },
    }


def own_record_json(
    r: OnboardingRecord, own_id_number: str, enterprise_name: str | None = None
) -> OwnOnboardingRecordOut:
    """The owner reads their own full record."""
    contact = r.emergency_contact
    out: OwnOnboardingRecordOut = {
        **_record_fields(r),
        "phone": r.phone,
        "id_number": own_id_number,
        "emergency_contact": {
            "name": contact.get("name", ""),
            "relation": contact.get("relation", ""),
            "phone": contact.get("phone", ""),
        },
    }
    if enterprise_name is not None:
        out["enterprise_name"] = enterprise_name
    return out


def invitation_json(i: Invitation) -> InvitationOut:
    return {
        "id": i.id,
        "name": i.name,
        "phone_masked": mask_phone(i.phone),
        "status": i.status,
        "created_at": iso(i.created_at),
    }


# -- departments ----------------------------------------------------------------------------------


@routes.get(
    "/api/v1/departments", "部门列表（按 parent_id 组成部门树）", auth="enterprise", answer=DepartmentList
)
async def list_departments(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    items = await svc.list_departments(request.app[DEPS], actor)
    return json_response({"items": [department_json(d) for d in items], "total": len(items)})


@routes.post(
    "/api/v1/departments", "新建部门", body=DepartmentIn, status=201, auth="enterprise", answer=DepartmentOut
)
async def create_department(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, DepartmentIn)
    department = await svc.create_department(request.app[DEPS], actor, data.name, data.parent_id)
    return json_response(department_json(department), 201)


@routes.patch(
    "/api/v1/departments/{id}", "重命名或移动部门", body=DepartmentIn, auth="enterprise", answer=DepartmentOut
)
async def update_department(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, DepartmentIn)
    department = await svc.update_department(
        request.app[DEPS], actor, request.match_info["id"], data.model_dump(exclude_unset=True)
    )
    return json_response(department_json(department))


@routes.delete("/api/v1/departments/{id}", "删除部门（仅空部门，否则 409）", auth="enterprise", errors=(409,))
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
    answer=EmployeePage,
)
async def list_employees(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    page, per_page = paging(request)
    items, total, names, after = await svc.list_employees(
        request.app[DEPS], actor, request.query.get("status"), request.query.get("department_id"),
        request.query.get("q"), page, per_page, request.query.get("cursor"), request.query,
    )  # fmt: skip
    out = page_json([employee_json(e, names) for e in items], total, page, per_page)
    return json_response({**out, "total_exact": total.exact, "next_cursor": after})


@routes.get("/api/v1/employees/{id}", "员工详情", auth="enterprise", answer=EmployeeDetailOut)
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


@routes.patch(
    "/api/v1/employees/{id}", "编辑员工信息", body=EmployeePatch, auth="enterprise", answer=EmployeeDetailOut
)
async def patch_employee(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, EmployeePatch)
    employee = await svc.update_employee(
        request.app[DEPS], actor, request.match_info["id"], data.model_dump(exclude_unset=True)
    )
    return json_response(employee_detail_json(employee))


@routes.post(
    "/api/v1/employees/{id}/department",
    "调整部门（已离职员工 409）",
    body=MoveIn,
    auth="enterprise",
    answer=EmployeeOut,
    errors=(409,),
)
async def move_employee(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, MoveIn)
    employee = await svc.move_employee(request.app[DEPS], actor, request.match_info["id"], data.department_id)
    return json_response(employee_json(employee))


@routes.post(
    "/api/v1/employees/{id}/resignation",
    "办理离职（→ 待确认离职）",
    body=ResignIn,
    auth="enterprise",
    answer=EmployeeOut,
    errors=(409,),
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
    answer=ResignedEmployeeOut,
    errors=(409,),
)
async def confirm_resign(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, ConfirmResignIn)
    employee, certificate = await labor.confirm_resignation(
        request.app[DEPS], actor, request.match_info["id"], **data.model_dump(), ctx=contract_ctx(request)
    )
    return json_response({**employee_json(employee), "certificate_contract_id": certificate.id})


# -- invitations ------------------------------------------------------------------------------------------


@routes.get("/api/v1/invite-link", "扫码入职：邀请链接与二维码", auth="enterprise", answer=InviteLinkOut)
async def invite_link(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    deps = request.app[DEPS]
    link = await svc.invite_link(deps, actor)
    answer: InviteLinkOut = {
        "url": svc.join_url(deps, link.token),
        "token": link.token,
        "qr_png": "/api/v1/invite-link/qr.png",
    }
    if deps.config.wechat.enabled:
        answer["wechat_scene"] = f"join:{link.token}"
    return json_response(answer)


@routes.post(
    "/api/v1/invite-link/reset", "重新生成邀请链接（旧链接失效）", auth="enterprise", answer=InviteLinkOut
)
async def reset_invite_link(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    deps = request.app[DEPS]
    link = await svc.invite_link(deps, actor, reset=True)
    answer: InviteLinkOut = {
        "url": svc.join_url(deps, link.token),
        "token": link.token,
        "qr_png": "/api/v1/invite-link/qr.png",
    }
    return json_response(answer)


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


@routes.post(
    "/api/v1/invitations",
    "短信邀请一位劳动者（已在花名册或已邀请 409）",
    body=InvitationIn,
    status=201,
    auth="enterprise",
    answer=InvitationOut,
    errors=(409, 429),
)
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
    answer=BulkSentOut,
    errors=(429,),
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
    sent: BulkSentOut = {"sent": await svc.invite_many(deps, actor, checked.rows)}
    return json_response(sent, 201)


# -- joining and onboarding ---------------------------------------------------------------------------------


@routes.get("/api/v1/join/{token}", "邀请链接对应的用人单位", auth="public", answer=JoinInfoOut)
async def join_info(request: web.Request) -> web.Response:
    """With a person's session it also says what they already sent (`mine`, as /mine)."""
    deps = request.app[DEPS]
    token = request.match_info["token"]
    enterprise = await svc.enterprise_for_token(deps, token)
    out: JoinInfoOut = {"enterprise": {"name": enterprise.name}}
    actor = await current_actor(request)
    if actor is not None and actor.user is not None and actor.api_key is None:
        out["mine"] = await _mine(deps, actor.user, token)
    return json_response(out)


async def _mine(deps: Deps, user: User, token: str) -> MyJoinStateOut:
    _, mine, prefill = await svc.my_join_state(deps, user, token)
    return {
        "record": own_record_json(*mine) if mine else None,
        "prefill": None
        if prefill is None
        else {"name": prefill["name"], "id_type": prefill["id_type"], "id_number": prefill["id_number"]},
    }


@routes.get(
    "/api/v1/join/{token}/mine",
    "劳动者再次打开入职链接：我提交给该单位的最近一份资料、实名信息可预填的项目",
    auth="worker",
    answer=MyJoinStateOut,
)
async def my_join_state(request: web.Request) -> web.Response:
    actor = await require_user(request)
    return json_response(await _mine(request.app[DEPS], actor.require_user(), request.match_info["token"]))


@routes.post(
    "/api/v1/join/{token}/onboarding",
    "劳动者提交入职资料（已在审核中或已在职 409）",
    body=OnboardingIn,
    status=201,
    auth="worker",
    answer=RecordStatusOut,
    errors=(409,),
)
async def submit(request: web.Request) -> web.Response:
    actor = await require_user(request)
    deps = request.app[DEPS]
    enterprise = await svc.enterprise_for_token(deps, request.match_info["token"])
    data = await body(request, OnboardingIn)
    record = await svc.submit_onboarding(deps, actor.require_user(), enterprise.id, data.model_dump())
    submitted: RecordStatusOut = {"id": record.id, "status": record.status}
    return json_response(submitted, 201)


@routes.get("/api/v1/me/onboarding", "我的入职资料列表", paged=True, auth="worker", answer=MyOnboardingPage)
async def my_records(request: web.Request) -> web.Response:
    actor = await require_user(request)
    page, per_page = paging(request)
    items, total = await svc.my_records(request.app[DEPS], actor.require_user(), page, per_page)
    mine: list[MyOnboardingItemOut] = [{**record_json(r), "enterprise_name": name} for r, name in items]
    return json_response(page_json(mine, total, page, per_page))


@routes.get("/api/v1/me/onboarding/{id}", "我的入职资料详情", auth="worker", answer=OwnOnboardingRecordOut)
async def my_record(request: web.Request) -> web.Response:
    actor = await require_user(request)
    record, name, number = await svc.my_record(
        request.app[DEPS], actor.require_user(), request.match_info["id"]
    )
    return json_response(own_record_json(record, number, name))


@routes.get(
    "/api/v1/onboarding",
    "入职资料审核列表",
    paged=True,
    auth="enterprise",
    query={"status": "pending_review | approved | rejected"},
    answer=Page[OnboardingRecordOut],
)
async def list_records(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    page, per_page = paging(request)
    items, total = await svc.list_records(
        request.app[DEPS], actor, request.query.get("status"), page, per_page
    )
    return json_response(page_json([record_json(r) for r in items], total, page, per_page))


@routes.get("/api/v1/onboarding/{id}", "入职资料详情", auth="enterprise", answer=OnboardingRecordOut)
async def get_record(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    record = await svc.get_record(request.app[DEPS], actor, request.match_info["id"])
    return json_response(record_json(record))


class RecordPatch(BaseModel):
    phone: Any = None
    address: Any = None
    emergency_contact: Any = None


@routes.patch(
    "/api/v1/onboarding/{id}",
    "审核时修正部分信息（仅待审核，否则 409）",
    body=RecordPatch,
    auth="enterprise",
    answer=OnboardingRecordOut,
    errors=(409,),
)
async def patch_record(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, RecordPatch)
    record = await svc.correct_record(
        request.app[DEPS], actor, request.match_info["id"], data.model_dump(exclude_unset=True)
    )
    return json_response(record_json(record))


@routes.post(
    "/api/v1/onboarding/{id}/approve",
    "审核通过（加入花名册；已审核过 409）",
    body=ApproveIn,
    auth="enterprise",
    answer=ApprovedOut,
    errors=(409,),
)
async def approve(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, ApproveIn)
    record, employee = await svc.approve(
        request.app[DEPS], actor, request.match_info["id"], data.department_id, data.hire_date
    )
    approved: ApprovedOut = {"id": record.id, "status": record.status, "employee_id": employee.id}
    return json_response(approved)


@routes.post(
    "/api/v1/onboarding/{id}/reject",
    "审核拒绝（填写原因；已审核过 409）",
    body=RejectIn,
    auth="enterprise",
    answer=RecordStatusOut,
    errors=(409,),
)
async def reject(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, RejectIn)
    record = await svc.reject(request.app[DEPS], actor, request.match_info["id"], data.reason)
    rejected: RecordStatusOut = {"id": record.id, "status": record.status}
    return json_response(rejected)
