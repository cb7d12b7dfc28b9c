"""Vendor SDKs (Aliyun, Tencent Cloud, Alipay) talk HTTP with blocking clients. Their calls run
on a small thread pool of their own, so a slow vendor neither stalls the event loop nor takes
the default executor (PDF and file work use it), and each call is given up after a timeout.
The SDK's own socket timeout is set to the same figure, so an abandoned thread ends soon."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="vendor-sdk")


class VendorTimeout(Exception):
    """The vendor did not answer in time; whether it acted is unknown."""


async def call_blocking(fn: Callable[[], T], seconds: float) -> T:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(seconds):
            return await loop.run_in_executor(_POOL, fn)
    except TimeoutError:
        raise VendorTimeout(f"no answer within {seconds:g} s") from None


def split_endpoint(url: str, default_scheme: str = "https") -> tuple[str, str]:
    """`https://host[:port]` (or a bare host) → (scheme, host[:port]) as the SDKs take them."""
    if "://" not in url:
        return default_scheme, url.strip().rstrip("/")
    parts = urlsplit(url)
    return parts.scheme, parts.netloc
