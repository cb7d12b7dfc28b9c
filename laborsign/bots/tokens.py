"""Platform access tokens shared by every process.

Chat platforms (WeChat, WeCom, DingTalk, …) each hand out one access token per app, and
fetching a new one invalidates the previous one. So the token lives in the database; a process
that finds it missing or stale takes the refresh lease, fetches, stores, and the others wait
and read it. Each channel's module (bots/channels/) says how its token is fetched."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta

import aiohttp

from ..core.ports import Deps

log = logging.getLogger("laborsign.bots.tokens")

REFRESH_MARGIN = timedelta(minutes=5)
LEASE = timedelta(seconds=30)
PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}"

Fetch = Callable[[aiohttp.ClientSession], Awaitable[tuple[str, int]]]


class TokenError(Exception):
    """The platform refused to hand out a token (wrong secret, network)."""


class SharedToken:
    def __init__(self, deps: Deps, key: str, fetch: Fetch, http: Callable[[], aiohttp.ClientSession]) -> None:
        self.deps = deps
        self.key = f"token:{key}"
        self._fetch = fetch
        self._http = http
        self._local = asyncio.Lock()

    async def get(self, stale: str | None = None) -> str:
        """A valid token; `stale` names one the platform just refused, forcing a refresh."""
        async with self._local:
            for _ in range(100):
                now = self.deps.clock.now()
                async with self.deps.uow() as uow:
                    value, expires = await uow.tokens.read(self.key)
                if value and value != stale and expires and expires - REFRESH_MARGIN > now:
                    return value
                async with self.deps.uow() as uow:
                    mine = await uow.tokens.take_lease(self.key, PROCESS_ID, now, now + LEASE)
                    await uow.commit()
                if mine:
                    try:
                        return await self._refresh(stale)
                    finally:
                        async with self.deps.uow() as uow:
                            await uow.tokens.release(self.key, PROCESS_ID)
                            await uow.commit()
                await asyncio.sleep(0.1)  # another process is refreshing: read its result
            raise TokenError(f"{self.key}: gave up waiting for the refresh lease")

    async def _refresh(self, stale: str | None) -> str:
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            value, expires = await uow.tokens.read(self.key)
        if value and value != stale and expires and expires - REFRESH_MARGIN > now:
            return value  # refreshed by another process while we took the lease
        try:
            token, expires_in = await self._fetch(self._http())
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as exc:
            raise TokenError(f"{self.key}: {exc}") from exc
        async with self.deps.uow() as uow:
            await uow.tokens.store(self.key, token, now + timedelta(seconds=expires_in))
            await uow.commit()
        log.info("access token refreshed", extra={"token_key": self.key})
        return token


TIMEOUT = aiohttp.ClientTimeout(total=10)
