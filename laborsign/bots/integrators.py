"""Integrator webhook deliveries: the sender for outbox rows of the "webhook" channel.

Each delivery POSTs the event's body signed like the SMS bridge's requests
(`X-LaborSign-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>`) with the
endpoint's secret. A 2xx answer is delivered; anything else — another status, a redirect
(never followed), a timeout, no connection — is tried again with the outbox's backoff until
its tries run out. Every POST is recorded as an attempt for the endpoint's delivery list.

The target is checked again at every delivery, as the connection is made: the resolver
refuses names that resolve to a non-global address, so a name that pointed at a public
address at registration cannot be re-pointed at this machine or the intranet (DNS rebinding)."""

from __future__ import annotations

import ipaddress
import socket

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from cryptography.exceptions import InvalidTag

from ..core.integrations import (
    REFUSED_TARGET,
    DeliveryAttempt,
    TargetPolicy,
    WebhookEndpoint,
    encode_body,
    literal_address,
    refused_address,
    validate_url,
)
from ..core.outbox import Channel, OutboxMessage
from ..core.ports import Deps
from ..core.services.integrations import secret_context
from .channels import SendError
from .sms import SIGNATURE_HEADER, sign

TIMEOUT = aiohttp.ClientTimeout(total=10)
USER_AGENT = "LaborSign-Webhooks/1"
UNREADABLE_SECRET = "签名密钥无法解密（security.secret_key 是否已更换？）"
# No later try can do better: dead at once (a redelivery tries again once it is fixed).
PERMANENT = frozenset({REFUSED_TARGET, UNREADABLE_SECRET})


class RefusedTarget(OSError):
    """Raised by the resolver: the name resolves to an address deliveries may not reach."""


class PublicOnlyResolver(AbstractResolver):
    def __init__(self) -> None:
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        for entry in found:
            if refused_address(ipaddress.ip_address(entry["host"].split("%", 1)[0])):
                raise RefusedTarget(f"{host} resolves to a non-public address")
        return found

    async def close(self) -> None:
        await self._inner.close()


class WebhookSender:
    channel: str = Channel.WEBHOOK
    app_id = ""

    def __init__(self, deps: Deps, policy: TargetPolicy) -> None:
        self.deps = deps
        self.policy = policy
        self._http: aiohttp.ClientSession | None = None

    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            resolver = None if self.policy.allow_private else PublicOnlyResolver()
            # No DNS cache: each delivery resolves (and is checked) again.
            connector = aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False)
            self._http = aiohttp.ClientSession(connector=connector, headers={"User-Agent": USER_AGENT})
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def send(self, message: OutboxMessage) -> None:
        async with self.deps.uow() as uow:
            endpoint = await uow.get(WebhookEndpoint, message.recipient)
        if endpoint is None:
            raise SendError("接收地址已删除", permanent=True)
        status, error = await self._post(endpoint, message)
        async with self.deps.uow() as uow:
            uow.add(
                DeliveryAttempt(
                    delivery_id=message.id, endpoint_id=endpoint.id, at=self.deps.clock.now(),
                    status_code=status, error=error[:500],
                )
            )  # fmt: skip
            await uow.commit()
        if error:
            raise SendError(error, permanent=error in PERMANENT)

    async def _post(self, endpoint: WebhookEndpoint, message: OutboxMessage) -> tuple[int | None, str]:
        """(status, error): error is empty when the endpoint took the event."""
        target = validate_url(endpoint.url, TargetPolicy(allow_private=True))
        literal = literal_address(target.host)
        if not self.policy.allow_private and literal is not None and refused_address(literal):
            return None, REFUSED_TARGET  # an address, not a name: the resolver never sees it
        body = encode_body(message.payload["event"])
        try:
            secret = self.deps.cipher.decrypt(endpoint.secret_enc, secret_context(endpoint.id))
        except (ValueError, InvalidTag):
            # Another security.secret_key than the one it was sealed with: no try can sign it.
            return None, UNREADABLE_SECRET
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(secret, int(self.deps.clock.now().timestamp()), body),
            "X-LaborSign-Event": message.kind,
            "X-LaborSign-Delivery": message.id,
        }
        try:
            async with self.http().post(
                target.url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False
            ) as resp:
                status = resp.status
                answer = (await resp.text(errors="replace"))[:200]
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, RefusedTarget):
                return None, REFUSED_TARGET
            return None, f"无法连接接收地址：{type(exc).__name__}"
        except TimeoutError:
            return None, "接收地址响应超时"
        except aiohttp.ClientError as exc:
            return None, f"投递失败：{type(exc).__name__}"
        if 200 <= status < 300:
            return status, ""
        return status, f"接收地址返回 HTTP {status}：{answer}"
