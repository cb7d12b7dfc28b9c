"""The sandbox identity provider (the embedded default).

Inputs reaching it have passed every format rule; it then succeeds, except for the documented
failure trigger: the name 「测试失败」 always fails. Face and enterprise-Alipay sessions are
played by a local H5 page (`sandbox_pages.py`) that calls the callback webhook exactly as a
real provider would: a JSON body signed with HMAC-SHA256 and a timestamp."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from decimal import Decimal
from urllib.parse import quote

from ..core.clock import Clock
from ..core.errors import BadRequest, Forbidden
from ..core.verification import CheckResult, RedirectResult, RedirectStart

FAIL_NAME = "测试失败"
SIGNATURE_HEADER = "X-Sandbox-Signature"
MAX_SKEW_SECONDS = 600


class SandboxProvider:
    name = "sandbox"

    def __init__(self, secret: bytes, clock: Clock) -> None:
        self._key = hmac.new(secret, b"identity-sandbox-callback", hashlib.sha256).digest()
        self._clock = clock

    def _check(self, name: str, what: str) -> CheckResult:
        ref = "sbx_" + secrets.token_hex(12)
        if name == FAIL_NAME:
            return CheckResult(
                False, f"{what}核验不一致（沙箱：姓名为「{FAIL_NAME}」时总是失败）", self.name, ref
            )
        return CheckResult(True, "", self.name, ref)

    async def carrier3(self, name: str, id_number: str, phone: str) -> CheckResult:
        return self._check(name, "姓名、身份证号与手机号")

    async def bankcard4(self, name: str, id_type: str, id_number: str, card: str, phone: str) -> CheckResult:
        return self._check(name, "姓名、证件号、银行卡号与预留手机号")

    async def face_start(self, order_id: str, name: str, id_number: str, return_url: str) -> RedirectStart:
        ref = "sbx_face_" + secrets.token_hex(12)
        return RedirectStart(
            f"/sandbox/identity/face/{ref}?return={quote(return_url, safe='')}", ref, self.name
        )

    async def legal_rep(
        self, enterprise_name: str, credit_code: str, name: str, id_number: str, phone: str
    ) -> CheckResult:
        return self._check(name, "法定代表人姓名、身份证号与手机号")

    async def corporate_payment(
        self, enterprise_name: str, bank_name: str, account: str, account_name: str, amount: Decimal
    ) -> CheckResult:
        return self._check(account_name, "对公账户")

    async def alipay_start(
        self, order_id: str, enterprise_name: str, credit_code: str, return_url: str
    ) -> RedirectStart:
        ref = "sbx_alipay_" + secrets.token_hex(12)
        return RedirectStart(
            f"/sandbox/identity/alipay/{ref}?return={quote(return_url, safe='')}", ref, self.name
        )

    # --- the callback protocol ------------------------------------------------------------

    def sign(self, body: bytes, timestamp: int) -> str:
        mac = hmac.new(self._key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={mac}"

    def signed_callback(self, ref: str, passed: bool, reason: str = "") -> tuple[bytes, dict[str, str]]:
        """What the sandbox page posts to /webhooks/identity/sandbox."""
        now = int(self._clock.now().timestamp())
        payload = {
            "ref": ref,
            "result": "pass" if passed else "fail",
            "reason": reason,
            "similarity": 96.5 if passed else 41.2,
            "timestamp": now,
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return body, {SIGNATURE_HEADER: self.sign(body, now), "Content-Type": "application/json"}

    async def callback(
        self, provider: str, headers: dict[str, str], query: dict[str, str], body: bytes
    ) -> RedirectResult:
        parts = dict(p.split("=", 1) for p in headers.get(SIGNATURE_HEADER, "").split(",") if "=" in p)
        try:
            timestamp = int(parts.get("t", ""))
        except ValueError:
            raise Forbidden("回调签名无效", "bad_signature") from None
        expected = self.sign(body, timestamp)
        if not hmac.compare_digest(expected.encode(), f"t={timestamp},v1={parts.get('v1', '')}".encode()):
            raise Forbidden("回调签名无效", "bad_signature")
        if abs(self._clock.now().timestamp() - timestamp) > MAX_SKEW_SECONDS:
            raise Forbidden("回调已过期", "stale_callback")
        try:
            data = json.loads(body)
            ref = str(data["ref"])
            passed = data["result"] == "pass"
        except (ValueError, KeyError, TypeError, RecursionError):
            raise BadRequest("回调内容格式不正确", "malformed_callback") from None
        reason = str(data.get("reason") or ("" if passed else "人脸比对未通过（沙箱）"))
        return RedirectResult(
            ref, passed, reason, {"similarity": data.get("similarity")}, replay_key=parts.get("v1", "")
        )
