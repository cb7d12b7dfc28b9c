"""A fake Aliyun SMS (dysmsapi 2017-05-25) endpoint checking the signature the Tea SDK sends:
ACS3-HMAC-SHA256 in the Authorization header over the canonical request (method, path, sorted
query, the signed headers as they arrived, the payload hash in x-acs-content-sha256), with a
fresh x-acs-date and a nonce used once. `SendSms` answers in the real shape: HTTP 200 with
`Code` OK or an isv.* business code; HTTP 4xx for authentication and throttling."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

ALGORITHM = "ACS3-HMAC-SHA256"
MAX_SKEW = 900


def acs3_signature(secret: str, canonical_request: str) -> str:
    to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class FakeAliyunSms:
    access_key_id: str = "LTAI5tFakeAccessKey000000"
    access_key_secret: str = "fakeAccessKeySecret0000000000000"
    sign_name: str = "劳动合同签"
    templates: dict[str, str] = field(default_factory=dict)  # code → text with ${name} variables
    blacklist: set[str] = field(default_factory=set)
    next_codes: list[str] = field(default_factory=list)  # business Code (HTTP 200) for the next sends
    next_http: list[tuple[int, str]] = field(default_factory=list)  # (status, Code) for the next sends
    hang: bool = False
    garble: bool = False
    sent: list[dict[str, Any]] = field(default_factory=list)
    refused_signatures: int = 0
    nonces: set[str] = field(default_factory=set)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/", self.handle)

        async def release(app: web.Application) -> None:
            self.released.set()

        app.on_shutdown.append(release)
        return app

    def codes_for(self, phone: str) -> list[str]:
        return [m["params"]["code"] for m in self.sent if m["phone"] == phone and "code" in m["params"]]

    def signature_problem(self, request: web.Request, body: bytes) -> str:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith(ALGORITHM + " "):
            return "algorithm"
        parts = dict(p.strip().split("=", 1) for p in auth[len(ALGORITHM) + 1 :].split(",") if "=" in p)
        if parts.get("Credential") != self.access_key_id:
            return "InvalidAccessKeyId.NotFound"
        if request.headers.get("x-acs-content-sha256") != hashlib.sha256(body).hexdigest():
            return "payload hash"
        try:
            signed_at = datetime.strptime(request.headers.get("x-acs-date", ""), "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return "date"
        if abs(time.time() - signed_at.replace(tzinfo=UTC).timestamp()) > MAX_SKEW:
            return "stale date"
        nonce = request.headers.get("x-acs-signature-nonce", "")
        if not nonce or nonce in self.nonces:
            return "nonce"
        signed = parts.get("SignedHeaders", "").split(";")
        if not {"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-content-sha256"} <= set(signed):
            return "signed headers"
        query = "&".join(
            f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(request.query.items())
        )
        headers = "".join(f"{name}:{request.headers.get(name, '').strip()}\n" for name in signed)
        canonical = "\n".join(
            [request.method, request.path, query, headers, ";".join(signed), hashlib.sha256(body).hexdigest()]
        )
        if not hmac.compare_digest(acs3_signature(self.access_key_secret, canonical), parts.get("Signature", "")):
            return "SignatureDoesNotMatch"
        self.nonces.add(nonce)
        return ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        request_id = secrets.token_hex(8).upper()
        if self.hang:
            await self.released.wait()
        if self.garble:
            return web.Response(status=200, text="<html>维护中</html>", content_type="text/html")
        problem = self.signature_problem(request, body)
        if problem:
            self.refused_signatures += 1
            code = problem if problem.startswith("InvalidAccessKeyId") else "SignatureDoesNotMatch"
            return web.json_response(
                {"Code": code, "Message": f"Specified signature is not matched ({problem}).", "RequestId": request_id},
                status=404 if code.startswith("InvalidAccessKeyId") else 400,
            )
        if request.headers.get("x-acs-action") != "SendSms" or request.headers.get("x-acs-version") != "2017-05-25":
            return web.json_response({"Code": "InvalidAction.NotFound", "RequestId": request_id}, status=404)
        if self.next_http:
            status, code = self.next_http.pop(0)
            return web.json_response({"Code": code, "Message": code, "RequestId": request_id}, status=status)
        return web.json_response({**self.send(request.query), "RequestId": request_id})

    def send(self, q: Any) -> dict[str, str]:
        if self.next_codes:
            code = self.next_codes.pop(0)
            return {"Code": code, "Message": code}
        phone = q.get("PhoneNumbers", "")
        if q.get("SignName") != self.sign_name:
            return {"Code": "isv.SMS_SIGNATURE_ILLEGAL", "Message": "该账号下找不到对应签名"}
        text = self.templates.get(q.get("TemplateCode", ""))
        if text is None:
            return {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "该账号下找不到对应模板"}
        if not re.fullmatch(r"1\d{10}", phone):
            return {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "手机号码格式错误"}
        if phone in self.blacklist:
            return {"Code": "isv.BLACK_KEY_CONTROL_LIMIT", "Message": "黑名单管控"}
        try:
            params = json.loads(q.get("TemplateParam") or "{}")
        except ValueError:
            return {"Code": "isv.INVALID_JSON_PARAM", "Message": "JSON参数不合法"}
        needed = set(re.findall(r"\$\{(\w+)\}", text))
        if not needed <= set(params):
            return {"Code": "isv.TEMPLATE_MISSING_PARAMETERS", "Message": "模板缺少变量"}
        rendered = re.sub(r"\$\{(\w+)\}", lambda m: str(params[m.group(1)]), text)
        self.sent.append(
            {"phone": phone, "template": q.get("TemplateCode"), "params": params,
             "text": f"【{self.sign_name}】{rendered}", "out_id": q.get("OutId")}
        )  # fmt: skip
        return {"Code": "OK", "Message": "OK", "BizId": secrets.token_hex(10)}
