"""The chat channels this build knows: one line each. Everything else (config sections, senders,
rate limits, labels, webhook routes, who uses a channel) is found through these adapters."""

from __future__ import annotations

import importlib
from typing import Any

from .base import ChannelAdapter

# The modules under bots/channels/, each with its ADAPTER; the order is the pages' order.
CHANNELS = (
    "wechat",
    "wecom",
    "dingtalk",
    "feishu",
)

ADAPTERS: tuple[ChannelAdapter[Any], ...] = tuple(
    importlib.import_module(f"{__package__}.{name}").ADAPTER for name in CHANNELS
)

BY_NAME: dict[str, ChannelAdapter[Any]] = {adapter.name: adapter for adapter in ADAPTERS}


def adapter(name: str) -> ChannelAdapter[Any] | None:
    return BY_NAME.get(name)


def labels() -> dict[str, str]:
    return {a.name: a.label for a in ADAPTERS}


def worker_facing() -> tuple[str, ...]:
    return tuple(a.name for a in ADAPTERS if a.worker_facing)


def hr_facing() -> tuple[str, ...]:
    return tuple(a.name for a in ADAPTERS if a.hr_facing)


def hr_only() -> tuple[str, ...]:
    return tuple(a.name for a in ADAPTERS if a.hr_facing and not a.worker_facing)
