"""Templates part of the JSON API."""

from __future__ import annotations

from typing import Annotated, Any, NotRequired, cast

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, WithJsonSchema
from typing_extensions import TypedDict

from ..core.clock import iso
from ..core.controls import MAX_CONTROLS, Control, ControlKind, FilledBy
from ..core.services import templates as svc
from ..core.templates import (
    TEMPLATE_TYPES,
    Template,
    TemplateScope,
    TemplateStatus,
)
from .http import (
    DEPS,
    ApiRoutes,
    body,
    int_param,
    json_response,
    page_json,
    paging,
    require_actor,
    scale_param,
)
from .schemas import Codes, PageFields, Timestamp
from .uploads import read_multipart

routes = ApiRoutes("合同模板")
MAX_PDF_BYTES = 20 * 1024 * 1024
MAX_TEMPLATE_UPLOAD_BYTES = 60 * 1024 * 1024  # several files, held in memory at once


class TemplatePatch(BaseModel):
    name: Annotated[
        str | None, WithJsonSchema({"type": ["string", "null"], "minLength": 1, "maxLength": 50})
    ] = None
    type: Annotated[str, Codes(TEMPLATE_TYPES, "模板类型")] | None = None


class PageSizeOut(TypedDict):
    """一页的尺寸（PDF 点，1/72 英寸）"""

    width: float
    height: float


class TemplateControlOut(TypedDict):
    """模板上放置的控件（file 为文件序号，page 从 1 起，坐标以页面左上角为原点）"""

    key: str
    label: str
    kind: Annotated[str, Codes(ControlKind, "控件类型")]
    file: int
    page: int
    x: float
    y: float
    width: float
    height: float
    required: bool
    filled_by: Annotated[str, Codes(FilledBy, "填写方")]
    options: NotRequired[list[str]]


def control_json(c: Control) -> TemplateControlOut:
    """A control as the API shows it: its stored JSON (Control.as_dict), typed for the document."""
    return cast(TemplateControlOut, c.as_dict())


class ControlsIn(BaseModel):
    # Checked whole by core.templates.validate_controls (every error keyed controls[i].field);
    # `file` defaults to 0 and `required` to true.
    controls: Annotated[
        Any,
        WithJsonSchema(
            {
                "type": "array",
                "maxItems": MAX_CONTROLS,
                "items": TypeAdapter(TemplateControlOut).json_schema(),
            }
        ),
    ] = None


class TemplateFileOut(TypedDict):
    index: int
    name: str
    pages: int


class TemplateFileDetailOut(TemplateFileOut):
    page_sizes: list[PageSizeOut]


class _TemplateFields(TypedDict):
    id: str
    name: str
    type: Annotated[str, Codes(TEMPLATE_TYPES, "模板类型")]
    type_label: str
    scope: Annotated[str, Codes(TemplateScope, "公共模板或本企业模板")]
    status: Annotated[str, Codes(TemplateStatus, "模板状态")]
    control_count: int
    created_at: Timestamp
    updated_at: Timestamp


class TemplateOut(_TemplateFields):
    files: list[TemplateFileOut]


class TemplateDetailOut(_TemplateFields):
    """模板详情：各文件每页尺寸与全部控件"""

    files: list[TemplateFileDetailOut]
    controls: list[TemplateControlOut]


class TemplatePage(PageFields):
    items: list[TemplateOut]


def _template_fields(t: Template) -> _TemplateFields:
    return {
        "id": t.id,
        "name": t.name,
        "type": t.type,
        "type_label": TEMPLATE_TYPES.get(t.type, t.type),
        "scope": t.scope,
        "status": t.status,
        "control_count": len(t.controls),
        "created_at": iso(t.created_at),
        "updated_at": iso(t.updated_at),
    }


def template_json(t: Template) -> TemplateOut:
    files: list[TemplateFileOut] = [
        {"index": f["index"], "name": f["name"], "pages": len(f["pages"])} for f in t.files
    ]
    return {**_template_fields(t), "files": files}


def template_detail_json(t: Template) -> TemplateDetailOut:
    files: list[TemplateFileDetailOut] = [
        {"index": f["index"], "name": f["name"], "pages": len(f["pages"]), "page_sizes": f["pages"]}
        for f in t.files
    ]
    return {**_template_fields(t), "files": files, "controls": [control_json(c) for c in t.controls]}


@routes.get(
    "/api/v1/templates",
    "模板列表（公共模板与本企业模板）",
    paged=True,
    auth="enterprise",
    query={
        "scope": "all | public | enterprise",
        "status": "closed | enabled",
    },
    answer=TemplatePage,
)
async def list_templates(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    page, per_page = paging(request)
    items, total = await svc.list_templates(
        request.app[DEPS],
        actor,
        request.query.get("scope", "all"),
        request.query.get("status"),
        page,
        per_page,
    )
    return json_response(page_json([template_json(t) for t in items], total, page, per_page))


@routes.post(
    "/api/v1/templates",
    "新建模板（上传一个或多个 PDF；新模板为关闭状态）",
    status=201,
    auth="enterprise",
    multipart={"name": "模板名称", "type": "模板类型", "files": "PDF 文件（可多个）"},
    answer=TemplateDetailOut,
)
async def create_template(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    upload = await read_multipart(
        request,
        max_file_bytes=MAX_PDF_BYTES,
        max_files=10,
        max_total_bytes=MAX_TEMPLATE_UPLOAD_BYTES,
        too_large_message="PDF文件不能超过20MB，一次上传合计不能超过60MB",
    )
    files = upload.files.get("files", []) + upload.files.get("file", [])
    template = await svc.create_template(
        request.app[DEPS], actor, upload.fields.get("name"), upload.fields.get("type"), files
    )
    return json_response(template_detail_json(template), 201)


@routes.get("/api/v1/templates/{id}", "模板详情（含控件）", auth="enterprise", answer=TemplateDetailOut)
async def get_template(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    template = await svc.get_template(request.app[DEPS], actor, request.match_info["id"])
    return json_response(template_detail_json(template))


@routes.patch(
    "/api/v1/templates/{id}",
    "修改模板名称或类型",
    body=TemplatePatch,
    auth="enterprise",
    answer=TemplateDetailOut,
)
async def patch_template(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, TemplatePatch)
    template = await svc.update_template(
        request.app[DEPS], actor, request.match_info["id"], data.name, data.type
    )
    return json_response(template_detail_json(template))


@routes.put(
    "/api/v1/templates/{id}/controls",
    "设置模板控件（整体替换）",
    body=ControlsIn,
    auth="enterprise",
    answer=TemplateDetailOut,
)
async def put_controls(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    data = await body(request, ControlsIn)
    template = await svc.set_controls(request.app[DEPS], actor, request.match_info["id"], data.controls)
    return json_response(template_detail_json(template))


@routes.post(
    "/api/v1/templates/{id}/enable", "开启模板", auth="enterprise", answer=TemplateOut, errors=(409,)
)
async def enable(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    template = await svc.enable_template(request.app[DEPS], actor, request.match_info["id"], True)
    return json_response(template_json(template))


@routes.post(
    "/api/v1/templates/{id}/disable", "关闭模板", auth="enterprise", answer=TemplateOut, errors=(409,)
)
async def disable(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    template = await svc.enable_template(request.app[DEPS], actor, request.match_info["id"], False)
    return json_response(template_json(template))


@routes.delete("/api/v1/templates/{id}", "删除模板", auth="enterprise")
async def delete(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    await svc.delete_template(request.app[DEPS], actor, request.match_info["id"])
    return web.Response(status=204)


@routes.get(
    "/api/v1/templates/{id}/files/{file}.pdf",
    "下载模板底稿 PDF",
    auth="enterprise",
    produces="application/pdf",
)
async def file_pdf(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    template, data = await svc.template_file(
        request.app[DEPS], actor, request.match_info["id"], int_param(request, "file")
    )
    return _inline_pdf(data, template.files[int_param(request, "file")]["name"])


@routes.get(
    "/api/v1/templates/{id}/files/{file}/pages/{page}.png",
    "模板页面预览图",
    auth="enterprise",
    produces="image/png",
    query={"scale": "缩放（0.5-3，默认1.5）"},
)
async def page_png(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    png = await svc.page_preview(
        request.app[DEPS],
        actor,
        request.match_info["id"],
        int_param(request, "file"),
        int_param(request, "page"),
        scale_param(request),
    )
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "private, max-age=300"})


class PreviewPageOut(TypedDict):
    page: int
    file: int
    width: float
    height: float


class PreviewOverflowOut(TypedDict):
    key: str
    label: str
    page: int
    text: str
    message: str


class TemplatePreviewOut(TypedDict):
    pages: list[PreviewPageOut]
    values: dict[str, str]
    overflows: list[PreviewOverflowOut]
    pdf_url: str


@routes.get(
    "/api/v1/templates/{id}/preview",
    "模板预览：示例值与超出放置框的控件",
    auth="enterprise",
    answer=TemplatePreviewOut,
)
async def preview(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    template, plan = await svc.preview_plan(request.app[DEPS], actor, request.match_info["id"])
    pages: list[PreviewPageOut] = [
        {"page": n, "file": f["index"], "width": size["width"], "height": size["height"]}
        for n, (f, size) in enumerate(((f, s) for f in template.files for s in f["pages"]), start=1)
    ]
    answer: TemplatePreviewOut = {
        "pages": pages,
        "values": plan.values,
        "overflows": [
            {"key": o.key, "label": o.label, "page": o.page, "text": o.text, "message": o.message}
            for o in plan.overflows
        ],
        "pdf_url": f"/api/v1/templates/{template.id}/preview.pdf",
    }
    return json_response(answer)


@routes.get(
    "/api/v1/templates/{id}/preview.pdf",
    "模板预览 PDF（按合同的填写方式填入示例值）",
    auth="enterprise",
    produces="application/pdf",
)
async def preview_pdf(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    template, data = await svc.preview_pdf(request.app[DEPS], actor, request.match_info["id"])
    return _inline_pdf(data, template.name + "（预览）.pdf")


@routes.get(
    "/api/v1/templates/{id}/preview/pages/{page}.png",
    "模板预览页面图",
    auth="enterprise",
    produces="image/png",
    query={"scale": "缩放（0.5-3，默认1.5）"},
)
async def preview_png(request: web.Request) -> web.Response:
    actor = await require_actor(request)
    png = await svc.preview_page(
        request.app[DEPS], actor, request.match_info["id"], int_param(request, "page"), scale_param(request)
    )
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "no-store"})


def _inline_pdf(data: bytes, name: str) -> web.Response:
    return web.Response(
        body=data,
        content_type="application/pdf",
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{_quote(name)}"},
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
