"""The Chinese labels of core's codes, handed to the pages once: as the ES module
`/static/<build>/js/labels.js` for page scripts and as the Jinja global `labels` for markup.
Core's own tables are the only source; nothing here spells a label."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import TypeVar

from ..bots.channels import registry
from ..core.accounts import (
    ORG_TYPE_LABELS,
    PERMISSION_LABELS,
    PLATFORM_ROLE_LABELS,
    ROLE_LABELS,
)
from ..core.contracts import CONTRACT_STATUS_LABELS, PARTY_STATUS_LABELS, SEAL_TYPE_LABELS
from ..core.events import EVENT_TYPE_LABELS
from ..core.identity_rules import ID_TYPE_LABELS
from ..core.labor_law import ALERT_KIND_LABELS, CONTROL_PRESETS, REASON_TYPE_LABELS, TERM_TYPE_LABELS
from ..core.notices import NOTICE_KIND_LABELS
from ..core.onboarding import GENDERS, ONBOARDING_STATUS_LABELS, RELATIONS
from ..core.outbox import CHANNEL_LABELS, OUTBOX_STATUS_LABELS
from ..core.roster import EMPLOYEE_STATUS_LABELS
from ..core.signing import INTENT_METHOD_LABELS
from ..core.templates import CONTROL_KIND_LABELS, FILLED_BY_LABELS, TEMPLATE_TYPES
from ..core.verification import (
    ENTERPRISE_METHOD_LABELS,
    ENTERPRISE_STATUS_LABELS,
    PERSON_METHOD_LABELS,
)

Code = TypeVar("Code", bound=str)


def _codes(table: Mapping[Code, str]) -> dict[str, str]:
    return {str(code): label for code, label in table.items()}


@cache
def label_tables() -> dict[str, dict[str, str] | list[str]]:
    """Name in the pages → core's table (insertion order kept: pages list options in it)."""
    return {
        "ROLE": _codes(ROLE_LABELS),
        "PLATFORM_ROLE": _codes(PLATFORM_ROLE_LABELS),
        "PERMISSIONS": _codes(PERMISSION_LABELS),
        "ORG_TYPES": _codes(ORG_TYPE_LABELS),
        "ENTERPRISE_STATUS": _codes(ENTERPRISE_STATUS_LABELS),
        "ENTERPRISE_METHODS": _codes(ENTERPRISE_METHOD_LABELS),
        "PERSON_METHODS": _codes(PERSON_METHOD_LABELS),
        "ID_TYPES": _codes(ID_TYPE_LABELS),
        "GENDERS": _codes(GENDERS),
        "RELATIONS": list(RELATIONS),
        "TEMPLATE_TYPES": _codes(TEMPLATE_TYPES),
        "CONTROL_KINDS": _codes(CONTROL_KIND_LABELS),
        "FILLED_BY": _codes(FILLED_BY_LABELS),
        "CONTRACT_STATUS": _codes(CONTRACT_STATUS_LABELS),
        "PARTY_STATUS": _codes(PARTY_STATUS_LABELS),
        "SEAL_TYPES": _codes(SEAL_TYPE_LABELS),
        "INTENT_METHODS": _codes(INTENT_METHOD_LABELS),
        "EMPLOYEE_STATUS": _codes(EMPLOYEE_STATUS_LABELS),
        "ONBOARDING_STATUS": _codes(ONBOARDING_STATUS_LABELS),
        "CHANNELS": {**_codes(CHANNEL_LABELS), **registry.labels()},
        "OUTBOX_STATUS": _codes(OUTBOX_STATUS_LABELS),
        "WEBHOOK_EVENTS": _codes(EVENT_TYPE_LABELS),
        "TERM_TYPES": _codes(TERM_TYPE_LABELS),
        "ALERT_KINDS": _codes(ALERT_KIND_LABELS),
        "RESIGN_REASON_TYPES": _codes(REASON_TYPE_LABELS),
        # label → "key|kind|label,…": the controls a designer preset places
        "CONTROL_PRESETS": {name: ",".join("|".join(c) for c in items) for name, items in CONTROL_PRESETS},
        "NOTICE_KINDS": _codes(NOTICE_KIND_LABELS),
    }


@cache
def labels_module() -> str:
    lines = ["// Generated at start-up from the label tables in laborsign/core (web/labels.py)."]
    for name, table in label_tables().items():
        lines.append(f"export const {name} = Object.freeze({json.dumps(table, ensure_ascii=False)});")
    return "\n".join(lines) + "\n"
