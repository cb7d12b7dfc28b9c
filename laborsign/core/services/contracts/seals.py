"""The enterprise's seals: generated from its name or uploaded."""

from __future__ import annotations

from ...accounts import Permission
from ...contracts import SealType
from ...errors import Invalid, NotFound
from ...ports import Deps
from ...signing import Seal
from ..accounts import Actor


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
    from ...contracts import SEAL_TYPE_LABELS
    from ...pdf.seals import draw_round_seal, normalise_uploaded_seal

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
