"""Keyset cursors for lists ordered newest first by (created_at, id).

A cursor names the last row of a page; the next page starts strictly after it, so rows added
meanwhile neither repeat nor push others off the page (an offset would do both)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from .errors import Invalid

MAX_CURSOR = 200


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: str

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str | None) -> Cursor | None:
        if not token:
            return None
        try:
            if len(token) > MAX_CURSOR:
                raise ValueError
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            at, _, row_id = raw.partition("|")
            when = datetime.fromisoformat(at)
            if when.tzinfo is None or not row_id or len(row_id) > 64:
                raise ValueError
        except ValueError:
            raise Invalid.field("cursor", "分页游标无效，请从第一页重新加载") from None
        return cls(when, row_id)


class Keyed(Protocol):
    created_at: datetime
    id: str


def next_cursor(rows: Sequence[Keyed], more: bool) -> str | None:
    """The cursor after the page's last row when rows remain beyond it."""
    if not rows or not more:
        return None
    return Cursor(rows[-1].created_at, rows[-1].id).encode()


MAX_QUERY = 50


def search_text(raw: str | None) -> str | None:
    """The search box's text, trimmed; None when empty."""
    text = (raw or "").strip()[:MAX_QUERY]
    return text or None


def looks_like_id_number(text: str) -> bool:
    """Worth a blind-index lookup: ID numbers, permits and passports are 8–18 letters/digits."""
    return 8 <= len(text) <= 18 and text.isascii() and text.isalnum()


# A filtered list counts its matches up to this many (a count is a scan of every match); past
# it the total says "more than" (total_exact false) and the pager shows 10000+.
COUNT_BOUND = 10_000


class Total(int):
    """A list's total; `exact` False when more than this many matched (counted up to a bound)."""

    exact: bool

    def __new__(cls, value: int, exact: bool = True) -> Total:
        made = super().__new__(cls, value)
        made.exact = exact
        return made

    @classmethod
    def bounded(cls, counted: int, bound: int | None) -> Total:
        """From a count of at most bound + 1 matches."""
        if bound is not None and counted > bound:
            return cls(bound, exact=False)
        return cls(counted)
