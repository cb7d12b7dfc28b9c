"""The OpenAPI document says what every /api/v1 operation answers: a real schema for each JSON
answer (generated from the handlers' declared answer types), and the error statuses it can give.
Live answers are checked against it by every API test (tests/openapi_check.py) and by the
schemathesis run (tests/test_api_fuzz.py)."""

from __future__ import annotations

from typing import Any

from tests.openapi_check import DOCUMENT


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op) for path, ops in DOCUMENT["paths"].items() for method, op in ops.items()
    ]


def test_every_json_answer_has_a_real_schema() -> None:
    vague = []
    for method, path, op in _operations():
        for status, answer in op["responses"].items():
            schema = answer.get("content", {}).get("application/json", {}).get("schema")
            if schema is not None and schema in ({"type": "object"}, {}):
                vague.append(f"{method} {path} {status} [{op['tags'][0]}]")
    assert not vague, "answers described only as `object`:\n" + "\n".join(sorted(vague))


def test_every_operation_describes_its_errors() -> None:
    for method, path, op in _operations():
        errors = {s for s in op["responses"] if s.startswith(("4", "5"))}
        assert "400" in errors, f"{method} {path}"
        if op.get("security"):
            assert {"401", "403"} <= errors, f"{method} {path} needs a login but does not say 401/403"
        if "{" in path:
            assert "404" in errors, f"{method} {path} takes an id but does not say 404"
        for status in errors:
            body = op["responses"][status]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/Error"}, f"{method} {path} {status}"


def test_path_parameters_are_named_as_in_the_path() -> None:
    for method, path, op in _operations():
        named = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        in_path = {part[1:-1] for part in path.replace(".", "/").split("/") if part.startswith("{")}
        assert named == in_path, f"{method} {path}: {named} != {in_path}"


def test_status_codes_are_published_as_enums_from_core() -> None:
    from laborsign.core.notices import NoticeKind

    notice = DOCUMENT["components"]["schemas"]["NoticeOut"]
    assert notice["properties"]["kind"]["enum"] == [k.value for k in NoticeKind]
    assert set(notice["required"]) >= {"id", "kind", "text", "created_at", "read"}
