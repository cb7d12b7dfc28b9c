"""Maps every domain class onto its table, once per process."""

from __future__ import annotations

from .accounts import map_accounts
from .chat import map_chat
from .contracts import map_contracts
from .integrations import map_integrations
from .labor import map_labor
from .notices import map_notices
from .outbox import map_outbox
from .roster import map_roster
from .templates import map_templates
from .verification import map_verification

_done = False


def map_all() -> None:
    global _done
    if _done:
        return
    _done = True
    map_accounts()
    map_outbox()
    map_templates()
    map_verification()
    map_roster()
    map_contracts()
    map_labor()
    map_chat()
    map_integrations()
    map_notices()
