"""Index-friendly list queries shared by the repositories: newest-first keyset pages with a
deferred join, and prefix matches an index can answer on either database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, and_, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from ..core.paging import Cursor, Total

# Longest text a prefix range needs to cover on SQLite (BINARY collation compares UTF-8 bytes,
# so every string starting with q sorts below q + the highest code point).
_TOP = "\U0010ffff"


def prefix(session: AsyncSession, column: Any, text: str) -> ColumnElement[bool]:
    """`column` starts with `text`. PostgreSQL: LIKE over a text_pattern_ops index; SQLite: a
    range over a plain index (its LIKE is case-insensitive and would ignore the index)."""
    if session.get_bind().dialect.name == "postgresql":
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.like(f"{escaped}%", escape="\\")
    return and_(column >= text, column < text + _TOP)


def phone_terms(session: AsyncSession, column: Any, text: str) -> list[ColumnElement[bool]]:
    """Digits match the start of a phone, and four digits also its last four (尾号, how people
    name a phone; read from the tenant's phone index, not the table)."""
    if not text.isdigit():
        return []
    terms = [prefix(session, column, text)]
    if len(text) == 4:
        terms.append(column.like(f"%{text}"))
    return terms


async def keyset_page(
    session: AsyncSession,
    entity: type[Any],
    table: Table,
    where: Any,
    cursor: Cursor | None,
    offset: int,
    limit: int,
) -> tuple[list[Any], bool]:
    """One page, newest first, and whether more rows follow it. The ids are found first from
    the index alone (a deep page skips index entries, not rows), then only those rows are read."""
    if cursor is not None:
        after = tuple_(
            literal(cursor.created_at, table.c.created_at.type), literal(cursor.id, table.c.id.type)
        )
        where = and_(where, tuple_(table.c.created_at, table.c.id) < after)
    ids = (
        select(table.c.id)
        .where(where)
        .order_by(table.c.created_at.desc(), table.c.id.desc())
        .offset(offset)
        .limit(limit + 1)
        .subquery()
    )
    stmt = (
        select(entity)
        .join(ids, table.c.id == ids.c.id)
        .order_by(table.c.created_at.desc(), table.c.id.desc())
    )
    rows = list((await session.execute(stmt)).scalars())
    return rows[:limit], len(rows) > limit


async def bounded_count(session: AsyncSession, table: Table, where: Any, bound: int | None) -> Total:
    """How many rows match, counted up to bound + 1 (None: all of them): a count past the
    bound reads no further than its first bound + 1 index entries, and says it is not exact."""
    if bound is None:
        stmt = select(func.count()).select_from(table).where(where)
    else:
        matches = select(table.c.id).where(where).limit(bound + 1).subquery()
        stmt = select(func.count()).select_from(matches)
    return Total.bounded(int((await session.execute(stmt)).scalar_one()), bound)
