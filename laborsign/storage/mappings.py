"""Maps every domain class onto its table, once per process."""

from __future__ import annotations

from .accounts import map_accounts
from .outbox import map_outbox
from .templates import map_templates

_done = False


def map_all() -> None:
    global _done
    if _done:
        return
    _done = True
    map_accounts()
    map_outbox()
    map_templates()
