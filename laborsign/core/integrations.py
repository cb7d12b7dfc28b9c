"""Integrator webhooks: an enterprise's endpoints, the rules their addresses must meet, and
the body every delivery carries.

An endpoint subscribes to event types (`core/events.py`). Each event of its enterprise
becomes one outbox row per subscribed endpoint, written in the transaction of the state
change; the deliverer POSTs it signed with the endpoint's secret and retries it like any
other outbound message. The secret is shown once at registration and stored encrypted
(it is needed again to sign every delivery, so it cannot be a hash)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import secrets
import socket
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .clock import iso
from .errors import Invalid
from .events import EVENT_TYPES, DomainEvent
from .ids import new_id

SECRET_CONTEXT = "webhook_endpoints.secret"
MAX_ENDPOINTS = 20  # per enterprise
MAX_URL = 500
RESOLVE_TIMEOUT = 5.0
REFUSED_TARGET = "接收地址指向本机、内网或保留地址，出于安全考虑不允许（如确需投递到内网，请由平台运营方开启 integrations.allow_private_targets）"

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(eq=False)
class WebhookEndpoint:
    enterprise_id: str
    url: str
    events: list[str]
    secret_enc: str
    created_at: datetime
    created_by: str = ""
    id: str = field(default_factory=new_id)

    def wants(self, event_type: str) -> bool:
        return event_type in self.events


@dataclass(eq=False)
class DeliveryAttempt:
    """One POST of a delivery and what came of it (the outbox row holds the delivery)."""

    delivery_id: str
    endpoint_id: str
    at: datetime
    status_code: int | None = None  # None: no answer (refused, unreachable, timed out)
    error: str = ""
    id: str = field(default_factory=new_id)


@dataclass(frozen=True)
class TargetPolicy:
    allow_private: bool = False  # integrations.allow_private_targets
    https_only: bool = False  # production mode


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def validate_events(raw: object) -> list[str]:
    if not isinstance(raw, list) or not raw:
        raise Invalid.field("events", "请至少选择一种事件")
    out: list[str] = []
    for item in raw:
        if not isinstance(item, str) or item not in EVENT_TYPES:
            shown = str(item)[:40]
            raise Invalid.field("events", f"未知的事件类型：{shown}（可选：{'、'.join(EVENT_TYPES)}）")
        if item not in out:
            out.append(item)
    return out


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    port: int


def validate_url(raw: object, policy: TargetPolicy) -> Target:
    text = str(raw or "").strip() if isinstance(raw, str) else ""
    if not text:
        raise Invalid.field("url", "请填写接收地址")
    if len(text) > MAX_URL:
        raise Invalid.field("url", f"接收地址不能超过{MAX_URL}个字符")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise Invalid.field("url", "接收地址不能包含空白或控制字符")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise Invalid.field("url", "接收地址格式不正确") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Invalid.field("url", "接收地址应以 http:// 或 https:// 开头")
    if policy.https_only and scheme != "https":
        raise Invalid.field("url", "生产环境的接收地址必须使用 https://")
    if parts.username is not None or parts.password is not None:
        raise Invalid.field("url", "接收地址不能包含用户名或密码")
    host = parts.hostname or ""
    if not host:
        raise Invalid.field("url", "接收地址缺少主机名")
    if parts.fragment:
        raise Invalid.field("url", "接收地址不能包含 # 片段")
    return Target(text, host, port or (443 if scheme == "https" else 80))


def literal_address(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def refused_address(address: IpAddress) -> bool:
    """Loopback, link-local, site-local, private, shared, reserved, multicast, unspecified:
    anything but a global unicast address. An IPv6 address that carries an IPv4 one (mapped,
    6to4, NAT64) is judged by the IPv4 address it leads to."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.is_site_local:
            return True
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            address = embedded
    return not address.is_global or address.is_multicast


async def check_target(target: Target, policy: TargetPolicy) -> None:
    """Refuses an address that is or resolves to a non-global address. Every address the name
    resolves to counts: a receiver cannot choose which one a connection will use."""
    if policy.allow_private:
        return
    literal = literal_address(target.host)
    if literal is not None:
        if refused_address(literal):
            raise Invalid.field("url", REFUSED_TARGET)
        return
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, UnicodeError):
        raise Invalid.field("url", "无法解析接收地址的域名，请检查地址是否正确") from None
    for info in infos:
        address = literal_address(str(info[4][0]).split("%", 1)[0])
        if address is None or refused_address(address):
            raise Invalid.field("url", REFUSED_TARGET)


def event_body(event: DomainEvent) -> dict[str, Any]:
    """`{id, type, created_at, enterprise_id, data}`: what every delivery of the event POSTs."""
    return {
        "id": event.id,
        "type": event.type,
        "created_at": iso(event.at),
        "enterprise_id": event.enterprise_id,
        "data": event.data(),
    }


def encode_body(body: dict[str, Any]) -> bytes:
    """The exact bytes signed and sent (compact, UTF-8)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
