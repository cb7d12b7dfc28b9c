"""Engine, unit of work and migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm.exc import StaleDataError

from ..core.errors import Conflict, NotFound
from ..core.events import DomainEvent
from ..core.handlers import dispatch
from . import counters, epoch, mappings, platform  # noqa: F401 - epoch, platform: their tables are part of the schema
from .accounts import AccountRepository
from .chat import ChatRepository, OutboxQueue, TokenStore
from .chat_steps import chat_steps_for
from .contracts import ContractRepository
from .epoch import epoch_reader, watch
from .exports import ExportJobRepository
from .guards import BudgetStore, SeenStore
from .integrations import IntegrationRepository
from .labor import LaborRepository
from .notices import NoticeRepository
from .outbox import OutboxRepository
from .roster import RosterRepository
from .summary import SummaryRepository
from .templates import TemplateRepository
from .verification import VerificationRepository

T = TypeVar("T")
# What the database says when another transaction got to the same row first: a versioned
# UPDATE that matched no row (the version moved on) or a unique key already taken.
DATABASE_CONFLICTS = (StaleDataError, IntegrityError)
MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x4C534D47  # "LSMG": any constant, the same in every LaborSign process


def make_engine(url: str, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    mappings.map_all()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            _private_database_file(Path(path))
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # No JIT: the service's queries are short, and on a large table the planner's cost guess
    # alone (before the visibility map is set) turned it on for 400 ms of compiling per count.
    # No ping before each checkout (a round trip per transaction): a connection found dead
    # when used fails that transaction and makes the pool drop every connection of its
    # generation; callers that can (the chat step) try once more.
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size,
        connect_args={"server_settings": {"jit": "off"}},
    )  # fmt: skip


def _private_database_file(path: Path) -> None:
    """Creates the database file readable by its owner only before SQLite opens it: SQLite
    gives its WAL and shared-memory files the database file's mode."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers run beside the single writer; NORMAL is durable at checkpoints in WAL mode.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class UnitOfWork:
    """One transaction. Repositories hang off it; leaving without commit rolls back.

    A conflict with another transaction (core.errors.Conflict) is raised in place of the
    database's own error, wherever in the block it surfaces (commit, flush or autoflush), so
    callers catch a domain error and a door answers 409."""

    accounts: AccountRepository
    outbox: OutboxRepository
    templates: TemplateRepository
    verification: VerificationRepository
    roster: RosterRepository
    workers: RosterRepository
    contracts: ContractRepository
    chat: ChatRepository
    outbox_queue: OutboxQueue
    tokens: TokenStore
    budgets: BudgetStore
    seen: SeenStore
    integrations: IntegrationRepository
    labor: LaborRepository
    notices: NoticeRepository
    summary: SummaryRepository
    exports: ExportJobRepository

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], chat_apps: Mapping[str, str] | None = None
    ) -> None:
        self._sessionmaker = sessionmaker
        self.chat_apps: Mapping[str, str] = chat_apps or {}

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessionmaker()
        self.accounts = AccountRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.templates = TemplateRepository(self.session)
        self.verification = VerificationRepository(self.session)
        self.roster = RosterRepository(self.session)
        self.workers = self.roster
        self.contracts = ContractRepository(self.session)
        self.chat = ChatRepository(self.session)
        self.outbox_queue = OutboxQueue(self.session)
        self.tokens = TokenStore(self.session)
        self.budgets = BudgetStore(self.session)
        self.seen = SeenStore(self.session)
        self.integrations = IntegrationRepository(self.session)
        self.notices = NoticeRepository(self.session)
        self._events: list[DomainEvent] = []
        self.labor = LaborRepository(self.session)
        self.summary = SummaryRepository(self.session)
        self.exports = ExportJobRepository(self.session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # close() rolls back anything uncommitted but, unlike rollback(), leaves loaded
        # objects readable after the block.
        await self.session.close()
        if isinstance(exc, DATABASE_CONFLICTS):
            raise Conflict() from exc

    def add(self, obj: object) -> None:
        self.session.add(obj)

    async def delete(self, obj: object) -> None:
        await self.session.delete(obj)

    async def get(self, cls: type[T], id: str) -> T | None:
        return await self.session.get(cls, id)

    async def get_or_404(self, cls: type[T], id: str, message: str = "记录不存在") -> T:
        obj = await self.session.get(cls, id)
        if obj is None:
            raise NotFound(message)
        return obj

    async def flush(self) -> None:
        try:
            await self.session.flush()
        except DATABASE_CONFLICTS as exc:
            raise Conflict() from exc

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    async def commit(self) -> None:
        # Handlers run before the commit, in its transaction; what they record runs too.
        while self._events:
            events, self._events = self._events, []
            await dispatch(self, events)
        try:
            await self.session.commit()
        except DATABASE_CONFLICTS as exc:
            raise Conflict() from exc


class _Session(OrmSession):
    """Our sessions: a flush that changes accounts moves the auth epoch (storage/epoch.py); one
    that adds, removes or moves contracts and employees moves the tenant's counters
    (storage/counters.py)."""


watch(_Session)
counters.watch(_Session)


class Database:
    def __init__(self, url: str, pool_size: int = 10, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size, echo)
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=_Session
        )
        self.auth_epoch = epoch_reader(self.engine)
        self.chat_steps = chat_steps_for(self.engine.url, pool_size)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def uow(self, chat_apps: Mapping[str, str] | None = None) -> UnitOfWork:
        return UnitOfWork(self.sessionmaker, chat_apps)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def migrate(self) -> None:
        async with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                # Hosts starting at the same moment migrate one after the other; the later
                # ones find the schema at head. Held until this transaction ends.
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            await conn.run_sync(_upgrade_head)

    async def dispose(self) -> None:
        await self.auth_epoch.close()
        await self.chat_steps.close()
        await self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade_head(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "heads")


def migrate_sync(url: str) -> None:
    """For the CLI: create or upgrade the schema and leave."""

    async def run() -> None:
        db = Database(url)
        try:
            await db.migrate()
        finally:
            await db.dispose()

    asyncio.run(run())
