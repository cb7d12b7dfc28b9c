"""Factories that create, as enterprise B, the object behind each enterprise-scoped route with
an id in its path. The isolation test calls every such route as enterprise A with B's ids and
expects 404. A new enterprise-scoped route with a path id must register a factory here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from laborsign.core.clock import FakeClock
from tests.conftest import Api

Factory = Callable[[Api, FakeClock], Awaitable[dict[str, str]]]
FOREIGN: dict[str, Factory] = {}


def foreign(*paths: str) -> Callable[[Factory], Factory]:
    def register(fn: Factory) -> Factory:
        for path in paths:
            FOREIGN[path] = fn
        return fn

    return register


@foreign("/api/v1/api-keys/{id}")
async def api_key(b: Api, clock: FakeClock) -> dict[str, str]:
    key = await b.post("/api/v1/api-keys", {"name": "B的密钥"}, expect=201)
    return {"id": key["id"]}


@foreign(
    "/api/v1/templates/{id}",
    "/api/v1/templates/{id}/controls",
    "/api/v1/templates/{id}/enable",
    "/api/v1/templates/{id}/disable",
    "/api/v1/templates/{id}/files/{file}.pdf",
    "/api/v1/templates/{id}/files/{file}/pages/{page}.png",
)
async def template(b: Api, clock: FakeClock) -> dict[str, str]:
    from tests.test_templates import upload

    created = await upload(b, name="B的模板")
    return {"id": created["id"], "file": "0", "page": "1"}
