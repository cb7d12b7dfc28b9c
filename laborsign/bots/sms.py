"""SMS through the operator's gateway (`[sms] provider = "http"`).

China's SMS gateways (Aliyun, Tencent Cloud, carriers) each want their own signature names,
approved templates and credentials, so the platform does not speak to them directly: every
message is POSTed as JSON to a small bridge of the operator's, which picks the template and
sends it. The request is signed like the platform's other callbacks:
`X-LaborSign-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>`.

The bridge answers 2xx when it accepted the message. 400, 403, 404, 410 and 422 mean it will
never take it (dead letter at once); anything else — 408, 429, 5xx, a timeout, no answer — is
tried again with the outbox's backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import aiohttp

from ..config import SmsConfig
from ..core.clock import Clock
from ..core.outbox import OutboxMessage
from .channels import SendError

SIGNATURE_HEADER = "X-LaborSign-Signature"
PERMANENT = frozenset({400, 403, 404, 410, 422})
TIMEOUT = aiohttp.ClientTimeout(total=10)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class HttpSmsSender:
    channel = "sms"
    app_id = ""

    def __init__(self, config: SmsConfig, clock: Clock, http: Callable[[], aiohttp.ClientSession]) -> None:
        self.config = config
        self.clock = clock
        self.http = http

    def body(self, message: OutboxMessage) -> bytes:
        payload = message.payload or {}
        data: dict[str, Any] = {
            "id": message.id,  # the same id again means the same message (a retry)
            "phone": message.recipient,
            "signature": self.config.signature,
            "text": message.text,
            "content": f"【{self.config.signature}】{message.text}",
            "kind": message.kind,
        }
        # What a template-based gateway needs as parameters.
        for key in ("code", "purpose", "link"):
            if payload.get(key):
                data[key] = payload[key]
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    async def send(self, message: OutboxMessage) -> None:
        body = self.body(message)
        timestamp = int(self.clock.now().timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(self.config.http_secret, timestamp, body),
        }
        try:
            async with self.http().post(
                self.config.http_url, data=body, headers=headers, timeout=TIMEOUT
            ) as resp:
                status = resp.status
                answer = (await resp.text())[:200]
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendError(f"SMS gateway unreachable: {type(exc).__name__}") from exc
        if 200 <= status < 300:
            return
        raise SendError(f"SMS gateway answered {status}: {answer}", permanent=status in PERMANENT)
