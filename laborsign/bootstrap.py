"""The composition root: the one place that knows every part and wires them from config."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from .api import accounts as accounts_api
from .api import contracts as contracts_api
from .api import roster as roster_api
from .api import signing as signing_api
from .api import system as system_api
from .api import templates as templates_api
from .api import verification as verification_api
from .api.http import DEPS, METRICS, ApiRoutes, Metrics, csrf, observe
from .config import Config, LaborLawConfig
from .core.clock import Clock, SystemClock
from .core.crypto import FieldCipher
from .core.pdf.pades import PkiSettings
from .core.pdf.tools import PdfEngine, shared_workers
from .identity import IdentityProviders, build_identity
from .storage.blobs import LocalBlobStore
from .storage.db import Database, UnitOfWork
from .tasks import BackgroundTasks


def load_secret(config: Config) -> bytes:
    """The key behind code hashes, tokens and field encryption. Embedded default: generated
    once into the data folder, readable by the owner only."""
    if config.security.secret_key:
        return config.security.secret_key.encode()
    path = config.data_dir / "secret.key"
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(value)
    return value


@dataclass
class AppDeps:
    """What the doors hand to services (satisfies `core.ports.Deps`)."""

    config: Config
    db: Database
    clock: Clock
    secret: bytes
    data_dir: Path = field(init=False)
    cipher: FieldCipher = field(init=False)
    blobs: LocalBlobStore = field(init=False)
    pdf: PdfEngine = field(init=False)
    identity: IdentityProviders = field(init=False)
    tasks: BackgroundTasks = field(init=False)

    def __post_init__(self) -> None:
        self.tasks = BackgroundTasks()
        self.data_dir = self.config.data_dir
        self.cipher = FieldCipher(self.secret)
        self.blobs = LocalBlobStore(self.data_dir / "files")
        self.identity = build_identity(self.config.identity, self.secret, self.clock, self.config.public_url)
        self.pdf = PdfEngine(
            shared_workers(self.config.pki.workers or os.cpu_count() or 1),
            PkiSettings(
                directory=str(self.data_dir / "pki"),
                secret=self.secret,
                base_url=self.config.public_url,
                tsa_url=self.config.pki.tsa_url,
            ),
        )

    @property
    def public_url(self) -> str:
        return self.config.public_url

    @property
    def labor_law(self) -> LaborLawConfig:
        return self.config.labor_law

    def uow(self) -> UnitOfWork:
        return self.db.uow()

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        self.tasks.spawn(work, name)


def dev_capabilities(config: Config) -> dict[str, bool]:
    """Which development doors exist: each only while its own capability is played by the
    sandbox or the outbox, and none in production (which refuses those providers anyway)."""
    if config.server.environment == "production":
        return {"sms": False, "payments": False, "sandbox_pages": False}
    identity = config.identity
    return {
        "sms": config.sms.provider == "outbox",
        "payments": identity.chosen("corporate_payment") == "sandbox",
        "sandbox_pages": "sandbox" in (identity.chosen("face"), identity.chosen("enterprise_alipay")),
    }


def api_route_tables(config: Config) -> list[ApiRoutes]:
    dev = dev_capabilities(config)
    tables = [
        system_api.routes,
        accounts_api.routes,
        templates_api.routes,
        roster_api.routes,
        contracts_api.routes,
        signing_api.routes,
    ]
    if dev["sms"]:
        tables.append(system_api.dev_routes)
    tables += [verification_api.routes, verification_api.webhook_routes]
    if dev["payments"]:
        tables.append(verification_api.dev_routes)
    from .api import chat as chat_api
    from .webhooks import dingtalk as dingtalk_hooks
    from .webhooks import wechat as wechat_hooks
    from .webhooks import wecom as wecom_hooks

    tables += [chat_api.routes, wechat_hooks.routes, wecom_hooks.routes, dingtalk_hooks.routes]
    return tables


def build_deps(config: Config, clock: Clock | None = None) -> AppDeps:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(config.database_url, config.database.pool_size, config.database.echo)
    return AppDeps(config=config, db=db, clock=clock or SystemClock(), secret=load_secret(config))


def create_app(config: Config, clock: Clock | None = None, *, migrate: bool = True) -> web.Application:
    app = web.Application(middlewares=[observe, csrf], client_max_size=25 * 1024 * 1024)
    deps = build_deps(config, clock)
    db = deps.db
    app[DEPS] = deps
    app[METRICS] = Metrics()
    tables = api_route_tables(config)
    app[system_api.OPENAPI_DOCS] = [doc for table in tables for doc in table.docs]
    for table in tables:
        app.add_routes(table.table)

    from .dashboard import contracts_pages, roster_pages, templates_pages
    from .dashboard import pages as dashboard_pages
    from .dashboard import verification_pages as dashboard_verification_pages
    from .h5 import contracts_pages as h5_contracts_pages
    from .h5 import onboarding_pages as h5_onboarding_pages
    from .h5 import pages as h5_pages
    from .h5 import verification_pages as h5_verification_pages

    dashboard_pages.setup(app)
    templates_pages.setup(app)
    contracts_pages.setup(app)
    roster_pages.setup(app)
    h5_onboarding_pages.setup(app)
    h5_pages.setup(app)
    h5_contracts_pages.setup(app)
    dashboard_verification_pages.setup(app)
    h5_verification_pages.setup(app, sandbox_pages=dev_capabilities(config)["sandbox_pages"])
    from .dashboard import chat_pages as dashboard_chat_pages

    dashboard_chat_pages.setup(app)

    async def database(app: web.Application) -> AsyncIterator[None]:
        if migrate:
            await db.migrate()
        yield
        await db.dispose()

    app.cleanup_ctx.append(database)

    from .bots.runtime import ChatRuntime
    from .webhooks.common import CHAT

    chat = app[CHAT] = ChatRuntime(deps, config)

    async def chat_channels(app: web.Application) -> AsyncIterator[None]:
        async with chat.running(background=config.jobs.background):
            yield

    app.cleanup_ctx.append(chat_channels)

    from . import jobs

    async def engine_jobs(app: web.Application) -> AsyncIterator[None]:
        async with jobs.running(deps, background=config.jobs.background):
            yield

    app.cleanup_ctx.append(engine_jobs)

    async def after_answer_work(app: web.Application) -> AsyncIterator[None]:
        yield
        await deps.tasks.drain(grace=30)

    app.cleanup_ctx.append(after_answer_work)  # shut down first, while the database is open
    return app
