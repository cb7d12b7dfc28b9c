"""A fake API-market enterprise four-factor endpoint (APPCODE authentication, the Aliyun API
market gateway's refusal header), answering from a small registry of enterprises."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class FakeLegalRep:
    appcode: str = "fakeappcode-enterprise-0001"
    # credit code → (enterprise name, legal representative, representative's ID number)
    registry: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    quota_left: int = 1000
    calls: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/enterprise/four_factors", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        if request.headers.get("Authorization") != f"APPCODE {self.appcode}":
            return web.Response(status=403, headers={"X-Ca-Error-Message": "Invalid AppCode `not exists`"})
        if self.quota_left <= 0:
            return web.Response(status=403, headers={"X-Ca-Error-Message": "Api Market Subscription quota exhausted"})
        self.quota_left -= 1
        q = request.query
        if not all(q.get(k) for k in ("company_name", "credit_code", "legal_person", "id_card")):
            return web.json_response({"code": 400, "msg": "参数错误", "data": None})
        record = self.registry.get(q["credit_code"])
        if record is None:
            result, desc = "2", "无此企业"
        elif record == (q["company_name"], q["legal_person"], q["id_card"]):
            result, desc = "0", "一致"
        else:
            result, desc = "1", "不一致"
        return web.json_response(
            {"code": 200, "msg": "成功", "data": {"result": result, "desc": desc, "order_no": secrets.token_hex(10)}}
        )
