"""Abuse budgets: how often something that costs money or wakes people (an SMS code, an
invitation, a reminder, a paid identity check) may happen for one subject (a client address,
a person, an enterprise, everyone).

A budget is a bucket of `limit` that refills evenly over `period` (the generic cell rate
algorithm): a burst of `limit` is allowed at once, then one more every period / limit. Its
whole state is one time per subject — when the bucket will be full again — so spending is a
compare-and-set of one row, safe with every process sharing the database, and a refusal
says exactly when to come back (`retry_after`)."""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from .errors import RateLimited

SWAP_TRIES = 8  # concurrent spenders of one budget retry their compare-and-set this often


@dataclass(frozen=True)
class Budget:
    name: str
    limit: int
    period: timedelta
    message: str  # the 429's Chinese message
    code: str = "rate_limited"

    def refuse(self, wait: timedelta) -> RateLimited:
        return RateLimited(self.message, math.ceil(wait.total_seconds()), self.code)

    def next_full(self, full_at: datetime | None, now: datetime, cost: int = 1) -> datetime:
        """When the bucket is full again after spending `cost` now; raises RateLimited (with
        the wait) when the bucket does not hold that much."""
        if self.limit <= 0 or cost > self.limit:
            raise self.refuse(self.period)
        interval = self.period / self.limit
        after = max(full_at or now, now) + interval * cost
        if after - now > self.period:
            raise self.refuse(after - self.period - now)
        return after

    def key(self, subject: str) -> str:
        """The stored key: readable when short, hashed when the subject is long."""
        if len(subject) > 120:
            subject = hashlib.sha256(subject.encode()).hexdigest()
        return f"{self.name}:{subject}"


class BudgetRepo(Protocol):
    async def full_at(self, key: str) -> datetime | None: ...
    async def swap(self, key: str, old: datetime | None, new: datetime) -> bool: ...
    async def forget_full_before(self, when: datetime) -> int: ...


async def spend(repo: BudgetRepo, budget: Budget, subject: str, now: datetime, cost: int = 1) -> None:
    """Takes `cost` from the subject's bucket inside the caller's transaction (refused as a
    whole when the caller does not commit), or raises RateLimited."""
    key = budget.key(subject)
    for _ in range(SWAP_TRIES):
        full_at = await repo.full_at(key)
        after = budget.next_full(full_at, now, cost)
        if await repo.swap(key, full_at, after):
            return
    raise budget.refuse(timedelta(seconds=1))  # spent by others meanwhile: come back in a second


def client_subject(address: str) -> str:
    """What counts as one client: an IPv4 address, or an IPv6 /64 (one subscriber's network —
    anyone holding one can use 2^64 addresses)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(frozen=True)
class Limits:
    """Every budget of the service, from the `[security]` settings."""

    sms_free_per_client: Budget  # codes before a captcha is needed
    sms_per_client: Budget
    sms_global: Budget
    sms_per_user: Budget
    captchas_per_client: Budget
    invites_per_enterprise: Budget
    reminders_per_enterprise: Budget
    verifications_per_user: Budget

    @classmethod
    def from_settings(cls, s: LimitSettings) -> Limits:
        hour, day = timedelta(hours=1), timedelta(days=1)
        busy = "请求过于频繁，请稍后再试"
        return cls(
            sms_free_per_client=Budget(
                "sms_free_ip", s.sms_codes_per_ip_before_captcha, timedelta(minutes=10), "请先完成图形验证码",
                "captcha_required",
            ),
            sms_per_client=Budget("sms_ip", s.sms_codes_per_ip_hour, hour, "当前网络获取验证码过于频繁，请稍后再试"),
            sms_global=Budget("sms_all", s.sms_codes_global_hour, hour, "验证码发送繁忙，请稍后再试"),
            sms_per_user=Budget("sms_user", s.sms_codes_per_user_hour, hour, "获取验证码过于频繁，请稍后再试"),
            captchas_per_client=Budget("captcha_ip", 2 * s.sms_codes_per_ip_hour, hour, busy),
            invites_per_enterprise=Budget(
                "invites", s.sms_invites_per_enterprise_day, day, "今日发送的邀请短信已达上限，请明天再试"
            ),
            reminders_per_enterprise=Budget(
                "reminders", s.reminders_per_enterprise_day, day, "今日发送的催签提醒已达上限，请明天再试"
            ),
            verifications_per_user=Budget(
                "verifications", s.verifications_per_user_day, day, "今日认证次数已达上限，请明天再试"
            ),
        )  # fmt: skip


class LimitSettings(Protocol):
    @property
    def sms_codes_per_ip_before_captcha(self) -> int: ...
    @property
    def sms_codes_per_ip_hour(self) -> int: ...
    @property
    def sms_codes_global_hour(self) -> int: ...
    @property
    def sms_codes_per_user_hour(self) -> int: ...
    @property
    def sms_invites_per_enterprise_day(self) -> int: ...
    @property
    def reminders_per_enterprise_day(self) -> int: ...
    @property
    def verifications_per_user_day(self) -> int: ...
