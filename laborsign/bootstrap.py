"""The composition root: the one place that knows every part and wires them from config."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from aiohttp import web

from .api import accounts as accounts_api
from .api import contracts as contracts_api
from .api import exports as exports_api
from .api import integrations as integrations_api
from .api import labor as labor_api
from .api import notices as notices_api
from .api import roster as roster_api
from .api import signing as signing_api
from .api import summary as summary_api
from .api import system as system_api
from .api import templates as templates_api
from .api import verification as verification_api
from .api.http import csrf
from .config import Config, LaborLawConfig
from .core.budgets import Limits
from .core.clock import Clock, SystemClock
from .core.crypto import FieldCipher
from .core.epoch_cache import EpochCache
from .core.integrations import TargetPolicy
from .core.pdf.ca import bundle_from_directory, create_bundle
from .core.pdf.pades import PkiSettings
from .core.pdf.tools import PdfEngine, shared_workers
from .core.ports import AuthEpoch, ChatSteps
from .first_start import ship_standard_template
from .http import CHAT, DEPS, METRICS, ApiRoutes, Metrics, asks_for_json, door, json_errors, mount, observe
from .identity import IdentityProviders, build_identity
from .storage.blobs import Backend, LocalBlobs, S3Blobs, S3Settings, TrackedBlobStore
from .storage.db import Database, UnitOfWork
from .storage.platform import shared_value, sweep_orphans
from .tasks import BackgroundTasks
from .web import setup_static
from .web.errors import page_errors
from .web.security import setup_security

log = logging.getLogger("laborsign")
CA_VALUE = "pki.ca"


def load_secret(config: Config) -> bytes:
    """The key behind code hashes, tokens and field encryption: `security.secret_key`, or
    (embedded default, one host) generated once into the data folder, readable by the owner
    only. Several hosts must configure it: config refuses storage.backend = "s3" without."""
    if config.security.secret_key:
        return config.security.secret_key.encode()
    path = config.data_dir / "secret.key"
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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
    blob_backend: Backend = field(init=False)
    blobs: TrackedBlobStore = field(init=False)
    pdf: PdfEngine = field(init=False)  # set by start(): the CA comes from the database
    identity: IdentityProviders = field(init=False)
    tasks: BackgroundTasks = field(init=False)
    limits: Limits = field(init=False)
    callers: EpochCache = field(default_factory=EpochCache)

    def __post_init__(self) -> None:
        self.tasks = BackgroundTasks()
        self.limits = Limits.from_settings(self.config.security)
        self.data_dir = self.config.data_dir
        self.cipher = FieldCipher(self.secret)
        self.blob_backend = build_blob_backend(self.config)
        self.blobs = TrackedBlobStore(self.blob_backend, self.db.engine, self.clock)
        self.identity = build_identity(self.config.identity, self.secret, self.clock, self.config.public_url)

    async def start(self, migrate: bool = True) -> None:
        """What needs the database or the file store: the schema, the shared platform CA,
        a file store that answers."""
        if migrate:
            await self.db.migrate()
        await self.blob_backend.check()
        pki = PkiSettings(
            secret=self.secret, base_url=self.config.public_url, tsa_url=self.config.pki.tsa_url
        )
        bundle = await shared_platform_ca(self, pki.crl_url)
        pki = PkiSettings(
            secret=pki.secret,
            base_url=pki.base_url,
            tsa_url=pki.tsa_url,
            bundle=tuple(sorted(bundle.items())),
        )
        try:
            self.pdf = PdfEngine(shared_workers(self.config.pki.workers or os.cpu_count() or 1), pki)
        except ValueError as exc:
            raise RuntimeError(
                "the platform CA in the database does not open with this security.secret_key: "
                "every host must be configured with the same secret_key"
            ) from exc
        if self.config.templates.standard_public:
            await ship_standard_template(self)

    async def sweep_orphans(self) -> int:
        return await sweep_orphans(self.db.engine, self.blob_backend, self.clock.now())

    async def stop(self) -> None:
        await self.blob_backend.close()
        await self.db.dispose()

    @property
    def public_url(self) -> str:
        return self.config.public_url

    @property
    def auth_epoch(self) -> AuthEpoch:
        return self.db.auth_epoch

    @property
    def labor_law(self) -> LaborLawConfig:
        return self.config.labor_law

    @property
    def target_policy(self) -> TargetPolicy:
        return TargetPolicy(
            allow_private=self.config.integrations.allow_private_targets,
            https_only=self.config.server.environment == "production",
        )

    def uow(self) -> UnitOfWork:
        return self.db.uow(self.worker_chat_apps)

    @cached_property
    def worker_chat_apps(self) -> dict[str, str]:
        """The enabled worker-facing chat channels and their app ids (the channel registry)."""
        from .bots.channels.registry import ADAPTERS

        enabled = [(a, a.settings(self.config)) for a in ADAPTERS if a.worker_facing]
        return {a.name: a.app_id(settings) for a, settings in enabled if settings.enabled}

    @property
    def chat_steps(self) -> ChatSteps:
        return self.db.chat_steps

    @property
    def hr_only_channels(self) -> tuple[str, ...]:
        from .bots.channels.registry import hr_only

        return hr_only()

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        self.tasks.spawn(work, name)


def build_blob_backend(config: Config) -> Backend:
    storage = config.storage
    if storage.backend == "s3":
        return S3Blobs(
            S3Settings(
                endpoint=storage.s3_endpoint,
                bucket=storage.s3_bucket,
                region=storage.s3_region,
                access_key_id=storage.s3_access_key_id,
                secret_access_key=storage.s3_secret_access_key,
                addressing=storage.s3_addressing,
            )
        )
    return LocalBlobs(config.data_dir / "files")


async def shared_platform_ca(deps: AppDeps, crl_url: str) -> dict[str, bytes]:
    """The platform CA every host signs with, kept in the database (its keys encrypted under
    the secret). Made once: by the first host to start, or taken over from the data folder
    of a single-host installation made before, so that its root certificate stays."""

    async def make() -> str:
        legacy = bundle_from_directory(deps.data_dir / "pki")
        if legacy is not None:
            log.info("platform CA taken over from data_dir/pki into the database")
        bundle = (
            legacy if legacy is not None else await asyncio.to_thread(create_bundle, deps.secret, crl_url)
        )
        return json.dumps({name: data.decode("ascii") for name, data in bundle.items()})

    value = await shared_value(deps.db.engine, CA_VALUE, make, deps.clock.now())
    return {name: text.encode("ascii") for name, text in json.loads(value).items()}


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
    """The routes the OpenAPI document describes: the API door's and the webhooks door's."""
    dev = dev_capabilities(config)
    tables = [
        system_api.routes,
        accounts_api.routes,
        templates_api.routes,
        exports_api.routes,  # before roster and contracts: their `{id}` routes would take `export.xlsx`
        roster_api.routes,
        contracts_api.routes,
        labor_api.routes,
        signing_api.routes,
        integrations_api.routes,
        notices_api.routes,
        summary_api.routes,
    ]
    if dev["sms"]:
        tables.append(system_api.dev_routes)
    tables += [verification_api.routes, verification_api.webhook_routes]
    if dev["payments"]:
        tables.append(verification_api.dev_routes)
    from .api import chat as chat_api

    tables += [chat_api.routes, *webhook_route_tables()]
    return tables


def webhook_route_tables() -> list[ApiRoutes]:
    """The webhooks door's routes: the identity providers' callbacks and each chat channel's."""
    from .bots.channels.registry import ADAPTERS

    return [verification_api.webhook_routes, *(adapter.routes() for adapter in ADAPTERS)]


def private_data_dir(path: Path) -> None:
    """The data folder holds the database, contracts, ID letters and the CA's keys: its own
    user only (0700), also when an older version created it world-readable."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_uid == os.getuid():
        path.chmod(0o700)


def build_deps(config: Config, clock: Clock | None = None) -> AppDeps:
    private_data_dir(config.data_dir)
    db = Database(config.database_url, config.database.pool_size, config.database.echo)
    return AppDeps(config=config, db=db, clock=clock or SystemClock(), secret=load_secret(config))


def create_app(config: Config, clock: Clock | None = None, *, migrate: bool = True) -> web.Application:
    """The root application: the doors (laborsign/http.py), the security headers on every
    answer, and the process's start and stop."""
    deps = build_deps(config, clock)
    app = web.Application(middlewares=[observe], client_max_size=1024 * 1024)
    setup_security(app, https=config.server.secure_cookies)
    app[DEPS] = deps
    metrics = app[METRICS] = Metrics()

    from .bots.runtime import ChatRuntime

    chat = app[CHAT] = ChatRuntime(deps, config)

    tables = api_route_tables(config)
    hook_tables = webhook_route_tables()

    api = door(deps, [json_errors(), csrf])
    api[METRICS] = metrics
    api[CHAT] = chat
    # Also on the root: what the document describes spans the API and the webhooks doors.
    api[system_api.OPENAPI_DOCS] = app[system_api.OPENAPI_DOCS] = [doc for t in tables for doc in t.docs]
    for table in tables:
        if table not in hook_tables:
            api.add_routes(table.table)

    hooks = door(deps, [json_errors()])  # no CSRF: callers sign their callbacks
    hooks[CHAT] = chat
    for table in hook_tables:
        hooks.add_routes(table.table)

    from .dashboard import chat_pages as dashboard_chat_pages
    from .dashboard import contracts_pages, labor_pages, roster_pages, templates_pages
    from .dashboard import integrations_pages as dashboard_integrations_pages
    from .dashboard import notices_pages as dashboard_notices_pages
    from .dashboard import pages as dashboard_pages
    from .dashboard import verification_pages as dashboard_verification_pages
    from .h5 import contracts_pages as h5_contracts_pages
    from .h5 import onboarding_pages as h5_onboarding_pages
    from .h5 import pages as h5_pages
    from .h5 import verification_pages as h5_verification_pages

    # The pages: the worker's (H5 and PC) and the site's (employer dashboard, platform console,
    # login, public verification, static files). A client that asks for JSON gets JSON errors.
    h5 = door(deps, [json_errors(asks_for_json), page_errors])
    h5_onboarding_pages.setup(h5)
    h5_pages.setup(h5)
    h5_contracts_pages.setup(h5)
    h5_verification_pages.setup(h5, sandbox_pages=dev_capabilities(config)["sandbox_pages"])

    site = door(deps, [json_errors(asks_for_json), page_errors])
    dashboard_pages.setup(site)
    templates_pages.setup(site)
    contracts_pages.setup(site)
    labor_pages.setup(site)
    roster_pages.setup(site)
    dashboard_verification_pages.setup(site)
    dashboard_chat_pages.setup(site)
    dashboard_integrations_pages.setup(site)
    dashboard_notices_pages.setup(site)
    setup_static(site)

    mount(app, "api", api)
    mount(app, "webhooks", hooks)
    mount(app, "h5", h5)
    mount(app, "site", site, rest=True)  # and every path no door owns: a wrong link gets a page

    async def database(app: web.Application) -> AsyncIterator[None]:
        await deps.start(migrate)
        yield
        await deps.stop()

    app.cleanup_ctx.append(database)

    async def chat_channels(app: web.Application) -> AsyncIterator[None]:
        async with chat.running(background=config.jobs.background):
            yield

    app.cleanup_ctx.append(chat_channels)

    from . import jobs

    async def engine_jobs(app: web.Application) -> AsyncIterator[None]:
        async with jobs.running(deps, background=config.jobs.background, sweep=deps.sweep_orphans):
            yield

    app.cleanup_ctx.append(engine_jobs)

    async def after_answer_work(app: web.Application) -> AsyncIterator[None]:
        yield
        await deps.tasks.drain(grace=30)

    app.cleanup_ctx.append(after_answer_work)  # shut down first, while the database is open
    return app
