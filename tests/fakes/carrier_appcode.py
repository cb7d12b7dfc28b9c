"""A fake API-market carrier three-factor endpoint (APPCODE authentication)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class FakeCarrier:
    appcode: str = "fakeappcode0123456789"
    # mobile → (name, idcard) as the carrier has it on record
    records: dict[str, tuple[str, str]] = field(default_factory=dict)
    calls: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/mobile/verify_real_name", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        if request.headers.get("Authorization") != f"APPCODE {self.appcode}":
            return web.Response(status=403, headers={"X-Ca-Error-Message": "Invalid AppCode"})
        q = request.query
        if not all(q.get(k) for k in ("name", "idcard", "mobile")):
            return web.json_response({"code": 400, "success": False, "msg": "参数错误"})
        record = self.records.get(q["mobile"])
        if record is None:
            result, desc = "2", "无记录"
        elif record == (q["name"], q["idcard"]):
            result, desc = "0", "一致"
        else:
            result, desc = "1", "不一致"
        return web.json_response(
            {
                "code": 200,
                "success": True,
                "msg": "成功",
                "data": {"result": result, "desc": desc, "order_no": secrets.token_hex(10)},
            }
        )
