"""The auth epoch (core/ports.py `AuthEpoch`): one row, moved on in the same transaction as
any change to a user, member, enterprise or session, and read on each authenticated request
by every process.

Reading it is the one database call of a request whose caller is remembered, so it bypasses
the ORM and the pool: on SQLite a plain `sqlite3` connection of its own (one indexed row
from the page cache, a few microseconds — less than handing the query to aiosqlite's
thread); on PostgreSQL an asyncpg connection of its own, where requests that arrive while a
read is on the wire share the next read (it starts after they asked, so it sees whatever
committed before them)."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from sqlalchemy import BigInteger, Column, Integer, Table, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession

from ..core.accounts import Enterprise, Member, Session, User
from .schema import metadata, upsert

auth_epoch = Table(
    "auth_epoch",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("value", BigInteger, nullable=False),
)

_CHANGED = (User, Member, Enterprise, Session)
_ADDED = (Member, Enterprise)  # a new membership changes the caller's list; a new session nobody knew


def _moves_epoch(session: OrmSession) -> bool:
    return (
        any(isinstance(obj, _CHANGED) for obj in session.dirty)
        or any(isinstance(obj, _CHANGED) for obj in session.deleted)
        or any(isinstance(obj, _ADDED) for obj in session.new)
    )


def _move(session: OrmSession) -> None:
    # An upsert: the row may be missing (a table emptied by hand reads as epoch 0).
    stmt = upsert(session.get_bind().dialect.name, auth_epoch).values(id=1, value=1)
    session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_={"value": auth_epoch.c.value + 1}))


def _before_flush(session: OrmSession, _context: Any, _instances: Any) -> None:
    if _moves_epoch(session):
        _move(session)


_TABLES = {"users", "members", "enterprises", "sessions"}


def _on_execute(state: ORMExecuteState) -> None:
    """UPDATE / DELETE statements run through a session on those tables move it too."""
    table = getattr(state.statement, "table", None)
    if (state.is_update or state.is_delete) and getattr(table, "name", None) in _TABLES:
        _move(state.session)


def watch(session_class: type[OrmSession]) -> None:
    event.listen(session_class, "before_flush", _before_flush)
    event.listen(session_class, "do_orm_execute", _on_execute)


_READ = "SELECT value FROM auth_epoch WHERE id = 1"


class SqliteEpoch:
    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None

    async def current(self) -> int:
        for attempt in range(2):
            try:
                if self._conn is None:
                    self._conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
                    self._conn.execute("PRAGMA busy_timeout=1000")
                row = self._conn.execute(_READ).fetchone()
                return int(row[0]) if row else 0
            except sqlite3.Error:
                self._drop()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def close(self) -> None:
        self._drop()


class PostgresEpoch:
    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: Any = None
        self._lock = asyncio.Lock()
        self._next: asyncio.Future[int] | None = None
        self._reading: asyncio.Future[None] | None = None  # held: the loop keeps weak references

    async def current(self) -> int:
        if self._next is None:  # no read queued yet: queue one, behind the one on the wire
            self._next = asyncio.get_running_loop().create_future()
            self._reading = asyncio.ensure_future(self._read(self._next))
        return await asyncio.shield(self._next)

    async def _read(self, result: asyncio.Future[int]) -> None:
        async with self._lock:
            self._next = None  # whoever asks from now on needs a read that starts later
            try:
                result.set_result(await self._fetch())
            except Exception as exc:
                result.set_exception(exc)

    async def _fetch(self) -> int:
        import asyncpg

        for attempt in range(2):
            try:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await asyncpg.connect(self._dsn)
                value = await self._conn.fetchval(_READ)
                return int(value or 0)
            except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
                await self.close()  # a dropped connection: once more on a new one
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.terminate()


def epoch_reader(engine: AsyncEngine) -> SqliteEpoch | PostgresEpoch:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return SqliteEpoch(url.database or ":memory:")
    plain = make_url(url.render_as_string(hide_password=False)).set(drivername="postgresql")
    return PostgresEpoch(plain.render_as_string(hide_password=False))
