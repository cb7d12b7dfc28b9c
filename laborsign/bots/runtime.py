"""Everything the chat channels need at run time, built once from the configuration: the
conversation engine with its flows, the senders of the enabled channels (found through the
registry), the outbox deliverer, the channels' background connections (the DingTalk stream)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import aiohttp

from ..config import Config
from ..core import outbox as ob
from ..core.ports import Deps
from ..tasks import stop_tasks
from .channels import SDK_TIMEOUT, Sender, registry
from .channels.base import Background
from .engine import Engine
from .flows import install
from .hr import hr_expander
from .integrators import WebhookSender
from .outbox import Deliverer
from .sms import HttpSmsSender
from .sms_vendors import AliyunSmsSender, TencentSmsSender

log = logging.getLogger("laborsign.bots")

# Long enough for a send under way to finish or time out (SDK and HTTP calls give up within
# SDK_TIMEOUT) and be recorded, so that it is neither lost nor sent again after its lease.
STOP_GRACE = SDK_TIMEOUT + 5


class ChatRuntime:
    def __init__(self, deps: Deps, config: Config) -> None:
        self.deps = deps
        self.config = config
        self._http: aiohttp.ClientSession | None = None
        self.apps: dict[str, str] = {}  # channel → app id
        self.senders: dict[str, Sender] = {}
        enabled = [(a, a.settings(config)) for a in registry.ADAPTERS]
        enabled = [(a, settings) for a, settings in enabled if settings.enabled]
        for adapter, settings in enabled:
            self.apps[adapter.name] = adapter.app_id(settings)
            self.senders[adapter.name] = adapter.sender(deps, settings, self.http)
        if config.sms.provider == "http":
            self.senders["sms"] = HttpSmsSender(config.sms, deps.clock, self.http)
        elif config.sms.provider == "aliyun":
            self.senders["sms"] = AliyunSmsSender(config.sms)
        elif config.sms.provider == "tencent":
            self.senders["sms"] = TencentSmsSender(config.sms)
        self.webhooks = WebhookSender(deps, deps.target_policy)
        self.senders[ob.Channel.WEBHOOK] = self.webhooks
        self.engine = install(Engine(deps))
        hr_apps = {k: v for k, v in self.apps.items() if k in registry.hr_facing()}
        self.deliverer = Deliverer(deps, self.senders, {ob.Channel.HR: hr_expander(hr_apps)})
        self.deliverer.housekeeping.append(self._housekeeping)
        self.background: dict[str, Background] = {}
        for adapter, settings in enabled:
            runner = adapter.background(deps, self.engine, settings, self.http)
            if runner is not None:
                self.background[adapter.name] = runner
        self._last_sweep: datetime | None = None

    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    async def _housekeeping(self) -> None:
        now = self.deps.clock.now()
        if self._last_sweep is not None and (now - self._last_sweep).total_seconds() < 60:
            return
        self._last_sweep = now
        await self.engine.expire_idle()
        await self.engine.forget_old_inbound()

    @asynccontextmanager
    async def running(self, background: bool, *, grace: float = STOP_GRACE) -> AsyncIterator[None]:
        """The background tasks for the life of the block. On the way out the deliverer is
        asked to stop and given `grace` seconds to record what it is sending; what is still
        running then is cancelled (a message cut short comes back when its lease ends)."""
        tasks: list[asyncio.Task[None]] = []
        if background:
            tasks.append(asyncio.create_task(self.deliverer.run_forever(), name="outbox-deliverer"))
        connections = [
            asyncio.create_task(runner.run(), name=f"{name}-connection")
            for name, runner in self.background.items()
        ]
        tasks += connections
        try:
            yield
        finally:
            try:
                self.deliverer.stop()
                for connection in connections:
                    connection.cancel()  # nothing to finish: a frame not yet acknowledged comes again
                await stop_tasks(tasks, grace)
            finally:
                if self._http is not None:
                    await self._http.close()
                await self.webhooks.close()
