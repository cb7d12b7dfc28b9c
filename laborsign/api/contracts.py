"""Contracts, seals, signing sessions and verification in the JSON API."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired
from urllib.parse import quote

from aiohttp import web
from pydantic import BaseModel, WithJsonSchema
from typing_extensions import TypedDict

from ..core.accounts import Permission
from ..core.clock import iso
from ..core.contracts import (
    CONTRACT_STATUS_LABELS,
    EVENT_LABELS,
    FILTER_LABELS,
    SEAL_TYPE_LABELS,
    SIGNING_ORDER_LABELS,
    Contract,
    ContractEvent,
    ContractStatus,
    Party,
    PartyRole,
    PartyStatus,
    SealType,
    SigningOrder,
    party_status_label,
    verify_chain,
)
from ..core.errors import BadRequest, Invalid, NotFound
from ..core.pdf.validate import SignatureReport
from ..core.services.contracts import evidence as evidence_svc
from ..core.services.contracts import launch as launch_svc
from ..core.services.contracts import lifecycle as lifecycle_svc
from ..core.services.contracts import queries as query_svc
from ..core.services.contracts import seals as seal_svc
from ..core.services.contracts.audit import Context
from ..core.signing import IntentMethod, Seal
from ..core.values import mask_phone
from ..inputs import header_text, parse_json
from .http import (
    CURSOR_DOC,
    DEPS,
    ApiRoutes,
    body,
    client_ip,
    int_param,
    json_response,
    page_json,
    paging,
    require_actor,
    require_user,
    scale_param,
)
from .labor import LaborTermOut, labor_term_json
from .launch import ContractIn, Flag, LaunchOut, launch_json
from .schemas import Codes, PageFields, Timestamp, Url
from .templates import PageSizeOut, TemplateControlOut, control_json
from .uploads import read_multipart

routes = ApiRoutes("合同与签署")
MAX_PDF_BYTES = 20 * 1024 * 1024


class ReasonIn(BaseModel):
    reason: Annotated[Any, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 200})] = None


class SealIn(BaseModel):
    type: Annotated[Any, Codes(SealType, "印章类型")] = None
    name: Annotated[
        Any, WithJsonSchema({"type": ["string", "null"], "description": "印章上的文字（默认企业名称）"})
    ] = None


def ctx(request: web.Request) -> Context:
    return Context(ip=client_ip(request), user_agent=header_text(request, "User-Agent"))


# -- answers ---------------------------------------------------------------------------------------

ContractStatusCode = Annotated[str, Codes(ContractStatus, "合同状态")]
# template: 从模板发起；upload: 上传 PDF 发起；certificate: 离职证明（企业单方盖章）
ContractSource = Literal["template", "upload", "certificate"]


class PartyOut(TypedDict):
    role: Annotated[str, Codes(PartyRole, "签约方")]
    name: str
    status: Annotated[str, Codes(PartyStatus, "签约方状态")]
    status_label: str
    signed_at: Timestamp | None
    verification_method: Annotated[str, Codes(IntentMethod, "签署时的意愿认证方式")] | None
    decline_reason: str | None


class ContractOut(TypedDict):
    id: str
    batch_id: str
    name: str
    status: ContractStatusCode
    status_label: str
    employee_id: str
    worker_name: str
    worker_phone_masked: str
    enterprise_name: str | None
    parties: list[PartyOut]
    created_at: Timestamp
    launched_at: Timestamp | None
    last_reminded_at: Timestamp | None
    sign_deadline: Timestamp | None
    completed_at: Timestamp | None
    reinitiated_from: str | None
    signing_order: Annotated[str, Codes(SigningOrder, "签署顺序")]
    signing_order_label: str
    awaiting_me: bool  # the viewer (the enterprise, or the worker) has to act now


class ContractControlOut(TemplateControlOut):
    """合同上的控件（page 为合并后文件的页码）与已填写的值（未填写为 null）"""

    value: str | None


class ContractFileOut(TypedDict):
    """合同文件由哪些底稿组成（first_page 起共 pages 页）"""

    index: int
    name: str
    first_page: int
    pages: int


class EnterprisePartyOut(TypedDict):
    name: str
    credit_code: str
    operator_name: str
    operator_phone_masked: str
    seal_type: Annotated[str, Codes(SealType, "印章类型")]


class ContractFullOut(ContractOut):
    """合同详情（劳动者与企业都可见的部分）"""

    controls: list[ContractControlOut]
    files: list[ContractFileOut]
    enterprise_party: EnterprisePartyOut
    ended_reason: str | None
    original_sha256: str
    document_sha256: str
    pages: int


class SignerRefusalOut(TypedDict):
    """最近一次因实名身份与劳动者不一致而拒绝的签署"""

    at: Timestamp
    reason: str | None
    verified_name: str | None
    verified_id_masked: str | None
    roster_name: str | None
    roster_id_masked: str | None


class ContractDetailOut(ContractFullOut):
    """企业看到的合同详情：另含劳动法要素、来源与所用模板"""

    term: LaborTermOut | None
    source: ContractSource
    template_ids: list[str]
    signer_refusal: NotRequired[SignerRefusalOut]


class ContractPage(PageFields):
    items: list[ContractOut]
    total_exact: bool  # false: a search or filter matched more than 10,000 (total is 10000)


class ContractCountsOut(TypedDict):
    """各视图的合同数量"""

    all: int
    awaiting_me: int
    awaiting_others: int
    completed: int


class ContractEventOut(TypedDict):
    seq: int
    kind: Annotated[str, Codes(EVENT_LABELS, "事件类型")]
    label: str
    at: Timestamp
    actor_type: Literal["worker", "enterprise", "integrator", "system", "platform"]
    actor_name: str
    ip: str
    user_agent: str
    method: str | None
    document_sha256: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class ContractEventsOut(TypedDict):
    """审计记录；chain_intact 为哈希链是否完整，first_bad_seq 为第一条被改动的记录"""

    contract_id: str
    chain_intact: bool
    first_bad_seq: int | None
    items: list[ContractEventOut]


class RemindOut(TypedDict):
    id: str
    reminded_at: Timestamp | None


class ContractStateOut(TypedDict):
    id: str
    status: ContractStatusCode


class PdfPagesOut(TypedDict):
    pages: list[PageSizeOut]


def party_json(p: Party, contract_status: str) -> PartyOut:
    return {
        "role": p.role,
        "name": p.name,
        "status": p.status,
        "status_label": party_status_label(p.status, contract_status),
        "signed_at": iso(p.signed_at),
        "verification_method": p.verification_method,
        "decline_reason": p.decline_reason,
    }


def contract_json(c: Contract, parties: list[Party], viewer: str) -> ContractOut:
    return {
        "id": c.id,
        "batch_id": c.batch_id,
        "name": c.name,
        "status": c.status,
        "status_label": CONTRACT_STATUS_LABELS.get(ContractStatus(c.status), c.status),
        "employee_id": c.employee_id,
        "worker_name": c.worker_name,
        "worker_phone_masked": mask_phone(c.worker_phone),
        "enterprise_name": c.enterprise_party.get("name"),
        "parties": [party_json(p, c.status) for p in parties],
        "created_at": iso(c.created_at),
        "launched_at": iso(c.launched_at),
        "last_reminded_at": iso(c.last_reminded_at),
        "sign_deadline": iso(c.sign_deadline),
        "completed_at": iso(c.completed_at),
        "reinitiated_from": c.reinitiated_from,
        "signing_order": c.signing_order,
        "signing_order_label": SIGNING_ORDER_LABELS[SigningOrder(c.signing_order)],
        "awaiting_me": c.turn_of(viewer, parties),
    }


def contract_full_json(c: Contract, parties: list[Party], viewer: str) -> ContractFullOut:
    party = c.enterprise_party
    return {
        **contract_json(c, parties, viewer),
        "controls": [{**control_json(ctl), "value": c.values.get(ctl.key)} for ctl in c.controls],
        "files": [
            {"index": f["index"], "name": f["name"], "first_page": f["first_page"], "pages": f["pages"]}
            for f in c.files
        ],
        "enterprise_party": {
            "name": party["name"],
            "credit_code": party["credit_code"],
            "operator_name": party["operator_name"],
            "operator_phone_masked": mask_phone(str(party.get("operator_phone", ""))),
            "seal_type": party["seal_type"],
        },
        "ended_reason": c.ended_reason,
        "original_sha256": c.original_sha256,
        "document_sha256": c.document_sha256,
        "pages": sum(int(f["pages"]) for f in c.files),
    }


def event_json(e: ContractEvent) -> ContractEventOut:
    return {
        "seq": e.seq,
        "kind": e.kind,
        "label": EVENT_LABELS.get(e.kind, e.kind),
        "at": iso(e.at),
        "actor_type": e.actor_type,  # type: ignore[typeddict-item]  # the services write these
        "actor_name": e.actor_name,
        "ip": e.ip,
        "user_agent": e.user_agent,
        "method": e.method,
        "document_sha256": e.document_sha256,
        "details": e.details,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def counts_json(counts: dict[str, int]) -> ContractCountsOut:
    return {
        "all": counts["all"],
        "awaiting_me": counts["awaiting_me"],
        "awaiting_others": counts["awaiting_others"],
        "completed": counts["completed"],
    }


def state_json(c: Contract) -> ContractStateOut:
    return {"id": c.id, "status": c.status}


@routes.post(
    "/api/v1/contracts",
    "从模板发起签署（每位劳动者一份合同）",
    body=ContractIn,
    status=201,
    auth="enterprise",
    answer=LaunchOut,
    errors=(404, 409),  # a template that is not there (404) or not enabled (409)
)
async def create(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, ContractIn)
    result = await launch_svc.initiate(request.app[DEPS], actor, **data.model_dump(), ctx=ctx(request))
    return json_response(launch_json(result), 201)


@routes.post(
    "/api/v1/contracts/upload",
    "上传 PDF 直接发起签署",
    status=201,
    auth="enterprise",
    multipart={
        "file": "PDF 文件",
        "meta": (
            "JSON：{name, employee_ids, enterprise_party, placements, signing_order?, sign_deadline?, "
            "term_type?, fields?, confirm_warnings?}；fields 为合同条款（contract_start_date、contract_end_date、"
            "probation_end_date、monthly_wage、probation_wage、position、work_place，均可不填），"
            "与模板发起同样经过劳动法检查（有风险且未 confirm_warnings 时 409 labor_law_warnings）"
        ),
    },
    answer=LaunchOut,
    errors=(409,),
)
async def create_from_upload(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    upload = await read_multipart(
        request, max_file_bytes=MAX_PDF_BYTES, max_files=1, too_large_message="PDF文件不能超过20MB"
    )
    files = upload.files.get("file", [])
    if not files:
        raise Invalid.field("file", "请上传合同PDF文件")
    meta = parse_json(upload.fields.get("meta") or "{}")
    if not isinstance(meta, dict):
        raise BadRequest("meta 应为 JSON 对象", "malformed_json")
    result = await launch_svc.initiate_from_upload(
        request.app[DEPS], actor, pdf=files[0][1], meta=meta, ctx=ctx(request)
    )
    return json_response(launch_json(result), 201)


@routes.post(
    "/api/v1/contracts/upload/inspect",
    "上传发起前检查 PDF：返回各页尺寸（不保存文件），用于放置签署位置",
    auth="enterprise",
    multipart={"file": "PDF 文件"},
    answer=PdfPagesOut,
)
async def inspect_upload(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    actor.require(Permission.CONTRACTS)
    upload = await read_multipart(
        request, max_file_bytes=MAX_PDF_BYTES, max_files=1, too_large_message="PDF文件不能超过20MB"
    )
    files = upload.files.get("file", [])
    if not files:
        raise Invalid.field("file", "请上传合同PDF文件")
    info = await request.app[DEPS].pdf.inspect(files[0][1])
    answer: PdfPagesOut = {"pages": [{"width": p.width, "height": p.height} for p in info.pages]}
    return json_response(answer)


LIST_QUERY = {
    "view": "all | awaiting_me | awaiting_others | completed",
    "q": "劳动者姓名、合同名称或手机号开头、手机尾号（4位），或完整证件号码",
    "status": "状态",
    "cursor": CURSOR_DOC,
    "department_id": "劳动者所在部门（含下级部门）",
    "template_id": "所用模板",
    **{
        f"{name}_{end}": f"{label}{'起' if end == 'from' else '止'}（YYYY-MM-DD，北京时间，含当日）"
        for name, label in FILTER_LABELS.items()
        for end in ("from", "to")
    },
}


@routes.get(
    "/api/v1/contracts",
    "合同列表（全部、待我操作、待他人操作、已完成）",
    paged=True,
    auth="enterprise",
    query=LIST_QUERY,
    answer=ContractPage,
)
async def list_contracts(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    page, per_page = paging(request)
    items, total, after = await query_svc.list_for_enterprise(
        request.app[DEPS], actor, request.query.get("view"), request.query.get("q"), request.query.get("status"),
        page, per_page, request.query.get("cursor"), request.query,
    )  # fmt: skip
    out = page_json([contract_json(c, p, "enterprise") for c, p in items], total, page, per_page)
    return json_response({**out, "total_exact": total.exact, "next_cursor": after})


@routes.get(
    "/api/v1/contracts/counts", "各视图合同数量（待我操作角标）", auth="enterprise", answer=ContractCountsOut
)
async def counts(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    return json_response(counts_json(await query_svc.counts_for_enterprise(request.app[DEPS], actor)))


@routes.get(
    "/api/v1/contracts/{id}", "合同详情（签约方、控件、状态）", auth="enterprise", answer=ContractDetailOut
)
async def detail(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    deps = request.app[DEPS]
    contract, parties, role = await query_svc.get_contract(deps, actor, request.match_info["id"])
    out: ContractDetailOut = {
        **contract_full_json(contract, parties, role),
        "term": await labor_term_json(deps, contract),
        "source": contract.source,  # type: ignore[typeddict-item]  # set by the services, one of three
        "template_ids": contract.template_ids,
    }
    refusal = await query_svc.signer_refusal(deps, contract, parties) if role == "enterprise" else None
    if refusal is not None:
        out["signer_refusal"] = {
            "at": iso(refusal["at"]),
            "reason": refusal["reason"],
            "verified_name": refusal["verified_name"],
            "verified_id_masked": refusal["verified_id_masked"],
            "roster_name": refusal["roster_name"],
            "roster_id_masked": refusal["roster_id_masked"],
        }
    return json_response(out)


@routes.get(
    "/api/v1/contracts/{id}/document.pdf",
    "下载合同当前 PDF（已签署部分含数字签名）",
    auth="enterprise",
    produces="application/pdf",
)
async def document(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    contract, data = await query_svc.document(request.app[DEPS], actor, request.match_info["id"])
    return _pdf(data, f"{contract.name}-{contract.worker_name}.pdf", request.query.get("download") == "1")


@routes.get(
    "/api/v1/contracts/{id}/evidence.pdf",
    "出证报告（平台签名）",
    auth="enterprise",
    produces="application/pdf",
)
async def evidence(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    contract, data = await evidence_svc.evidence_report(request.app[DEPS], actor, request.match_info["id"])
    return _pdf(
        data, f"出证报告-{contract.name}-{contract.worker_name}.pdf", request.query.get("download") == "1"
    )


@routes.get(
    "/api/v1/contracts/{id}/pages/{page}.png",
    "合同页面图片（含已签署的印章与签名）",
    auth="enterprise",
    produces="image/png",
    query={"scale": "缩放（0.5-3，默认1.5）", "v": "文件版本（SHA-256 前缀）：与当前版本一致时可长期缓存"},
)
async def page_png(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    contract, png = await query_svc.page_image(
        request.app[DEPS], actor, request.match_info["id"], int_param(request, "page"), scale_param(request)
    )
    # A page of one version of the file never changes: the pages name the version they show
    # (v=), so a browser keeps that picture; without it (or for an old version) it asks again.
    version = request.query.get("v", "")
    current = len(version) >= 12 and contract.document_sha256.startswith(version)
    cache = "private, max-age=604800, immutable" if current else "private, no-cache"
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": cache})


@routes.get(
    "/api/v1/contracts/{id}/events", "合同审计记录（哈希链）", auth="enterprise", answer=ContractEventsOut
)
async def events(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    contract, items = await query_svc.contract_events(request.app[DEPS], actor, request.match_info["id"])
    intact, first_bad = verify_chain(items)
    answer: ContractEventsOut = {
        "contract_id": contract.id,
        "chain_intact": intact,
        "first_bad_seq": first_bad,
        "items": [event_json(e) for e in items],
    }
    return json_response(answer)


@routes.post(
    "/api/v1/contracts/{id}/remind",
    "催签（发起6小时后、间隔不少于30分钟）",
    auth="enterprise",
    answer=RemindOut,
    errors=(409, 429),  # 429: the enterprise's daily budget of reminders is spent
)
async def remind(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    contract = await lifecycle_svc.remind(request.app[DEPS], actor, request.match_info["id"], ctx(request))
    answer: RemindOut = {"id": contract.id, "reminded_at": iso(contract.last_reminded_at)}
    return json_response(answer)


@routes.post(
    "/api/v1/contracts/{id}/withdraw",
    "撤回签署中的合同",
    body=ReasonIn,
    auth="enterprise",
    answer=ContractStateOut,
    errors=(409,),
)
async def withdraw(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, ReasonIn)
    contract = await lifecycle_svc.withdraw(
        request.app[DEPS], actor, request.match_info["id"], data.reason, ctx(request)
    )
    return json_response(state_json(contract))


class ReinitiateIn(BaseModel):
    confirm_warnings: Flag = None  # true: send it again although the labor-law checks warn


@routes.post(
    "/api/v1/contracts/{id}/reinitiate",
    "重新发起已撤回的合同",
    body=ReinitiateIn,
    status=201,
    auth="enterprise",
    answer=ContractStateOut,
    errors=(409,),
)
async def reinitiate(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, ReinitiateIn)
    contract = await lifecycle_svc.reinitiate(
        request.app[DEPS], actor, request.match_info["id"], ctx(request), data.confirm_warnings
    )
    return json_response(state_json(contract), 201)


def _pdf(data: bytes, filename: str, download: bool) -> web.Response:
    disposition = "attachment" if download else "inline"
    return web.Response(
        body=data,
        content_type="application/pdf",
        headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(filename, safe='')}"},
    )


# -- seals ---------------------------------------------------------------------------------------


class SealOut(TypedDict):
    id: str
    type: Annotated[str, Codes(SealType, "印章类型")]
    type_label: str
    name: str
    source: Literal["generated", "uploaded"]
    image: Url
    created_at: Timestamp


class SealList(TypedDict):
    items: list[SealOut]
    total: int


def seal_json(s: Seal) -> SealOut:
    return {
        "id": s.id,
        "type": s.type,
        "type_label": SEAL_TYPE_LABELS.get(SealType(s.type), s.type),
        "name": s.name,
        "source": "uploaded" if s.source == "uploaded" else "generated",
        "image": f"/api/v1/seals/{s.id}.png",
        "created_at": iso(s.created_at),
    }


@routes.get("/api/v1/seals", "本企业印章", auth="enterprise", answer=SealList)
async def list_seals(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    seals = await seal_svc.list_seals(request.app[DEPS], actor)
    answer: SealList = {"items": [seal_json(s) for s in seals], "total": len(seals)}
    return json_response(answer)


@routes.post(
    "/api/v1/seals",
    "生成圆形印章（JSON {type, name?}）或上传 PNG 印章（multipart type + file）",
    body=SealIn,
    status=201,
    auth="enterprise",
    answer=SealOut,
)
async def create_seal(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    deps = request.app[DEPS]
    if request.content_type.startswith("multipart/"):
        upload = await read_multipart(
            request, max_file_bytes=2 * 1024 * 1024, max_files=1, too_large_message="印章图片不能超过2MB"
        )
        files = upload.files.get("file", [])
        if not files:
            raise Invalid.field("file", "请选择印章图片（PNG）")
        seal = await seal_svc.create_seal(
            deps, actor, seal_type=upload.fields.get("type"), name=upload.fields.get("name"), png=files[0][1]
        )
    else:
        data = await body(request, SealIn)
        seal = await seal_svc.create_seal(deps, actor, seal_type=data.type, name=data.name)
    return json_response(seal_json(seal), 201)


@routes.get("/api/v1/seals/{id}.png", "印章图片", auth="enterprise", produces="image/png")
async def seal_png(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await seal_svc.seal_image(request.app[DEPS], actor, request.match_info["id"])
    return web.Response(
        body=data, content_type="image/png", headers={"Cache-Control": "private, max-age=3600"}
    )


# -- the worker's side --------------------------------------------------------------------------------


@routes.get(
    "/api/v1/me/contracts",
    "我的合同（劳动者）",
    paged=True,
    auth="worker",
    query={"view": "all | awaiting_me | awaiting_others | completed", "cursor": CURSOR_DOC},
    answer=ContractPage,
)
async def my_contracts(request: web.Request) -> web.Response:
    actor = await require_user(request)
    page, per_page = paging(request)
    items, total, after = await query_svc.list_for_worker(
        request.app[DEPS], actor, request.query.get("view"), page, per_page, request.query.get("cursor")
    )
    out = page_json([contract_json(c, p, "worker") for c, p in items], total, page, per_page)
    return json_response({**out, "total_exact": total.exact, "next_cursor": after})


@routes.get(
    "/api/v1/me/contracts/counts", "我的合同数量（待我签角标）", auth="worker", answer=ContractCountsOut
)
async def my_counts(request: web.Request) -> web.Response:
    actor = await require_user(request)
    return json_response(counts_json(await query_svc.counts_for_worker(request.app[DEPS], actor)))


@routes.get(
    "/api/v1/me/contracts/{id}", "我的合同详情（首次查看记入审计）", auth="worker", answer=ContractFullOut
)
async def my_contract(request: web.Request) -> web.Response:
    actor = await require_user(request)
    deps = request.app[DEPS]
    contract, parties, role = await query_svc.get_contract(deps, actor, request.match_info["id"])
    if role == "worker":
        await lifecycle_svc.mark_viewed(deps, actor, contract.id, ctx(request))
    return json_response(contract_full_json(contract, parties, role))


@routes.get(
    "/api/v1/me/contracts/{id}/qr.png",
    "电脑端：用手机扫码打开同一份合同签署",
    auth="worker",
    produces="image/png",
)
async def my_contract_qr(request: web.Request) -> web.Response:
    actor = await require_user(request)
    deps = request.app[DEPS]
    contract, _, role = await query_svc.get_contract(deps, actor, request.match_info["id"])
    if role != "worker":
        raise NotFound("合同不存在", "contract_not_found")
    import io

    import qrcode

    out = io.BytesIO()
    qrcode.make(f"{deps.public_url}/h5/contracts/{contract.id}", box_size=8, border=2).save(out)
    return web.Response(body=out.getvalue(), content_type="image/png", headers={"Cache-Control": "no-store"})


@routes.post(
    "/api/v1/me/contracts/{id}/decline",
    "劳动者拒签（填写原因）",
    body=ReasonIn,
    auth="worker",
    answer=ContractStateOut,
    errors=(409,),
)
async def worker_decline(request: web.Request) -> web.Response:
    actor = await require_user(request)
    data = await body(request, ReasonIn)
    contract = await lifecycle_svc.decline(
        request.app[DEPS], actor, request.match_info["id"], data.reason, ctx(request)
    )
    return json_response(state_json(contract))


# -- verification and the platform CA (public) ------------------------------------------------------


class SignatureReportOut(TypedDict):
    """PDF 中的一个签名：intact 为签名后内容未被改动，trusted 为证书链可信且未吊销"""

    field_name: str
    signer: str
    signer_subject: str
    signed_at: Timestamp | None
    time_source: Literal["timestamp", "claimed", "none"]
    intact: bool
    trusted: bool
    covers_whole_document: bool
    timestamp_valid: bool
    modification_level: Literal["NONE", "LTA_UPDATES", "FORM_FILLING", "ANNOTATIONS", "OTHER", "UNKNOWN"]
    problem: str


class VerifyOut(TypedDict):
    sha256: str
    signatures: list[SignatureReportOut]
    known_to_platform: bool
    contract_status: ContractStatusCode | None


def signature_json(s: SignatureReport) -> SignatureReportOut:
    return {
        "field_name": s.field_name,
        "signer": s.signer,
        "signer_subject": s.signer_subject,
        "signed_at": iso(s.signed_at),
        "time_source": s.time_source,  # type: ignore[typeddict-item]  # set by core.pdf.validate
        "intact": s.intact,
        "trusted": s.trusted,
        "covers_whole_document": s.covers_whole_document,
        "timestamp_valid": s.timestamp_valid,
        "modification_level": s.modification_level,  # type: ignore[typeddict-item]  # pyHanko's level name
        "problem": s.problem,
    }


@routes.post(
    "/api/v1/verify",
    "验签：上传任意 PDF，报告其中每个签名，以及平台是否存有该文件",
    status=200,
    auth="public",
    multipart={"file": "PDF 文件"},
    answer=VerifyOut,
)
async def verify(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    upload = await read_multipart(
        request, max_file_bytes=50 * 1024 * 1024, max_files=1, too_large_message="文件不能超过50MB"
    )
    files = upload.files.get("file", [])
    if not files:
        raise Invalid.field("file", "请选择要验证的PDF文件")
    report = await deps.pdf.verify(files[0][1])
    async with deps.uow() as uow:
        known = await uow.contracts.by_sha256(report.sha256)
    answer: VerifyOut = {
        "sha256": report.sha256,
        "signatures": [signature_json(s) for s in report.signatures],
        "known_to_platform": known is not None,
        "contract_status": known.status if known else None,
    }
    return json_response(answer)


@routes.get("/api/v1/pki/root.pem", "平台根证书（PEM）", auth="public", produces="application/x-pem-file")
async def root_pem(request: web.Request) -> web.Response:
    return web.Response(
        body=request.app[DEPS].pdf.root_pem(),
        content_type="application/x-pem-file",
        headers={"Content-Disposition": 'attachment; filename="laborsign-root.pem"'},
    )


@routes.get("/api/v1/pki/crl", "签署证书吊销列表（DER）", auth="public", produces="application/pkix-crl")
async def crl(request: web.Request) -> web.Response:
    return web.Response(body=request.app[DEPS].pdf.crl_der(), content_type="application/pkix-crl")


@routes.get("/api/v1/pki/root-crl", "根证书吊销列表（DER）", auth="public", produces="application/pkix-crl")
async def root_crl(request: web.Request) -> web.Response:
    return web.Response(body=request.app[DEPS].pdf.root_crl_der(), content_type="application/pkix-crl")
