"""The chat hot path's storage (core/ports.py `ChatSteps`): what every webhook message reads
and writes, below the ORM.

The statements are SQLAlchemy Core over the same tables, compiled once per dialect with
their columns' own bind and result processors (so rows are exactly what the ORM writes and
reads), and run on the driver: no session, identity map, flush or unit-of-work bookkeeping
per message. Objects read here are tracked by what they held when read, so a step writes
only what it changed, and a conversation with a version check, as the ORM mapping does.

SQLite: one writer connection on a thread of its own, `synchronous=FULL` for steps (a step is
on disk before it is answered; the replay guard's row rides on that fsync), that commits what arrived together in one transaction — a
savepoint per step, so one step's conflict undoes that step alone (group commit: one fsync
and one hand-off per batch). Reads run on a plain connection in the event loop (an indexed
read from the page cache costs less than a hand-off to a thread). PostgreSQL: an asyncpg
pool of its own; a connection found dropped is replaced and the operation run once more
(safe: the dedupe key makes a second write of the same step a no-op)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import queue
import re
import sqlite3
import threading
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, Table, and_, bindparam, delete, insert, literal_column, select, update
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.orm.attributes import manager_of_class
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from ..core.chat import ChatIdentity, ChatStep, Conversation, InboundMessage, StepConflict
from ..core.ids import new_id
from ..core.outbox import OutboxMessage
from ..core.replay import check_seen
from .chat import chat_conversations, chat_identities, chat_inbound
from .guards import seen_once
from .outbox import outbox
from .schema import upsert


class _Sql:
    """A statement compiled once: its text and, in order, its parameters' names and bind
    processors."""

    def __init__(self, stmt: ClauseElement, dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.text = str(compiled)
        names = compiled.positiontup or []
        self.names = list(names)
        self._binds = [
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
        ]

    def args(self, values: dict[str, Any]) -> list[Any]:
        return [proc(values[name]) if proc else values[name] for name, proc in self._binds]


Op = tuple[str, str, list[Any]]  # kind ("insert", "versioned", "returning", "exec"), sql, args


class _Statements:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        d = dialect.name

        def where_eq(table: Table, *names: str) -> list[Any]:
            return [table.c[n] == bindparam(n) for n in names]

        self.seen_insert = _Sql(
            upsert(d, seen_once)
            .values({c.name: bindparam(c.name) for c in seen_once.c})
            .on_conflict_do_nothing()
            .returning(seen_once.c.key),
            dialect,
        )
        self.seen_digest = _Sql(
            select(seen_once.c.digest).where(*where_eq(seen_once, "scope", "key")), dialect
        )
        self.seen_forget = _Sql(delete(seen_once).where(seen_once.c.until < bindparam("when")), dialect)
        self.inbound = _Sql(
            select(*chat_inbound.c).where(*where_eq(chat_inbound, "channel", "app_id", "dedupe_key")), dialect
        )
        self.inbound_insert = _Sql(
            upsert(d, chat_inbound)
            .values({c.name: bindparam(c.name) for c in chat_inbound.c})
            .on_conflict_do_nothing()
            .returning(chat_inbound.c.id),
            dialect,
        )
        # On the conversations' unique key (channel, app, user, flow): an index range, where
        # identity_id alone has no index and was a scan of them all.
        conversations_of_identity = and_(
            chat_conversations.c.channel == chat_identities.c.channel,
            chat_conversations.c.app_id == chat_identities.c.app_id,
            chat_conversations.c.external_id == chat_identities.c.external_id,
            chat_conversations.c.identity_id == chat_identities.c.id,
        )
        self.person = _Sql(
            select(*chat_identities.c, *chat_conversations.c)
            .select_from(
                chat_identities.outerjoin(
                    chat_conversations,
                    conversations_of_identity,
                )
            )
            .where(*where_eq(chat_identities, "channel", "app_id", "external_id"))
            .order_by(chat_conversations.c.updated_at.desc()),
            dialect,
        )
        # The dedupe check and the person in one statement: the message's row if its key is
        # stored, else (on the same single row of `one`) the identity and its conversations.
        one = select(literal_column("1").label("one")).subquery("one")
        self.seen_or_person = _Sql(
            select(*chat_inbound.c, *chat_identities.c, *chat_conversations.c)
            .select_from(
                one.outerjoin(chat_inbound, and_(*where_eq(chat_inbound, "channel", "app_id", "dedupe_key")))
                .outerjoin(
                    chat_identities,
                    and_(
                        chat_inbound.c.id.is_(None),
                        *where_eq(chat_identities, "channel", "app_id", "external_id"),
                    ),
                )
                .outerjoin(
                    chat_conversations,
                    conversations_of_identity,
                )
            )
            .order_by(chat_conversations.c.updated_at.desc()),
            dialect,
        )
        self.inserts = {t.name: _Sql(insert(t).values({c.name: bindparam(c.name) for c in t.c}), dialect)
                        for t in (chat_identities, chat_conversations, outbox)}  # fmt: skip
        self._updates: dict[tuple[str, tuple[str, ...]], _Sql] = {}
        self.results = {
            t.name: [_result_processor(c, dialect) for c in t.c]
            for t in (chat_identities, chat_conversations, chat_inbound)
        }
        for t in (chat_identities, chat_conversations):  # a read row compares with a bound one
            assert self.inserts[t.name].names == [c.name for c in t.c]

    def update(self, table: Table, columns: tuple[str, ...]) -> _Sql:
        """UPDATE of the columns a step changed (a conversation's also checks its version)."""
        key = (table.name, columns)
        sql = self._updates.get(key)
        if sql is None:
            stmt = update(table).values({n: bindparam(n) for n in columns})
            if table is chat_conversations:
                stmt = stmt.values(version=bindparam("new_version")).where(
                    table.c.id == bindparam("row_id"), table.c.version == bindparam("old_version")
                )
            else:
                stmt = stmt.where(table.c.id == bindparam("row_id"))
            sql = self._updates[key] = _Sql(stmt, self.dialect)
        return sql

    def decode(self, table: str, row: Sequence[Any]) -> list[Any]:
        return [proc(v) if proc else v for proc, v in zip(self.results[table], row, strict=True)]


_IDENTITY = [c.name for c in chat_identities.c]  # the order of `select(*table.c)`
_CONVERSATION = [c.name for c in chat_conversations.c]
_INBOUND = [c.name for c in chat_inbound.c]
_OUTBOX = [c.name for c in outbox.c]


class _Store:
    """What the two backends share: statements, object building, change tracking."""

    def __init__(self, dialect: Dialect) -> None:
        self.sql = _Statements(dialect)
        # What each object read here held (as bound parameters): a step writes the difference.
        self._read: weakref.WeakKeyDictionary[object, list[Any]] = weakref.WeakKeyDictionary()

    def _encoded(self, table: Table, obj: object) -> list[Any]:
        """The row as its INSERT binds it (in `inserts[table].names` order)."""
        sql = self.sql.inserts[table.name]
        return sql.args({n: getattr(obj, n) for n in sql.names})

    def _loaded(self, cls: type[Any], table: str, names: list[str], row: Sequence[Any]) -> Any:
        """An object from its row, as the ORM loads one (values straight into its dict, no
        attribute events), remembered with the row as read: the driver returns what was
        bound (datetime text on SQLite, JSON text on both), so the row is the snapshot."""
        obj = manager_of_class(cls).new_instance()
        obj.__dict__.update(zip(names, self.sql.decode(table, row), strict=True))
        self._read[obj] = list(row)
        return obj

    def message(
        self, channel: str, app_id: str, dedupe_key: str, received_at: datetime, reply: str, done_at: datetime
    ) -> InboundMessage:
        message: InboundMessage = manager_of_class(InboundMessage).new_instance()
        message.__dict__.update(
            id=new_id(), channel=channel, app_id=app_id, dedupe_key=dedupe_key,
            received_at=received_at, reply=reply, done_at=done_at,
        )  # fmt: skip
        return message

    def _inbound(self, row: Sequence[Any]) -> InboundMessage:
        message: InboundMessage = self._loaded(InboundMessage, "chat_inbound", _INBOUND, row)
        return message

    def _seen_or_person(
        self, rows: list[Sequence[Any]]
    ) -> tuple[InboundMessage | None, ChatIdentity | None, list[Conversation]]:
        """Rows of `seen_or_person`: the stored message, or the person."""
        width = len(_INBOUND)
        if rows and rows[0][0] is not None:
            return self._inbound(rows[0][:width]), None, []
        identity, conversations = self._person([row[width:] for row in rows if row[width] is not None])
        return None, identity, conversations

    def _person(self, rows: list[Sequence[Any]]) -> tuple[ChatIdentity | None, list[Conversation]]:
        if not rows:
            return None, []
        width = len(_IDENTITY)
        identity = self._loaded(ChatIdentity, "chat_identities", _IDENTITY, rows[0][:width])
        conversations = [
            self._loaded(Conversation, "chat_conversations", _CONVERSATION, row[width:])
            for row in rows
            if row[width] is not None
        ]
        return identity, conversations

    def _guard(self, step: ChatStep) -> tuple[list[Any], list[Any]] | None:
        """The replay guard's `seen_insert` and `seen_digest` arguments, when the step has one."""
        g = step.guard
        if g is None:
            return None
        values = {"scope": g.scope, "key": g.key, "digest": g.digest, "seen_at": g.now, "until": g.until}
        return self.sql.seen_insert.args(values), self.sql.seen_digest.args(values)

    def _ops(self, step: ChatStep) -> tuple[Op | None, list[Op], Callable[[], None]]:
        """The step as statements: the dedupe insert (first), then the changes; and what to
        note once they committed."""
        first: Op | None = None
        if step.inbound is not None:
            values = {n: getattr(step.inbound, n) for n in _INBOUND}
            first = ("returning", self.sql.inbound_insert.text, self.sql.inbound_insert.args(values))
        ops: list[Op] = []
        done: list[tuple[object, list[Any], Callable[[], None] | None]] = []
        ops += self._row(chat_identities, step.identity, done)
        for conv in step.conversations:
            ops += self._row(chat_conversations, conv, done)
        for message in step.outbox:
            assert isinstance(message, OutboxMessage)
            sql = self.sql.inserts["outbox"]
            ops.append(("insert", sql.text, sql.args({n: getattr(message, n) for n in _OUTBOX})))

        def committed() -> None:
            for obj, encoded, after in done:
                if after is not None:
                    after()
                self._read[obj] = encoded

        return first, ops, committed

    def _row(
        self,
        table: Table,
        obj: Any,
        done: list[tuple[object, list[Any], Callable[[], None] | None]],
    ) -> list[Op]:
        versioned = table is chat_conversations
        before = self._read.get(obj)
        if before is None:  # new: inserted (a conversation's version starts at 1, as the ORM's)
            if versioned:
                obj.version = 1
            encoded = self._encoded(table, obj)
            done.append((obj, encoded, None))
            return [("insert", self.sql.inserts[table.name].text, encoded)]
        encoded = self._encoded(table, obj)
        names = self.sql.inserts[table.name].names
        changed = tuple(n for n, old, new in zip(names, before, encoded, strict=True) if old != new)
        if not changed:
            return []
        sql = self.sql.update(table, changed)
        values = {n: getattr(obj, n) for n in changed} | {"row_id": obj.id}
        after: Callable[[], None] | None = None
        if versioned:
            old = obj.version
            values |= {"old_version": old, "new_version": old + 1}

            def bump() -> None:
                obj.version = old + 1

            after = bump
        done.append((obj, encoded, after))
        return [("versioned" if versioned else "exec", sql.text, sql.args(values))]


# -- SQLite ----------------------------------------------------------------------------------------


# The writer gives up the GIL in every sqlite3 call and must win it back from the event loop
# each time: at the default 5 ms switch interval a batch of a few statements waited tens of ms
# for it (p50 45 ms at 30 % load). A process-wide knob, so `laborsign serve` sets it.
SWITCH_INTERVAL = 0.0005  # seconds
CHECKPOINT_EVERY = 100  # commits (SQLite's own default: at 1,000 pages of WAL)


class _Job:
    __slots__ = ("durable", "future", "run")

    def __init__(
        self, run: Callable[[sqlite3.Connection], Any], future: asyncio.Future[Any], durable: bool
    ) -> None:
        self.run = run
        self.durable = durable
        self.future = future


class SqliteChatSteps(_Store):
    def __init__(self, path: str) -> None:
        super().__init__(sqlite_dialect.dialect())
        self._path = path
        self._reader: sqlite3.Connection | None = None
        # The hand-off: a C queue (one put per job, the writer blocks in get and then takes
        # whatever else arrived meanwhile); None tells it to stop.
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._starting = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closing = False
        self._checkpoint_due = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self.seen = _SqliteSeen(self)

    # reads: in the loop ------------------------------------------------------------------------

    def _query(self, sql: str, args: list[Any]) -> list[Any]:
        for attempt in range(2):
            try:
                if self._reader is None:
                    self._reader = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
                    self._reader.execute("PRAGMA busy_timeout=1000")
                return self._reader.execute(sql, args).fetchall()
            except sqlite3.Error:
                self._drop_reader()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _drop_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    async def person(
        self, channel: str, app_id: str, external_id: str, dedupe_key: str | None
    ) -> tuple[InboundMessage | None, ChatIdentity | None, list[Conversation]]:
        sql = self.sql.seen_or_person
        values = {"channel": channel, "app_id": app_id, "external_id": external_id, "dedupe_key": dedupe_key}
        return self._seen_or_person(self._query(sql.text, sql.args(values)))

    # writes: on the writer thread, in batches ---------------------------------------------------

    async def _write(self, run: Callable[[sqlite3.Connection], Any], durable: bool = True) -> Any:
        """`durable`: on disk when this returns (fsync of the WAL). Otherwise it is on disk
        with the next durable commit — in WAL mode that fsync covers every earlier frame."""
        if self._closing:
            raise RuntimeError("the chat store is closed")
        if self._thread is None:
            self._start()
        future = asyncio.get_running_loop().create_future()
        self._jobs.put(_Job(run, future, durable))
        return await future

    def _start(self) -> None:
        with self._starting:
            if self._thread is None:
                self._checkpointer = threading.Thread(
                    target=self._checkpoints, name="chat-checkpoints", daemon=True
                )
                self._checkpointer.start()
                self._thread = threading.Thread(target=self._writer, name="chat-writer", daemon=True)
                self._thread.start()

    def _writer(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA foreign_keys=ON")
            # Checkpoints run beside the writer (below), not inside a step's commit: copying
            # the WAL into the database and syncing it was the slowest 1 % of the commits.
            conn.execute("PRAGMA wal_autocheckpoint=0")
            synchronous = ""
            commits = 0
            stop = False
            while not stop:
                first = self._jobs.get()
                batch = [first] if first is not None else []
                while True:
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        stop = True
                    else:
                        batch.append(job)
                if first is None:
                    stop = True
                if not batch:
                    continue
                wanted = "FULL" if any(job.durable for job in batch) else "NORMAL"
                if wanted != synchronous:  # a step's answer waits for the disk, a guard's row not
                    conn.execute(f"PRAGMA synchronous={wanted}")
                    synchronous = wanted
                self._commit(conn, batch)
                commits += 1
                if commits % CHECKPOINT_EVERY == 0:
                    self._checkpoint_due.set()
        finally:
            conn.close()

    def _checkpoints(self) -> None:
        """PASSIVE checkpoints on a connection of their own: they copy what no reader still
        needs and never block the writer."""
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=1000")
            while not self._closing:
                self._checkpoint_due.wait()
                self._checkpoint_due.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    pass  # busy or locked: the next one copies it
        finally:
            conn.close()

    def _commit(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        if len(batch) == 1:  # alone (most batches below saturation): its transaction is its savepoint
            outcomes = [self._commit_one(conn, batch[0])]
            batch[0].future.get_loop().call_soon_threadsafe(_settle, batch, outcomes)
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in batch:
                conn.execute("SAVEPOINT step")
                try:
                    outcomes.append((True, job.run(conn)))
                    conn.execute("RELEASE step")
                except Exception as exc:
                    conn.execute("ROLLBACK TO step")
                    conn.execute("RELEASE step")
                    outcomes.append((False, exc))
            conn.execute("COMMIT")
        except Exception as exc:  # the batch did not commit: nobody's step is stored
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            outcomes = [(False, exc)] * len(batch)
        loop = batch[0].future.get_loop()
        loop.call_soon_threadsafe(_settle, batch, outcomes)

    @staticmethod
    def _commit_one(conn: sqlite3.Connection, job: _Job) -> tuple[bool, Any]:
        try:
            conn.execute("BEGIN IMMEDIATE")
            result = job.run(conn)
            conn.execute("COMMIT")
            return True, result
        except Exception as exc:
            with contextlib.suppress(sqlite3.Error):  # the writer thread must outlive a bad disk
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            return False, exc

    async def save(self, step: ChatStep) -> InboundMessage | None:
        first, ops, committed = self._ops(step)
        inbound_sql, inbound = self.sql.inbound.text, step.inbound
        guard, seen = self._guard(step), step.guard

        def run(conn: sqlite3.Connection) -> Sequence[Any] | None:
            if guard is not None and seen is not None:  # first: a refused replay stores nothing
                if conn.execute(self.sql.seen_insert.text, guard[0]).fetchone() is None:
                    stored = conn.execute(self.sql.seen_digest.text, guard[1]).fetchone()
                    check_seen(seen, str(stored[0]) if stored else None)
            if first is not None and conn.execute(first[1], first[2]).fetchone() is None:
                assert inbound is not None
                values = {
                    "channel": inbound.channel,
                    "app_id": inbound.app_id,
                    "dedupe_key": inbound.dedupe_key,
                }
                row: Sequence[Any] | None = conn.execute(
                    inbound_sql, self.sql.inbound.args(values)
                ).fetchone()
                return row  # seen before: nothing else written
            for kind, sql, args in ops:
                try:
                    cursor = conn.execute(sql, args)
                except sqlite3.IntegrityError as exc:
                    raise StepConflict() from exc
                if kind == "versioned" and cursor.rowcount != 1:
                    raise StepConflict()
            return None

        earlier = await self._write(run)
        if earlier is not None:
            return self._inbound(earlier)
        committed()
        return None

    async def close(self) -> None:
        self._closing = True
        with self._starting:
            thread = self._thread
        self._jobs.put(None)  # after what was put before it
        self._checkpoint_due.set()
        for each in (thread, self._checkpointer):
            if each is not None:
                await asyncio.to_thread(each.join)
        self._drop_reader()


def _settle(batch: list[_Job], outcomes: list[tuple[bool, Any]]) -> None:
    for job, (ok, value) in zip(batch, outcomes, strict=True):
        if job.future.done():
            continue  # the caller went away
        if ok:
            job.future.set_result(value)
        else:
            job.future.set_exception(value)


class _SqliteSeen:
    """The replay guard's rows (core/replay.py `SeenRepo`), written by the chat writer."""

    def __init__(self, store: SqliteChatSteps) -> None:
        self._store = store

    async def remember(self, scope: str, key: str, digest: str, now: datetime, until: datetime) -> str | None:
        sql = self._store.sql
        values = {"scope": scope, "key": key, "digest": digest, "seen_at": now, "until": until}

        def run(conn: sqlite3.Connection) -> str | None:
            if conn.execute(sql.seen_insert.text, sql.seen_insert.args(values)).fetchone() is not None:
                return None
            row = conn.execute(sql.seen_digest.text, sql.seen_digest.args(values)).fetchone()
            return str(row[0]) if row else digest

        # Not waiting for the disk: the step this callback leads to commits durably before it
        # is answered, and that fsync takes this row along.
        result: str | None = await self._store._write(run, durable=False)
        return result

    async def forget_before(self, when: datetime) -> int:
        sql = self._store.sql.seen_forget

        def run(conn: sqlite3.Connection) -> int:
            return conn.execute(sql.text, sql.args({"when": when})).rowcount

        gone: int = await self._store._write(run)
        return gone


# -- PostgreSQL ------------------------------------------------------------------------------------


class PostgresChatSteps(_Store):
    def __init__(self, dsn: str, pool_size: int) -> None:
        super().__init__(asyncpg_dialect.dialect())
        self._dsn = dsn
        self._size = pool_size
        self._pool: Any = None
        self._opening = asyncio.Lock()
        self._combined: dict[tuple[tuple[str, int, bool], ...], str] = {}
        self.seen = _PostgresSeen(self)

    async def _run(self, work: Callable[[Any], Any]) -> Any:
        import asyncpg

        for attempt in range(2):
            try:
                if self._pool is None:
                    async with self._opening:
                        if self._pool is None:
                            self._pool = await asyncpg.create_pool(
                                self._dsn, min_size=1, max_size=self._size, reset=_reset,
                                server_settings={"jit": "off"},
                            )  # fmt: skip
                async with self._pool.acquire() as conn:
                    return await work(conn)
            except (
                OSError,
                asyncpg.PostgresConnectionError,
                asyncpg.InterfaceError,
                asyncpg.InternalClientError,  # the server ended an idle connection
                asyncpg.AdminShutdownError,
            ):
                if attempt:
                    raise
                # The server dropped connections (a restart, a failover): the others of the
                # pool are as dead; once more on a fresh one.
                await self._pool.expire_connections()
        raise AssertionError("unreachable")

    async def person(
        self, channel: str, app_id: str, external_id: str, dedupe_key: str | None
    ) -> tuple[InboundMessage | None, ChatIdentity | None, list[Conversation]]:
        sql = self.sql.seen_or_person
        values = {"channel": channel, "app_id": app_id, "external_id": external_id, "dedupe_key": dedupe_key}
        args = sql.args(values)

        async def work(conn: Any) -> list[Any]:
            return await conn.fetch(sql.text, *args)

        return self._seen_or_person(await self._run(work))

    def _one_statement(
        self, guard: list[Any] | None, first: Op | None, ops: list[Op]
    ) -> tuple[str, list[Any]]:
        """The step as one statement of data-modifying CTEs (one round trip, its own
        transaction): the guard's and the message's inserts and each versioned update must
        touch exactly one row, else `1 / 0` aborts the statement, and with it every part of
        it (PostgreSQL runs all CTEs of a statement to completion, or none)."""
        parts: list[tuple[str, list[Any], bool]] = []
        if guard is not None:
            parts.append((self.sql.seen_insert.text, guard, True))
        if first is not None:
            parts.append((first[1], first[2], True))
        parts += [(text, args, kind == "versioned") for kind, text, args in ops]
        shape = tuple((text, len(args), checked) for text, args, checked in parts)
        text = self._combined.get(shape)
        if text is None:
            text = self._combined[shape] = _with_statement(shape)
        return text, [arg for _, args, _ in parts for arg in args]

    async def save(self, step: ChatStep) -> InboundMessage | None:
        import asyncpg

        first, ops, committed = self._ops(step)
        sql, inbound = self.sql, step.inbound
        guard, seen = self._guard(step), step.guard
        text, all_args = self._one_statement(guard[0] if guard else None, first, ops)

        async def at_once(conn: Any) -> bool:
            try:
                await conn.fetchval(text, *all_args)
            except (asyncpg.DivisionByZeroError, asyncpg.IntegrityConstraintViolationError):
                return False  # not the usual step (seen, replayed, changed meanwhile): undone
            return True

        if await self._run(at_once):
            committed()
            return None

        # The unusual cases, told apart statement by statement in a transaction.
        async def work(conn: Any) -> Any:
            async with conn.transaction():
                if guard is not None and seen is not None:  # first: a refused replay stores nothing
                    if await conn.fetchrow(sql.seen_insert.text, *guard[0]) is None:
                        stored = await conn.fetchval(sql.seen_digest.text, *guard[1])
                        check_seen(seen, str(stored) if stored is not None else None)
                if first is not None and await conn.fetchrow(first[1], *first[2]) is None:
                    assert inbound is not None
                    values = {
                        "channel": inbound.channel,
                        "app_id": inbound.app_id,
                        "dedupe_key": inbound.dedupe_key,
                    }
                    return await conn.fetchrow(sql.inbound.text, *sql.inbound.args(values))
                for kind, text, args in ops:
                    try:
                        status = await conn.execute(text, *args)
                    except asyncpg.IntegrityConstraintViolationError as exc:
                        raise StepConflict() from exc
                    if kind == "versioned" and status.rsplit(" ", 1)[-1] != "1":
                        raise StepConflict()
            return None

        earlier = await self._run(work)
        if earlier is not None:
            return self._inbound(earlier)
        committed()
        return None

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()


_PARAM = re.compile(r"\$(\d+)")


def _with_statement(shape: tuple[tuple[str, int, bool], ...]) -> str:
    """`WITH s0 AS (…), s1 AS (…) SELECT 1 / (SELECT count(*) FROM s0) + …` from statements
    each numbering their parameters from $1 (renumbered to follow each other)."""
    ctes: list[str] = []
    checks: list[str] = []
    offset = 0
    for n, (text, count, checked) in enumerate(shape):
        shifted = _PARAM.sub(functools.partial(_shifted, offset), text)
        if checked and " RETURNING " not in shifted:
            shifted += " RETURNING 1"
        ctes.append(f"s{n} AS ({shifted})")
        if checked:
            checks.append(f"1 / (SELECT count(*) FROM s{n})")
        offset += count
    if not ctes:
        return "SELECT 1"
    return f"WITH {', '.join(ctes)} SELECT {' + '.join(checks) or '1'}"


def _shifted(offset: int, param: re.Match[str]) -> str:
    return f"${int(param.group(1)) + offset}"


async def _reset(conn: Any) -> None:
    """What the pool runs when a connection comes back: by default a round trip (unlock
    advisory locks, close cursors, UNLISTEN, RESET ALL) for state these statements never
    make. Only a transaction left open (a cancelled step) is ended."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


def _result_processor(column: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column's own; JSON on asyncpg has none (SQLAlchemy decodes it in a codec it sets
    on its connections; these keep asyncpg's default: JSON as text)."""
    proc = column.type.dialect_impl(dialect).result_processor(dialect, None)
    if proc is None and isinstance(column.type, JSON) and dialect.name == "postgresql":
        return _json_text
    return cast(Callable[[Any], Any] | None, proc)


def _json_text(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class _PostgresSeen:
    def __init__(self, store: PostgresChatSteps) -> None:
        self._store = store

    async def remember(self, scope: str, key: str, digest: str, now: datetime, until: datetime) -> str | None:
        sql = self._store.sql
        values = {"scope": scope, "key": key, "digest": digest, "seen_at": now, "until": until}

        async def work(conn: Any) -> str | None:
            if await conn.fetchrow(sql.seen_insert.text, *sql.seen_insert.args(values)) is not None:
                return None
            stored = await conn.fetchval(sql.seen_digest.text, *sql.seen_digest.args(values))
            return str(stored) if stored is not None else digest

        result: str | None = await self._store._run(work)
        return result

    async def forget_before(self, when: datetime) -> int:
        sql = self._store.sql.seen_forget

        async def work(conn: Any) -> int:
            status = await conn.execute(sql.text, *sql.args({"when": when}))
            return int(status.rsplit(" ", 1)[-1])

        gone: int = await self._store._run(work)
        return gone


def chat_steps_for(url: URL, pool_size: int) -> SqliteChatSteps | PostgresChatSteps:
    if url.get_backend_name() == "sqlite":
        return SqliteChatSteps(url.database or ":memory:")
    plain = make_url(url.render_as_string(hide_password=False)).set(drivername="postgresql")
    return PostgresChatSteps(plain.render_as_string(hide_password=False), pool_size)
