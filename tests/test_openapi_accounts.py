"""What the OpenAPI document says about accounts, real-name verification and the callbacks: the
codes a client meets are the enums of core's tables, and the keys it can rely on are required.
(Live answers of these operations are checked against the document by every API test.)"""

from __future__ import annotations

from typing import Any

from tests.openapi_check import DOCUMENT


def _schema(name: str) -> dict[str, Any]:
    return DOCUMENT["components"]["schemas"][name]


def _answer(method: str, path: str, status: str = "200") -> dict[str, Any]:
    content = DOCUMENT["paths"][path][method]["responses"][status]["content"]
    return next(iter(content.values()))["schema"]


def _enum(prop: dict[str, Any]) -> list[str]:
    for part in [prop, *prop.get("anyOf", [])]:
        if "enum" in part:
            return part["enum"]
        if part.get("type") == "array":
            return _enum(part["items"])
    raise AssertionError(f"no enum in {prop}")


def test_member_and_enterprise_codes_are_core_enums() -> None:
    from laborsign.core.accounts import MemberStatus, OrgType, Permission, Role
    from laborsign.core.verification import EnterpriseStatus

    member = _schema("MemberOut")
    assert _enum(member["properties"]["status"]) == [s.value for s in MemberStatus]
    assert _enum(member["properties"]["role"]) == [r.value for r in Role]
    assert _enum(member["properties"]["permissions"]) == [p.value for p in Permission]
    assert "last_login_at" in member["required"]  # null until the first login, never absent
    enterprise = _schema("EnterpriseOut")
    assert _enum(enterprise["properties"]["org_type"]) == [o.value for o in OrgType]
    assert _enum(enterprise["properties"]["verification_status"]) == [s.value for s in EnterpriseStatus]


def test_verification_codes_are_core_enums_and_method_keys_optional() -> None:
    from laborsign.core.identity_rules import IdType
    from laborsign.core.verification import AttemptStatus, EnterpriseMethod, PersonMethod, PersonStatus

    person = _schema("PersonVerificationOut")
    assert _enum(person["properties"]["status"]) == [s.value for s in PersonStatus]
    assert _enum(person["properties"]["method"]) == [m.value for m in PersonMethod]
    assert _enum(person["properties"]["id_type"]) == [t.value for t in IdType]
    assert person["properties"]["created_at"]["format"] == "date-time"
    assert "redirect_url" not in person["required"] and "completed_at" in person["required"]
    attempt = _schema("EnterpriseAttemptOut")
    assert _enum(attempt["properties"]["method"]) == [m.value for m in EnterpriseMethod]
    assert _enum(attempt["properties"]["status"]) == [s.value for s in AttemptStatus]
    assert "attempts_left" not in attempt["required"]  # only for a corporate payment


def test_me_and_login_answers_are_described() -> None:
    me = _answer("get", "/api/v1/me")
    assert set(me["required"]) == {"user", "side", "enterprise", "member", "enterprises", "csrf"}
    assert "integrator" in _enum(me["properties"]["side"])
    login = DOCUMENT["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert {"200", "401", "422", "429"} <= set(login)
    sms = DOCUMENT["paths"]["/api/v1/sms/codes"]["post"]["responses"]
    assert {"202", "428", "429"} <= set(sms)


def test_provider_outage_and_callbacks_are_described() -> None:
    started = DOCUMENT["paths"]["/api/v1/me/verifications"]["post"]["responses"]
    assert {"201", "409", "429", "503"} <= set(started)
    callback = _answer("post", "/webhooks/identity/{provider}")
    assert callback["required"] == ["ok", "status"]
    assert DOCUMENT["paths"]["/healthz"]["get"]["responses"]["503"]["content"]["application/json"][
        "schema"
    ] == {"$ref": "#/components/schemas/Error"}
