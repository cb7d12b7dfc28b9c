"""Templates persistence."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.templates import Template
from .schema import ControlList, Id, JSONList, UTCDateTime, mapper_registry, metadata

templates = Table(
    "templates",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("scope", String(20), nullable=False),
    Column("enterprise_id", Id(), ForeignKey("enterprises.id")),
    Column("name", String(50), nullable=False),
    Column("type", String(30), nullable=False),
    Column("status", String(20), nullable=False),
    Column("files", JSONList(), nullable=False),
    Column("controls", ControlList(), nullable=False),
    Column("created_by", Id(), ForeignKey("users.id")),  # none: shipped with the platform
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_templates_scope_enterprise", "scope", "enterprise_id", "created_at"),
)


def map_templates() -> None:
    mapper_registry.map_imperatively(Template, templates)


class TemplateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def visible(
        self,
        *,
        enterprise_id: str | None,
        scope: str,
        status: str | None,
        include_closed_public: bool,
        offset: int,
        limit: int,
    ) -> tuple[list[Template], int]:
        """Templates an enterprise (or the regulator, enterprise_id None) may see."""
        public = templates.c.scope == "public"
        if not include_closed_public:
            public = public & (templates.c.status == "enabled")
        own = (templates.c.scope == "enterprise") & (templates.c.enterprise_id == enterprise_id)
        where = {"public": public, "enterprise": own}.get(scope, or_(public, own))
        if enterprise_id is None:
            where = public
        if status:
            where = where & (templates.c.status == status)
        total = (await self.s.execute(select(func.count()).select_from(templates).where(where))).scalar_one()
        stmt = (
            select(Template).where(where).order_by(templates.c.created_at.desc()).offset(offset).limit(limit)
        )
        return list((await self.s.execute(stmt)).scalars()), int(total)

    async def by_ids(self, ids: list[str]) -> list[Template]:
        if not ids:
            return []
        return list((await self.s.execute(select(Template).where(templates.c.id.in_(ids)))).scalars())

    async def delete(self, template: Template) -> None:
        await self.s.delete(template)
