"""Shared SQLAlchemy metadata, column types and the imperative mapper registry.

Domain classes in `core/` are plain dataclasses; each area module in `storage/` declares its
tables and maps them onto those classes here, so `core/` never imports SQLAlchemy."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String, Table, TypeDecorator
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import registry

from ..core.controls import Control

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)
mapper_registry = registry(metadata=metadata)


def versioned(table: Table, first: int = 1) -> dict[str, Any]:
    """Mapper options for the one optimistic-locking style: SQLAlchemy's version counter.
    Every UPDATE of a row names the version it read (WHERE version = :read) and moves it on;
    one that matches no row, because another transaction wrote it first, fails the flush,
    and the unit of work raises the domain's Conflict. `first` is the version of a new row
    (a contract counts from 0, as its domain object does)."""

    def next_version(current: int | None) -> int:
        return first if current is None else current + 1

    return {"version_id_col": table.c.version, "version_id_generator": next_version}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; always returns aware UTC (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JSONList(TypeDecorator[list[Any]]):
    """A JSON list that comes back as a fresh Python list (so in-place edits are not shared)."""

    impl = JSON
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, str):
            value = json.loads(value)
        return list(value)


class ControlList(TypeDecorator[list[Control]]):
    """A template's or contract's controls: `Control`s in Python, in the database the JSON list
    they were always stored as (`Control.as_dict`), so rows written before the type existed
    load unchanged and the column can still be copied server-side (INSERT … SELECT)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(
        self, value: list[Control] | None, dialect: Dialect
    ) -> list[dict[str, Any]] | None:
        if value is None:
            return None
        return [c.as_dict() for c in value]

    def process_result_value(self, value: Any, dialect: Dialect) -> list[Control]:
        if value is None:
            return []
        if isinstance(value, str):
            value = json.loads(value)
        return [Control.from_dict(c) for c in value]


def Id() -> String:
    return String(32)


def upsert(dialect: str, table: Table) -> Any:
    """INSERT with ON CONFLICT clauses, in the dialect at hand (both have the same API)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
