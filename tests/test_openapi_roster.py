"""The roster, onboarding, home-page, chat and integrator operations publish their codes as the
enums core uses, their optional values as nullable, and the conflicts they can answer."""

from __future__ import annotations

from typing import Any

from laborsign.core.contracts import ContractStatus
from laborsign.core.events import EVENT_TYPES
from laborsign.core.onboarding import OnboardingStatus
from laborsign.core.outbox import Channel, OutboxStatus
from laborsign.core.roster import EmployeeStatus, InvitationStatus
from tests.openapi_check import DOCUMENT

SCHEMAS = DOCUMENT["components"]["schemas"]


def _answer(method: str, path: str, status: str = "200") -> dict[str, Any]:
    schema: dict[str, Any] = DOCUMENT["paths"][path][method]["responses"][status]["content"][
        "application/json"
    ]["schema"]
    return schema


def _nullable(prop: dict[str, Any]) -> bool:
    return {"type": "null"} in prop.get("anyOf", [])


def test_roster_codes_are_core_enums() -> None:
    employee = SCHEMAS["EmployeeOut"]["properties"]
    assert employee["status"]["enum"] == [s.value for s in EmployeeStatus]
    assert _nullable(employee["hire_date"]) and _nullable(employee["resigned_at"])
    assert SCHEMAS["OnboardingRecordOut"]["properties"]["status"]["enum"] == [
        s.value for s in OnboardingStatus
    ]
    invitation = _answer("post", "/api/v1/invitations", "201")
    assert invitation["properties"]["status"]["enum"] == [s.value for s in InvitationStatus]
    # the worker's own record carries the full ID number; the enterprise's view never does
    assert "id_number" in SCHEMAS["OwnOnboardingRecordOut"]["required"]
    assert "id_number" not in SCHEMAS["OnboardingRecordOut"]["properties"]


def test_wrong_state_answers_are_described() -> None:
    for method, path in [
        ("post", "/api/v1/onboarding/{id}/approve"),
        ("post", "/api/v1/employees/{id}/resignation"),
        ("delete", "/api/v1/departments/{id}"),
        ("post", "/api/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver"),
    ]:
        assert "409" in DOCUMENT["paths"][path][method]["responses"], f"{method} {path}"


def test_summary_counts_every_contract_status() -> None:
    by_status = _answer("get", "/api/v1/dashboard/summary")["properties"]["by_status"]["anyOf"][0]
    assert by_status["required"] == [s.value for s in ContractStatus]


def test_chat_and_webhook_codes_are_core_enums() -> None:
    from laborsign.bots.channels import registry

    channels = SCHEMAS["DeadLetterOut"]["properties"]["channel"]["enum"]
    assert channels == [c.value for c in Channel] + list(registry.CHANNELS)
    delivery = SCHEMAS["DeliveryOut"]["properties"]
    assert delivery["type"]["enum"] == list(EVENT_TYPES)
    assert delivery["status"]["enum"] == [s.value for s in OutboxStatus]
