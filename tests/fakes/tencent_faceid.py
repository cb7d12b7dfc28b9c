"""A fake Tencent Cloud FaceID API 3.0 endpoint: checks the TC3-HMAC-SHA256 signature the way
the real gateway does, and answers DetectAuth / GetDetectInfoEnhanced in the real shapes."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web


def _error(code: str, message: str) -> web.Response:
    return web.json_response(
        {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": secrets.token_hex(8)}}
    )


@dataclass
class FakeFaceId:
    secret_id: str = "AKIDfake0000000000000000000000000000"
    secret_key: str = "fake-secret-key-000000000000000000"
    rule_id: str = "1"
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/", self.handle)
        return app

    def complete(self, token: str, passed: bool) -> None:
        self.sessions[token]["result"] = passed

    def _signature_ok(self, request: web.Request, payload: bytes) -> bool:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("TC3-HMAC-SHA256 "):
            return False
        parts = dict(p.strip().split("=", 1) for p in auth[len("TC3-HMAC-SHA256 ") :].split(","))
        credential = parts.get("Credential", "").split("/")
        if len(credential) != 4 or credential[0] != self.secret_id or credential[3] != "tc3_request":
            return False
        date, service = credential[1], credential[2]
        timestamp = int(request.headers.get("X-TC-Timestamp", "0"))
        if datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d") != date:
            return False
        signed = parts.get("SignedHeaders", "").split(";")
        canonical_headers = "".join(
            f"{name}:{request.headers.get(name, '').strip().lower() if name == 'x-tc-action' else request.headers.get(name, '').strip()}\n"
            for name in signed
        )
        canonical = (
            f"POST\n/\n\n{canonical_headers}\n{';'.join(signed)}\n{hashlib.sha256(payload).hexdigest()}"
        )
        scope = f"{date}/{service}/tc3_request"
        to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        k = hmac.new(("TC3" + self.secret_key).encode(), date.encode(), hashlib.sha256).digest()
        k = hmac.new(k, service.encode(), hashlib.sha256).digest()
        k = hmac.new(k, b"tc3_request", hashlib.sha256).digest()
        expected = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, parts.get("Signature", ""))

    async def handle(self, request: web.Request) -> web.Response:
        payload = await request.read()
        action = request.headers.get("X-TC-Action", "")
        if request.headers.get("X-TC-Version") != "2018-03-01":
            return _error("InvalidParameter", "version")
        if not self._signature_ok(request, payload):
            return _error("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        params = json.loads(payload)
        self.requests.append({"action": action, **params})
        if action == "DetectAuth":
            if params.get("RuleId") != self.rule_id or not params.get("IdCard") or not params.get("Name"):
                return _error("InvalidParameterValue", "RuleId/IdCard/Name")
            token = secrets.token_hex(16).upper()
            self.sessions[token] = {"params": params, "result": None}
            url = f"https://faceid.qq.com/api/auth/h5/{token}"
            return web.json_response(
                {"Response": {"Url": url, "BizToken": token, "RequestId": secrets.token_hex(8)}}
            )
        if action == "GetDetectInfoEnhanced":
            session = self.sessions.get(str(params.get("BizToken")))
            if session is None:
                return _error("InvalidParameterValue.BizTokenIllegal", "BizToken illegal")
            result = session["result"]
            text: dict[str, Any] = {"ErrCode": None, "ErrMsg": None}
            if result is not None:
                text = {
                    "ErrCode": 0 if result else 1001,
                    "ErrMsg": "成功" if result else "活体检测不通过",
                    "IdCard": session["params"]["IdCard"],
                    "Name": session["params"]["Name"],
                    "Sim": "96.40" if result else "20.10",
                    "LiveStatus": 0 if result else 1001,
                }
            return web.json_response({"Response": {"Text": text, "RequestId": secrets.token_hex(8)}})
        return _error("InvalidAction", action)
