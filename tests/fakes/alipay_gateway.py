"""A fake Alipay open-platform gateway (`/gateway.do`) speaking the real protocol: every request's
RSA2 signature (SHA256withRSA over the sorted `key=value` pairs of all parameters but `sign`)
is checked with the application's public key, and every answer is
`{"<method>_response": {...}, "sign": "..."}` signed with the gateway's own key, so the SDK's
answer check passes only for a genuine answer. Methods: alipay.user.certify.open.initialize /
query (face) and zhima.customer.ep.certification.initialize / query (enterprise); the
`certify` pages are where the person would be; tests finish a session with `complete`.

The SDK connects on the scheme's default port whatever the gateway URL says, so the fake
listens on port 80 of a loopback address of its own (`serve`)."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def private_pem(key: rsa.RSAPrivateKey, pkcs8: bool = False) -> str:
    fmt = serialization.PrivateFormat.PKCS8 if pkcs8 else serialization.PrivateFormat.TraditionalOpenSSL
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


@dataclass
class FakeAlipay:
    app_id: str = "2021000000000001"
    app_key: rsa.RSAPrivateKey = field(default_factory=_key)  # the application's (operator's) key
    gateway_key: rsa.RSAPrivateKey = field(default_factory=_key)  # Alipay's
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    refused_signatures: int = 0
    host: str = ""

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}/gateway.do"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/gateway.do", self.handle)
        return app

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[FakeAlipay]:
        """Port 80 on a random 127.x.y.z (needs root, as CI has)."""
        runner = web.AppRunner(self.app())
        await runner.setup()
        for _ in range(20):
            host = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
            try:
                site = web.TCPSite(runner, host, 80)
                await site.start()
            except OSError as exc:
                if isinstance(exc, PermissionError):
                    await runner.cleanup()
                    raise
                continue
            self.host = host
            break
        else:
            await runner.cleanup()
            raise RuntimeError("no free loopback address for the fake Alipay gateway")
        try:
            yield self
        finally:
            await runner.cleanup()

    def complete(self, ref: str, passed: bool, reason: str = "") -> None:
        self.sessions[ref]["result"] = (passed, reason)

    # --- protocol ----------------------------------------------------------------------------

    def _verify(self, params: dict[str, str]) -> bool:
        sign = params.get("sign", "")
        content = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign")
        try:
            self.app_key.public_key().verify(
                base64.b64decode(sign), content.encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except (InvalidSignature, ValueError):
            return False
        return params.get("sign_type") == "RSA2" and params.get("app_id") == self.app_id

    def _answer(self, method: str, body: dict[str, Any]) -> web.Response:
        inner = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        signature = self.gateway_key.sign(inner.encode(), padding.PKCS1v15(), hashes.SHA256())
        name = method.replace(".", "_") + "_response"
        text = f'{{"{name}":{inner},"sign":"{base64.b64encode(signature).decode()}"}}'
        return web.Response(text=text, content_type="application/json", charset="utf-8")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        params = dict(request.query)
        if request.method == "POST":
            params.update(parse_qsl((await request.read()).decode(), keep_blank_values=True))
        method = params.get("method", "")
        if not self._verify(params):
            self.refused_signatures += 1
            return self._answer(
                method, {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature", "sub_msg": "验签出错"}
            )
        biz = json.loads(params.get("biz_content") or "{}")
        self.calls.append({"method": method, **biz})
        if method.endswith(".certify"):
            return web.Response(text="<html><body>支付宝认证页（测试）</body></html>", content_type="text/html")
        handler = {
            "alipay.user.certify.open.initialize": self._face_initialize,
            "alipay.user.certify.open.query": self._face_query,
            "zhima.customer.ep.certification.initialize": self._ep_initialize,
            "zhima.customer.ep.certification.query": self._ep_query,
        }.get(method)
        if handler is None:
            return self._answer(method, {"code": "40004", "msg": "Business Failed", "sub_code": "isv.invalid-method"})
        await asyncio.sleep(0)
        return self._answer(method, handler(biz))

    def _failed(self, sub_code: str, sub_msg: str) -> dict[str, Any]:
        return {"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg}

    def _face_initialize(self, biz: dict[str, Any]) -> dict[str, Any]:
        identity = biz.get("identity_param") or {}
        if biz.get("biz_code") != "FACE" or not identity.get("cert_no") or not identity.get("cert_name"):
            return self._failed("MISSING_PARAMS", "参数缺失")
        certify_id = secrets.token_hex(16)
        self.sessions[certify_id] = {"biz": biz, "result": None}
        return {"code": "10000", "msg": "Success", "certify_id": certify_id}

    def _face_query(self, biz: dict[str, Any]) -> dict[str, Any]:
        session = self.sessions.get(str(biz.get("certify_id")))
        if session is None:
            return self._failed("CERTIFY_ID_INVALID", "认证单据不存在")
        passed, reason = session["result"] or (False, "")
        out: dict[str, Any] = {"code": "10000", "msg": "Success", "passed": "T" if passed else "F"}
        if not passed:
            out["fail_reason"] = reason or "认证未完成"
        return out

    def _ep_initialize(self, biz: dict[str, Any]) -> dict[str, Any]:
        identity = biz.get("identity_param") or {}
        if not identity.get("ep_cert_no") or not identity.get("ep_name"):
            return self._failed("MISSING_PARAMS", "参数缺失")
        biz_no = "ZM" + secrets.token_hex(12)
        self.sessions[biz_no] = {"biz": biz, "result": None}
        return {"code": "10000", "msg": "Success", "biz_no": biz_no}

    def _ep_query(self, biz: dict[str, Any]) -> dict[str, Any]:
        session = self.sessions.get(str(biz.get("biz_no")))
        if session is None:
            return self._failed("BIZ_NO_INVALID", "认证单据不存在")
        passed, reason = session["result"] or (False, "")
        out: dict[str, Any] = {"code": "10000", "msg": "Success", "passed": "true" if passed else "false"}
        if not passed:
            out["failed_reason"] = reason or "认证未完成"
        return out
