"""Opaque, time-ordered identifiers (sortable, index-friendly on PostgreSQL)."""

from __future__ import annotations

import os
import time


def new_id() -> str:
    """48-bit millisecond time + 80 random bits, as 32 lowercase hex characters."""
    millis = time.time_ns() // 1_000_000
    return f"{millis:012x}{os.urandom(10).hex()}"
