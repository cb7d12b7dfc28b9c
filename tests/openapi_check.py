"""Checks a live answer of /api/v1 against the OpenAPI document the server publishes: the
status must be one the operation describes, and a JSON body must match that status's schema.
The `Api` test client runs every answer it receives through `check_answer`, so the whole
suite's traffic validates the document."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jsonschema_rs


def _document() -> dict[str, Any]:
    from laborsign.api.system import build_openapi
    from laborsign.bootstrap import api_route_tables
    from laborsign.config import load_config

    return build_openapi([doc for table in api_route_tables(load_config(environ={})) for doc in table.docs])


DOCUMENT = _document()


def _pattern(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\w+\})", path)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


# Literal paths first, so /contracts/counts is not taken for /contracts/{contract_id}.
_ROUTES = sorted(
    ((_pattern(path), method.upper(), path) for path, ops in DOCUMENT["paths"].items() for method in ops),
    key=lambda r: (r[2].count("{"), -len(r[2])),
)


@cache
def _validator(method: str, path: str, status: str) -> Any:
    answer = DOCUMENT["paths"][path][method.lower()]["responses"][status]
    schema = answer.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    return jsonschema_rs.validator_for({**schema, "components": DOCUMENT["components"]})


def _typed(responses: dict[str, Any]) -> bool:
    return all(
        answer.get("content", {}).get("application/json", {}).get("schema") not in ({"type": "object"}, {})
        for answer in responses.values()
    )


def operation_of(method: str, path: str) -> str | None:
    for pattern, m, documented in _ROUTES:
        if m == method.upper() and pattern.match(path):
            return documented
    return None


def check_answer(method: str, url_path: str, status: int, content_type: str, body: Any) -> None:
    path = url_path.split("?", 1)[0]
    if not path.startswith("/api/v1/") or path.startswith("/api/v1/dev/"):
        return
    documented = operation_of(method, path)
    if documented is None:
        return  # not an operation (405s, unknown paths): the 404 page is tested on its own
    responses = DOCUMENT["paths"][documented][method.lower()]["responses"]
    if not _typed(responses):
        return  # still described only as `object` (test_openapi_document lists those)
    assert str(status) in responses, (
        f"{method} {documented} answered {status}, which the OpenAPI document does not describe "
        f"(it says {sorted(responses)}): {body!r:.300}"
    )
    if content_type != "application/json":
        return
    validator = _validator(method, documented, str(status))
    if validator is None:
        return
    errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, f"{method} {documented} {status} does not match its schema:\n" + "\n".join(errors[:10])
