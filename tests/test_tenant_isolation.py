"""Walks every enterprise-scoped route that takes an id with another enterprise's id: 404."""

from __future__ import annotations

import re
from typing import Any

from laborsign.api.system import OPENAPI_DOCS
from laborsign.core.clock import FakeClock
from tests.conftest import Api
from tests.tenancy import FOREIGN, NOT_AN_ID

B_CREDIT = "91440101MA59ABCD0A"


async def test_foreign_ids_are_404_everywhere(api: Api, make_api: Any, client: Any, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    b = await make_api()
    await b.register_enterprise(clock, phone="13900139000", name="乙方企业有限公司", credit_code=B_CREDIT)

    routes = [
        d
        for d in client.app[OPENAPI_DOCS]
        if d.auth == "enterprise" and "{" in d.path and d.path not in NOT_AN_ID
    ]
    assert routes, "no enterprise-scoped routes with ids?"
    missing = sorted({d.path for d in routes} - set(FOREIGN))
    assert not missing, f"register a factory in tests/tenancy.py for: {missing}"

    for doc in routes:
        params = await FOREIGN[doc.path](b, clock)
        path = re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m, p=params: p[m.group(1)], doc.path)
        body: Any = {} if doc.method in ("POST", "PUT", "PATCH") else None
        answer = await api.call(doc.method, path, json=body)
        assert api.last_status == 404, (
            f"{doc.method} {doc.path} with a foreign id → {api.last_status} {answer!r}"
        )
        assert answer["error"].endswith("not_found") or answer["error"] == "not_found", answer
        # B still sees its own object where the route reads it.
        if doc.method == "GET":
            await b.call("GET", path, expect=200)
