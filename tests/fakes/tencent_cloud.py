"""A fake Tencent Cloud API 3.0 endpoint: checks the TC3-HMAC-SHA256 signature the way the real
gateway does (credential scope, the signed headers as they arrived, the payload hash, a fresh
timestamp) and hands each action to a handler answering in the real `{"Response": …}` shape.
Subclasses are one product each (FaceID, SMS). Failure modes for tests: `next_errors` (an API
error code per call), `hang` (answer nothing until the test ends) and `garble` (an answer the
SDK cannot read)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
MAX_SKEW = 300


def api_error(code: str, message: str) -> dict[str, Any]:
    return {"Error": {"Code": code, "Message": message}}


def tc3_signature(secret_key: str, date: str, service: str, to_sign: str) -> str:
    key = hmac.new(("TC3" + secret_key).encode(), date.encode(), hashlib.sha256).digest()
    key = hmac.new(key, service.encode(), hashlib.sha256).digest()
    key = hmac.new(key, b"tc3_request", hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class FakeTencentCloud:
    service: str = ""
    version: str = ""
    secret_id: str = "AKIDfake0000000000000000000000000000"
    secret_key: str = "fake-secret-key-000000000000000000"
    requests: list[dict[str, Any]] = field(default_factory=list)
    refused_signatures: int = 0
    next_errors: list[str] = field(default_factory=list)
    hang: bool = False
    garble: bool = False
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/", self.handle)

        async def release(app: web.Application) -> None:
            self.released.set()

        app.on_shutdown.append(release)
        return app

    def handlers(self) -> dict[str, Handler]:
        raise NotImplementedError

    def signature_problem(self, request: web.Request, payload: bytes) -> str:
        """Why the request's TC3-HMAC-SHA256 signature is not valid ("" when it is)."""
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("TC3-HMAC-SHA256 "):
            return "not TC3-HMAC-SHA256"
        parts = dict(p.strip().split("=", 1) for p in auth[len("TC3-HMAC-SHA256 ") :].split(",") if "=" in p)
        credential = parts.get("Credential", "").split("/")
        if len(credential) != 4 or credential[0] != self.secret_id or credential[3] != "tc3_request":
            return "credential"
        date, service = credential[1], credential[2]
        if service != self.service:
            return "service"
        timestamp = int(request.headers.get("X-TC-Timestamp", "0") or 0)
        if abs(time.time() - timestamp) > MAX_SKEW:
            return "stale timestamp"
        if datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d") != date:
            return "date"
        signed = parts.get("SignedHeaders", "").split(";")
        if "host" not in signed or "content-type" not in signed:
            return "signed headers"
        canonical_headers = "".join(
            f"{name}:{request.headers.get(name, '').strip().lower() if name == 'x-tc-action' else request.headers.get(name, '').strip()}\n"
            for name in signed
        )
        canonical = f"POST\n/\n\n{canonical_headers}\n{';'.join(signed)}\n{hashlib.sha256(payload).hexdigest()}"
        scope = f"{date}/{service}/tc3_request"
        to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        if not hmac.compare_digest(tc3_signature(self.secret_key, date, service, to_sign), parts.get("Signature", "")):
            return "signature"
        return ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        payload = await request.read()
        action = request.headers.get("X-TC-Action", "")
        request_id = secrets.token_hex(8)
        if self.hang:
            await self.released.wait()
        if self.garble:
            return web.Response(status=502, text="<html><body>502 Bad Gateway</body></html>", content_type="text/html")
        if request.headers.get("X-TC-Version") != self.version:
            return self._answer(api_error("InvalidParameter", "version"), request_id)
        problem = self.signature_problem(request, payload)
        if problem:
            self.refused_signatures += 1
            return self._answer(
                api_error("AuthFailure.SignatureFailure", f"The provided credentials could not be validated ({problem})."),
                request_id,
            )
        params = json.loads(payload)
        self.requests.append({"action": action, **params})
        if self.next_errors:
            code = self.next_errors.pop(0)
            return self._answer(api_error(code, code), request_id)
        handler = self.handlers().get(action)
        if handler is None:
            return self._answer(api_error("InvalidAction", action), request_id)
        return self._answer(await handler(params), request_id)

    def _answer(self, body: dict[str, Any], request_id: str) -> web.Response:
        # Exactly "application/json", as the real gateway sends: the SDK looks for errors
        # only under that content type.
        data = json.dumps({"Response": {**body, "RequestId": request_id}}, ensure_ascii=False).encode()
        return web.Response(body=data, headers={"Content-Type": "application/json"})
