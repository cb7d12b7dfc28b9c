"""One-time things, remembered in the database so that every process agrees: a signed
callback (its timestamp, nonce and signature) and a captcha are each used once.

A platform that retries a callback sends the same request again; that retry is let through
(the handlers dedupe what it carries) — but only with the identical body. The same signature
with another body is a forgery riding on a seen signature (WeChat's and DingTalk's URL and
header signatures do not cover the body) and is refused."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from .errors import Forbidden

# Longer than every freshness window a callback's timestamp must fall in (DingTalk's is an
# hour): a replay older than what is remembered is already refused as stale.
REMEMBER = timedelta(hours=2)


class SeenRepo(Protocol):
    async def remember(self, scope: str, key: str, digest: str, now: datetime, until: datetime) -> str | None:
        """Stores the key; returns None the first time, else the digest stored with it."""
        ...

    async def forget_before(self, when: datetime) -> int: ...


def _hash(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


@dataclass(frozen=True)
class SeenKey:
    """A signed callback to remember once, as `SeenRepo.remember` stores it (key and body
    hashed): for stores that write it in the transaction of what the callback changes."""

    scope: str
    key: str
    digest: str
    now: datetime
    until: datetime


def callback_key(scope: str, key: str, body: bytes, now: datetime, remember: timedelta = REMEMBER) -> SeenKey:
    return SeenKey(scope, _hash(key), _hash(body), now, now + remember)


def check_seen(seen: SeenKey, stored: str | None) -> None:
    """What `remember` returned for `seen`: None (the first time) or the same body passes."""
    if stored is not None and stored != seen.digest:
        raise replayed()


def replayed() -> Forbidden:
    return Forbidden("回调签名已被使用过，拒绝重放", "replayed")


async def admit_callback(
    repo: SeenRepo, scope: str, key: str, body: bytes, now: datetime, remember: timedelta = REMEMBER
) -> None:
    """For a callback whose signature was checked: first time or an identical retry passes,
    anything else under a seen signature raises Forbidden (403)."""
    seen = callback_key(scope, key, body, now, remember)
    await admit_seen(repo, seen)


async def admit_seen(repo: SeenRepo, seen: SeenKey) -> None:
    check_seen(seen, await repo.remember(seen.scope, seen.key, seen.digest, seen.now, seen.until))


async def use_once(repo: SeenRepo, scope: str, key: str, now: datetime, until: datetime) -> bool:
    """True the first time `key` is used in `scope` (a captcha), False ever after."""
    return await repo.remember(scope, _hash(key), "", now, until) is None
