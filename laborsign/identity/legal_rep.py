"""Legal-representative check (法定代表人认证) through an API-marketplace enterprise four-factor
service with APPCODE authentication (the Aliyun API market style): enterprise name, unified
social credit code, legal representative's name and ID number must belong together.

Request: `GET {base}/enterprise/four_factors?company_name=&credit_code=&legal_person=&id_card=`
with `Authorization: APPCODE <code>`. Answer: `{"code": 200, "msg": "成功", "data": {"result":
"0"|"1"|"2", "order_no": "...", "desc": "..."}}` — 0 all consistent, 1 inconsistent (checked),
2 no such enterprise on record (checked). A gateway refusal (403 with X-Ca-Error-Message,
wrong APPCODE or quota used up), another code or an unreadable answer is "not checked"."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from ..core.errors import Unavailable
from ..core.verification import CheckResult

log = logging.getLogger("laborsign.identity.legal_rep")
UNAVAILABLE = "企业四要素核验服务繁忙请稍后再试"
RESULT_REASONS = {
    "1": "企业名称、统一社会信用代码、法定代表人姓名与身份证号不一致",
    "2": "未查询到该企业的工商登记信息，请核对企业名称与统一社会信用代码",
}


class AppCodeLegalRep:
    name = "appcode"

    def __init__(self, *, appcode: str, api_base_url: str, timeout: float = 10.0) -> None:
        self.appcode = appcode
        self.url = api_base_url.rstrip("/") + "/enterprise/four_factors"
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def legal_rep(
        self, enterprise_name: str, credit_code: str, name: str, id_number: str, phone: str
    ) -> CheckResult:
        params = {"company_name": enterprise_name, "credit_code": credit_code, "legal_person": name, "id_card": id_number}
        headers = {"Authorization": f"APPCODE {self.appcode}"}
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session:
                async with session.get(self.url, params=params, headers=headers) as resp:
                    status = resp.status
                    gateway = resp.headers.get("X-Ca-Error-Message", "")
                    data: Any = await resp.json(content_type=None) if status == 200 else None
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise Unavailable(UNAVAILABLE, "provider_unavailable") from exc
        if status != 200 or not isinstance(data, dict) or str(data.get("code")) != "200":
            log.warning("legal-rep check not made", extra={"status": status, "gateway": gateway[:100]})
            raise Unavailable(UNAVAILABLE, "provider_unavailable")
        body: dict[str, Any] = data["data"] if isinstance(data.get("data"), dict) else {}
        result = str(body.get("result", ""))
        ref = str(body.get("order_no", ""))
        if result == "0":
            return CheckResult(True, "", self.name, ref)
        if result in RESULT_REASONS:
            return CheckResult(False, RESULT_REASONS[result], self.name, ref)
        raise Unavailable(UNAVAILABLE, "provider_unavailable")
