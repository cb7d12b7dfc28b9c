"""A real integrator endpoint for tests: an aiohttp server on loopback that records every
POST and answers with the statuses it is told to (200 unless told otherwise). It checks
signatures the way the README tells integrators to, independently of the platform's code."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data

    def signature_ok(self, secret: str) -> bool:
        parts = dict(p.split("=", 1) for p in self.headers["X-LaborSign-Signature"].split(","))
        expected = hmac.new(
            secret.encode(), parts["t"].encode() + b"." + self.body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(expected, parts["v1"])

    @property
    def timestamp(self) -> int:
        parts = dict(p.split("=", 1) for p in self.headers["X-LaborSign-Signature"].split(","))
        return int(parts["t"])


@dataclass
class Receiver:
    base: str = ""
    port: int = 0
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # next statuses to answer, then 200
    always: int = 200

    def on(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(Received(request.path, dict(request.headers), await request.read()))
        status = self.answers.pop(0) if self.answers else self.always
        return web.Response(status=status, text="ok" if status < 300 else "busy")


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", r.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None and server.sockets
    r.port = server.sockets[0].getsockname()[1]
    r.base = f"http://127.0.0.1:{r.port}"
    try:
        yield r
    finally:
        await runner.cleanup()
