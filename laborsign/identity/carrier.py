"""Carrier three-factor check (运营商三要素) through an API-marketplace provider using APPCODE
authentication (the common Aliyun API market style, e.g. `/mobile/verify_real_name`).

Request: `GET {base}/mobile/verify_real_name?name=&idcard=&mobile=` with
`Authorization: APPCODE <code>`. Answer: `{"code": 200, "success": true, "msg": "成功",
"data": {"result": "0"|"1"|"2", "order_no": "...", "desc": "..."}}` where 0 = consistent,
1 = inconsistent, 2 = no record at the carrier."""

from __future__ import annotations

from typing import Any

import aiohttp

from ..core.errors import Unavailable
from ..core.verification import CheckResult

RESULT_REASONS = {
    "1": "姓名、身份证号与手机号不一致",
    "2": "运营商无该手机号的实名信息（新开号码可能需次月才能核验）",
}


class AppCodeCarrierCheck:
    name = "appcode"

    def __init__(self, *, appcode: str, api_base_url: str, timeout: float = 10.0) -> None:
        self.appcode = appcode
        self.url = api_base_url.rstrip("/") + "/mobile/verify_real_name"
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def carrier3(self, name: str, id_number: str, phone: str) -> CheckResult:
        params = {"name": name, "idcard": id_number, "mobile": phone}
        headers = {"Authorization": f"APPCODE {self.appcode}"}
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session:
                async with session.get(self.url, params=params, headers=headers) as resp:
                    status = resp.status
                    data: Any = await resp.json(content_type=None) if status == 200 else None
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise Unavailable(
                "运营商核验服务暂不可用，请稍后再试或选择其他认证方式", "provider_unavailable"
            ) from exc
        if status != 200 or not isinstance(data, dict) or str(data.get("code")) != "200":
            raise Unavailable("运营商核验服务暂不可用，请稍后再试或选择其他认证方式", "provider_unavailable")
        body = data.get("data") or {}
        result = str(body.get("result", ""))
        ref = str(body.get("order_no", ""))
        if result == "0":
            return CheckResult(True, "", self.name, ref)
        return CheckResult(False, RESULT_REASONS.get(result, "运营商核验未通过"), self.name, ref)
