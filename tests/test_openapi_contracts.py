"""What the OpenAPI document publishes for contracts, signing, templates and the labor-law
assistant: codes as the enums of core's own tables, nullable and optional keys as such, days and
times with their formats. (Live answers are checked against the same document by every API test,
tests/openapi_check.py.)"""

from __future__ import annotations

from typing import Any

from laborsign.core.contracts import ContractStatus, PartyStatus, SigningOrder
from laborsign.core.labor_law import TermType
from laborsign.core.signing import IntentStatus, SessionStatus
from laborsign.core.templates import TEMPLATE_TYPES, ControlKind
from tests.openapi_check import DOCUMENT

SCHEMAS = DOCUMENT["components"]["schemas"]


def _answer(method: str, path: str, status: str) -> dict[str, Any]:
    schema: dict[str, Any] = DOCUMENT["paths"][path][method]["responses"][status]["content"][
        "application/json"
    ]["schema"]
    return schema


def _nullable(prop: dict[str, Any]) -> bool:
    return {"type": "null"} in prop.get("anyOf", [])


def test_contract_codes_are_core_enums_and_times_are_formatted() -> None:
    contract = SCHEMAS["ContractOut"]
    props = contract["properties"]
    assert props["status"]["enum"] == [s.value for s in ContractStatus]
    assert props["signing_order"]["enum"] == [s.value for s in SigningOrder]
    assert SCHEMAS["PartyOut"]["properties"]["status"]["enum"] == [s.value for s in PartyStatus]
    assert props["created_at"]["format"] == "date-time"
    assert _nullable(props["completed_at"]) and not _nullable(props["created_at"])
    assert {"id", "status", "parties", "awaiting_me", "signing_order"} <= set(contract["required"])
    page = _answer("get", "/api/v1/contracts", "200")
    assert page["properties"]["items"]["items"] == {"$ref": "#/components/schemas/ContractOut"}


def test_the_enterprise_detail_carries_the_labor_term_with_days_and_money() -> None:
    detail = _answer("get", "/api/v1/contracts/{id}", "200")
    assert "signer_refusal" not in detail["required"]  # only while an identity refusal stands
    assert {"term", "controls", "enterprise_party", "template_ids"} <= set(detail["required"])
    term = SCHEMAS["LaborTermOut"]["properties"]
    type_enum = next(p for p in term["type"]["anyOf"] if "enum" in p)["enum"]
    assert type_enum == [t.value for t in TermType]
    assert next(p for p in term["end_date"]["anyOf"] if "format" in p)["format"] == "date"
    assert "pattern" in next(p for p in term["monthly_wage"]["anyOf"] if p.get("type") == "string")


def test_signing_templates_and_errors() -> None:
    session = _answer("post", "/api/v1/signing-sessions", "201")
    assert session["properties"]["status"]["enum"] == [s.value for s in SessionStatus]
    assert SCHEMAS["IntentOut"]["properties"]["status"]["enum"] == [s.value for s in IntentStatus]
    assert "phone_masked" not in SCHEMAS["IntentOut"]["required"]  # SMS only
    template = SCHEMAS["TemplateOut"]["properties"]
    assert template["type"]["enum"] == list(TEMPLATE_TYPES)
    assert SCHEMAS["TemplateControlOut"]["properties"]["kind"]["enum"] == [k.value for k in ControlKind]
    # A wrong state is a described answer of the operations that can meet one.
    for method, path in [
        ("post", "/api/v1/contracts/{id}/withdraw"),
        ("post", "/api/v1/contracts/{id}/remind"),
        ("post", "/api/v1/templates/{id}/enable"),
        ("post", "/api/v1/signing-sessions/{id}/confirm"),
    ]:
        assert "409" in DOCUMENT["paths"][path][method]["responses"], path
    assert "429" in DOCUMENT["paths"]["/api/v1/signing-sessions/{id}/code"]["post"]["responses"]
