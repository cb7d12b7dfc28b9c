"""Template use cases: create from PDFs, place controls, enable/disable, previews.

Enterprise templates belong to one enterprise and need the template permission to change;
public templates are the regulator's and are offered, once enabled, to every enterprise."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from ..accounts import Permission, PlatformRole
from ..clock import china_time
from ..errors import Invalid, NotFound
from ..pdf.compose import merge_pdfs, rebase_controls
from ..ports import Deps, UnitOfWork
from ..template_preview import Preview, build_preview
from ..templates import (
    Template,
    TemplateScope,
    TemplateStatus,
    validate_template_name,
    validate_template_type,
)
from .accounts import Actor

MAX_FILES = 10
NOT_FOUND = "模板不存在"


def _is_regulator(actor: Actor) -> bool:
    return (
        actor.session is not None
        and actor.session.side == "platform"
        and actor.user is not None
        and actor.user.platform_role == PlatformRole.REGULATOR
    )


async def _readable(uow: UnitOfWork, actor: Actor, template_id: str) -> Template:
    template = await uow.get(Template, template_id)
    if template is None:
        raise NotFound(NOT_FOUND, "template_not_found")
    if template.scope == TemplateScope.PUBLIC:
        if _is_regulator(actor):
            return template
        actor.require_enterprise()
        if template.status == TemplateStatus.ENABLED:
            return template
        raise NotFound(NOT_FOUND, "template_not_found")
    if actor.enterprise is None or template.enterprise_id != actor.enterprise.id:
        raise NotFound(NOT_FOUND, "template_not_found")
    return template


async def _writable(uow: UnitOfWork, actor: Actor, template_id: str) -> Template:
    template = await _readable(uow, actor, template_id)
    if template.scope == TemplateScope.PUBLIC:
        actor.require_platform(PlatformRole.REGULATOR)
    else:
        actor.require(Permission.TEMPLATES)
    return template


async def _store_file(deps: Deps, index: int, filename: str, data: bytes) -> dict[str, Any]:
    facts = await deps.pdf.inspect(data)  # refuses non-PDF, encrypted, too large, too many pages
    return {
        "index": index,
        "name": (filename or f"文件{index + 1}.pdf")[:100],
        "blob": await deps.blobs.put(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "pages": [{"width": round(p.width, 2), "height": round(p.height, 2)} for p in facts.pages],
    }


async def ship_public_template(
    deps: Deps,
    template_id: str,
    name: str,
    type_: str,
    file: tuple[str, bytes],
    controls: list[dict[str, Any]],
) -> Template | None:
    """A public template the platform itself offers (no creator), enabled with its controls
    placed; None when one with this id exists. Two processes may both get past the check: the
    template's id is fixed, so the second commit fails on the primary key (the caller's to
    ignore) rather than making a copy."""
    async with deps.uow() as uow:
        if await uow.get(Template, template_id) is not None:
            return None
    now = deps.clock.now()
    template = Template(
        id=template_id,
        name=validate_template_name(name),
        type=validate_template_type(type_),
        scope=TemplateScope.PUBLIC,
        created_by=None,
        files=[await _store_file(deps, 0, *file)],
        created_at=now,
        updated_at=now,
    )
    template.set_controls(controls, now)
    template.enable(now)
    async with deps.uow() as uow:
        uow.add(template)
        await uow.commit()
    return template


async def create_template(
    deps: Deps, actor: Actor, name: object, type_: object, files: list[tuple[str, bytes]]
) -> Template:
    errors: dict[str, str] = {}
    for _key, check in (
        ("name", lambda: validate_template_name(name)),
        ("type", lambda: validate_template_type(type_)),
    ):
        try:
            check()
        except Invalid as exc:
            errors.update(exc.fields)
    if not files:
        errors["files"] = "请上传至少一个PDF模板文件"
    elif len(files) > MAX_FILES:
        errors["files"] = f"一个模板最多{MAX_FILES}个文件"
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    if _is_regulator(actor):
        scope, enterprise_id = TemplateScope.PUBLIC, None
    else:
        enterprise_id = actor.require(Permission.TEMPLATES).id
        scope = TemplateScope.ENTERPRISE
    described = [
        await _store_file(deps, index, filename, data) for index, (filename, data) in enumerate(files)
    ]
    now = deps.clock.now()
    creator = actor.require_user()
    template = Template(
        name=validate_template_name(name),
        type=validate_template_type(type_),
        scope=scope,
        enterprise_id=enterprise_id,
        files=described,
        created_by=creator.id,
        created_at=now,
        updated_at=now,
    )
    async with deps.uow() as uow:
        uow.add(template)
        await uow.commit()
    return template


async def list_templates(
    deps: Deps, actor: Actor, scope: str, status: str | None, page: int, per_page: int
) -> tuple[list[Template], int]:
    if scope not in ("all", "public", "enterprise"):
        raise Invalid.field("scope", "范围应为 all、public 或 enterprise")
    if status not in (None, "", "closed", "enabled"):
        raise Invalid.field("status", "状态应为 closed 或 enabled")
    regulator = _is_regulator(actor)
    enterprise_id = None if regulator else actor.require_enterprise()[0].id
    async with deps.uow() as uow:
        return await uow.templates.visible(
            enterprise_id=enterprise_id,
            scope=scope,
            status=status or None,
            include_closed_public=regulator,
            offset=(page - 1) * per_page,
            limit=per_page,
        )


async def get_template(deps: Deps, actor: Actor, template_id: str) -> Template:
    async with deps.uow() as uow:
        return await _readable(uow, actor, template_id)


async def update_template(
    deps: Deps, actor: Actor, template_id: str, name: object, type_: object
) -> Template:
    async with deps.uow() as uow:
        template = await _writable(uow, actor, template_id)
        template.rename(name, type_, deps.clock.now())
        await uow.commit()
    return template


async def set_controls(deps: Deps, actor: Actor, template_id: str, controls: object) -> Template:
    async with deps.uow() as uow:
        template = await _writable(uow, actor, template_id)
        template.set_controls(controls, deps.clock.now())
        await uow.commit()
    return template


async def enable_template(deps: Deps, actor: Actor, template_id: str, enable: bool) -> Template:
    async with deps.uow() as uow:
        template = await _writable(uow, actor, template_id)
        if enable:
            template.enable(deps.clock.now())
        else:
            template.disable(deps.clock.now())
        await uow.commit()
    return template


async def delete_template(deps: Deps, actor: Actor, template_id: str) -> None:
    """Contracts keep their own copy of the template's files and controls, so deleting a
    template never changes a contract made from it."""
    async with deps.uow() as uow:
        template = await _writable(uow, actor, template_id)
        await uow.templates.delete(template)
        await uow.commit()


async def template_file(
    deps: Deps, actor: Actor, template_id: str, file_index: int
) -> tuple[Template, bytes]:
    template = await get_template(deps, actor, template_id)
    if not 0 <= file_index < len(template.files):
        raise NotFound("模板文件不存在", "file_not_found")
    return template, await deps.blobs.get(template.files[file_index]["blob"])


async def page_preview(
    deps: Deps, actor: Actor, template_id: str, file_index: int, page: int, scale: float
) -> bytes:
    template, data = await template_file(deps, actor, template_id, file_index)
    if not 1 <= page <= len(template.files[file_index]["pages"]):
        raise NotFound("页面不存在", "page_not_found")
    return await deps.pdf.render(data, page, scale)


async def preview_plan(deps: Deps, actor: Actor, template_id: str) -> tuple[Template, Preview]:
    """The sample values of the template's saved controls and the boxes too small for them;
    pages are numbered through the template's files, as in a contract made from it."""
    template = await get_template(deps, actor, template_id)
    starts, first = [], 1
    for f in template.files:
        starts.append(first)
        first += len(f["pages"])
    enterprise = actor.enterprise
    plan = build_preview(
        rebase_controls(template.controls, starts),
        china_time(deps.clock.now()).date(),
        (enterprise.name, enterprise.credit_code) if enterprise is not None else None,
    )
    return template, plan


async def preview_pdf(
    deps: Deps, actor: Actor, template_id: str, page: int | None = None
) -> tuple[Template, bytes]:
    """The template's files put together and filled with the samples by the fill every
    contract's values go through, so HR sees what a worker will get."""
    template, plan = await preview_plan(deps, actor, template_id)
    if page is not None and not 1 <= page <= sum(len(f["pages"]) for f in template.files):
        raise NotFound("页面不存在", "page_not_found")
    files = [await deps.blobs.get(f["blob"]) for f in template.files]
    base = files[0] if len(files) == 1 else (await asyncio.to_thread(merge_pdfs, files))[0]
    return template, await deps.pdf.stamp(base, plan.stamps, flatten=True)


async def preview_page(deps: Deps, actor: Actor, template_id: str, page: int, scale: float) -> bytes:
    _, filled = await preview_pdf(deps, actor, template_id, page)
    return await deps.pdf.render(filled, page, scale)
