"""A fake SMS gateway bridge: checks the platform's HMAC signature the way an operator's
bridge should (and refuses a bad or stale one with 403), records what it accepted, and can be
told to answer the next requests with given HTTP statuses."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeSmsBridge:
    secret: str = "bridge-secret-0123456789"
    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)  # every signed request, taken or not
    next_statuses: list[int] = field(default_factory=list)
    clock_skew_allowed: int = 600
    now: Any = None  # callable giving unix time (the tests' clock); default: the real one

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/sms", self.handle)
        return app

    def _signed(self, request: web.Request, body: bytes) -> bool:
        parts = dict(
            p.split("=", 1) for p in request.headers.get("X-LaborSign-Signature", "").split(",") if "=" in p
        )
        try:
            stamp = int(parts.get("t", ""))
        except ValueError:
            return False
        expected = hmac.new(self.secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        now = self.now() if self.now else time.time()
        return (
            hmac.compare_digest(expected, parts.get("v1", "")) and abs(now - stamp) <= self.clock_skew_allowed
        )

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not self._signed(request, body):
            self.refused.append(403)
            return web.json_response({"error": "bad signature"}, status=403)
        self.received.append(json.loads(body))
        if self.next_statuses:
            status = self.next_statuses.pop(0)
            self.refused.append(status)
            return web.json_response({"error": "told to fail"}, status=status)
        self.accepted.append(json.loads(body))
        return web.json_response({"ok": True})

    def codes_for(self, phone: str) -> list[str]:
        return [m["code"] for m in self.accepted if m["phone"] == phone and "code" in m]
