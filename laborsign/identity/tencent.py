"""Tencent Cloud FaceID (慧眼) adapter: the DetectAuth redirect flow.

`DetectAuth` opens a session and returns the H5 URL the person is sent to (or shown as a QR
code); when the person is done Tencent redirects the browser to our RedirectUrl with
`token=<BizToken>`. That redirect proves nothing by itself, so the result is always fetched
from the API with `GetDetectInfoEnhanced`, signed with TC3-HMAC-SHA256: a forged callback
naming an unknown token is refused, and one naming a real token gets the real result."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from ..core.clock import Clock
from ..core.errors import Forbidden, Unavailable, WrongState
from ..core.verification import RedirectResult, RedirectStart

SERVICE = "faceid"
VERSION = "2018-03-01"
CONTENT_TYPE = "application/json; charset=utf-8"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def tc3_authorization(
    secret_id: str,
    secret_key: str,
    host: str,
    action: str,
    payload: bytes,
    timestamp: int,
    service: str = SERVICE,
) -> str:
    """The `Authorization` header of Tencent Cloud API 3.0 (TC3-HMAC-SHA256)."""
    signed_headers = "content-type;host;x-tc-action"
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{CONTENT_TYPE}\nhost:{host}\nx-tc-action:{action.lower()}\n",
            signed_headers,
            _sha256(payload),
        ]
    )
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{_sha256(canonical.encode())}"
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"


class TencentFaceId:
    name = "tencent"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        rule_id: str,
        public_url: str,
        clock: Clock,
        api_base_url: str = "https://faceid.tencentcloudapi.com",
        region: str = "ap-guangzhou",
        timeout: float = 10.0,
    ) -> None:
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.rule_id = rule_id
        self.public_url = public_url.rstrip("/")
        self.clock = clock
        self.endpoint = api_base_url.rstrip("/") + "/"
        self.host = urlsplit(self.endpoint).netloc
        self.region = region
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(self.clock.now().timestamp())
        headers = {
            "Authorization": tc3_authorization(
                self.secret_id, self.secret_key, self.host, action, payload, timestamp
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": self.host,
            "X-TC-Action": action,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": VERSION,
            "X-TC-Region": self.region,
        }
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session:
                async with session.post(self.endpoint, data=payload, headers=headers) as resp:
                    data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise Unavailable("人脸识别服务暂不可用，请稍后再试", "provider_unavailable") from exc
        response = data.get("Response") if isinstance(data, dict) else None
        if not isinstance(response, dict):
            raise Unavailable("人脸识别服务应答格式不正确", "provider_unavailable")
        return response

    async def face_start(self, order_id: str, name: str, id_number: str, return_url: str) -> RedirectStart:
        redirect = f"{self.public_url}/webhooks/identity/tencent?order={quote(order_id)}"
        response = await self.call(
            "DetectAuth",
            {
                "RuleId": self.rule_id,
                "IdCard": id_number,
                "Name": name,
                "RedirectUrl": redirect,
                "Extra": order_id,
            },
        )
        if "Error" in response or not response.get("Url") or not response.get("BizToken"):
            message = (response.get("Error") or {}).get("Message", "")
            raise Unavailable(f"人脸识别服务暂不可用：{message}"[:120], "provider_unavailable")
        return RedirectStart(str(response["Url"]), str(response["BizToken"]), self.name)

    async def callback(
        self, provider: str, headers: dict[str, str], query: dict[str, str], body: bytes
    ) -> RedirectResult:
        token = query.get("token") or query.get("BizToken") or ""
        if not token and body:
            try:
                token = str(json.loads(body).get("BizToken", ""))
            except (ValueError, AttributeError, RecursionError):
                token = ""
        if not token or len(token) > 128:
            raise Forbidden("回调缺少有效的 BizToken", "bad_callback")
        response = await self.call(
            "GetDetectInfoEnhanced", {"BizToken": token, "RuleId": self.rule_id, "InfoType": "0"}
        )
        if "Error" in response:
            # An unknown or foreign token: the callback was not about a session of ours.
            raise Forbidden("认证会话不存在或回调无效", "bad_callback")
        text = response.get("Text") or {}
        code = text.get("ErrCode")
        if code is None:
            raise WrongState("人脸识别尚未完成", "face_in_progress")
        detail = {"similarity": text.get("Sim"), "err_code": code, "live_status": text.get("LiveStatus")}
        if int(code) == 0:
            return RedirectResult(token, True, "", detail)
        return RedirectResult(token, False, f"人脸识别未通过：{text.get('ErrMsg') or code}", detail)
