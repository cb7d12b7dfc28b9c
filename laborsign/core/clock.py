"""Time is injected so that rules about expiry and intervals are tested by moving a clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Protocol, overload

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 27, 2, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


def china_time(when: datetime) -> datetime:
    return when.astimezone(CHINA_TZ)


def china_text(when: datetime | None, *, seconds: bool = False, empty: str = "") -> str:
    """A time as a person reads it: Beijing time, "2026-12-02 03:56" (naive values are UTC).
    The one server-side formatter; the pages' formatTime (web/static/js/ui.js) matches it."""
    if when is None:
        return empty
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return china_time(when).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


@overload
def iso(when: datetime) -> str: ...
@overload
def iso(when: None) -> None: ...
@overload
def iso(when: datetime | None) -> str | None: ...
def iso(when: datetime | None) -> str | None:
    """ISO 8601 with the China offset, as the API shows times."""
    return None if when is None else china_time(when).isoformat(timespec="seconds")
