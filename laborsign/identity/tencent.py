"""Tencent Cloud FaceID (慧眼) through its official SDK (`tencentcloud-sdk-python-faceid`, which
signs every call with TC3-HMAC-SHA256):

- face: `DetectAuth` opens a session and returns the H5 URL the person is sent to; Tencent then
  redirects the browser to our RedirectUrl with `token=<BizToken>`. That redirect proves
  nothing by itself, so the result is always fetched with `GetDetectInfoEnhanced`: a forged
  callback naming an unknown token is refused, one naming a real token gets the real result.
- carrier three factors: `PhoneVerification`;
- bank-card four factors: `BankCard4EVerification` (resident ID cards only).

Tencent bills a check it made ("收费结果码"): those are CheckResults, and count against the
attempt limits. The others (busy, over its own daily limit, input it refused) raise domain
errors and count for nothing."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

from ..blocking import VendorTimeout, call_blocking, split_endpoint
from ..core.accounts import day_start
from ..core.clock import Clock
from ..core.errors import Forbidden, Invalid, RateLimited, Unavailable, WrongState
from ..core.identity_rules import IdType
from ..core.verification import CheckResult, RedirectResult, RedirectStart, RefLookup

log = logging.getLogger("laborsign.identity.tencent")
T = TypeVar("T")
BUSY = "服务繁忙请稍后再试"
NAME = "tencent"

# PhoneVerification: billed results, then the ones Tencent did not bill.
CARRIER_CHECKED = {"0": "", "-4": "三要素不一致：姓名、身份证号与手机号不一致"}
CARRIER_REFUSED: dict[str, tuple[str, str]] = {
    "-6": ("phone", "手机号码不合法"),
    "-7": ("id_number", "身份证号码有误"),
    "-8": ("name", "姓名校验不通过"),
    "-13": ("phone", "该手机号段不支持运营商核验，请选择其他认证方式"),
}
BANKCARD_MISMATCH = {"-1", "-6"}
BANKCARD_REFUSED: dict[str, tuple[str, str]] = {
    "-2": ("name", "姓名校验不通过"),
    "-3": ("id_number", "身份证号码有误"),
    "-4": ("bank_card", "银行卡号格式有误"),
    "-5": ("phone", "手机号码不合法"),
    "-20": ("id_type", "该证件暂不支持银行卡核验，当前仅支持居民身份证"),
}


class TencentFaceId:
    name = NAME

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
        from tencentcloud.common.credential import Credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.faceid.v20180301.faceid_client import FaceidClient

        scheme, host = split_endpoint(api_base_url)
        http = HttpProfile(endpoint=host, protocol=scheme, reqTimeout=max(1, round(timeout)))
        self.client = FaceidClient(
            Credential(secret_id, secret_key), region, ClientProfile(httpProfile=http)
        )
        self.rule_id = rule_id
        self.public_url = public_url.rstrip("/")
        self.clock = clock
        self.timeout = timeout

    async def _call(self, action: str, params: dict[str, Any], what: str) -> Any:
        """One SDK call off the event loop. Returns the response model; raises Unavailable when
        Tencent did not answer, or answered with an error the caller did not expect."""
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.faceid.v20180301 import models

        request = getattr(models, f"{action}Request")()
        request.from_json_string(_json(params))
        method: Callable[[Any], T] = getattr(self.client, action)
        try:
            return await call_blocking(lambda: method(request), self.timeout + 1)
        except VendorTimeout as exc:
            raise Unavailable(f"{what}{BUSY}", "provider_unavailable") from exc
        except TencentCloudSDKException as exc:
            if exc.code and str(exc.code).startswith("InvalidParameterValue.BizToken"):
                raise Forbidden("认证会话不存在或回调无效", "bad_callback") from exc
            log.warning("tencent faceid error", extra={"action": action, "code": exc.code})
            raise Unavailable(f"{what}{BUSY}", "provider_unavailable") from exc
        except Exception as exc:  # an answer the SDK could not read
            log.warning("tencent faceid unreadable answer", extra={"action": action, "error": repr(exc)})
            raise Unavailable(f"{what}{BUSY}", "provider_unavailable") from exc

    # --- factor checks -----------------------------------------------------------------------

    async def carrier3(self, name: str, id_number: str, phone: str) -> CheckResult:
        answer = await self._call(
            "PhoneVerification", {"IdCard": id_number, "Name": name, "Phone": phone}, "运营商核验"
        )
        code, ref = str(answer.Result or ""), str(answer.RequestId or "")
        if code in CARRIER_CHECKED:
            return CheckResult(code == "0", CARRIER_CHECKED[code], NAME, ref)
        if code == "-9":  # looked up, nothing on record
            return CheckResult(False, "运营商无该手机号的实名记录，请选择其他认证方式", NAME, ref)
        self._refused(code, CARRIER_REFUSED, "运营商核验")
        raise AssertionError("unreachable")

    async def bankcard4(self, name: str, id_type: str, id_number: str, card: str, phone: str) -> CheckResult:
        if id_type != IdType.RESIDENT_ID:
            raise Invalid.field(
                "id_type", "银行卡认证目前仅支持中国大陆居民身份证，请选择其他认证方式", code="id_type_not_supported"
            )
        answer = await self._call(
            "BankCard4EVerification",
            {"Name": name, "BankCard": card, "Phone": phone, "IdCard": id_number, "CertType": 0},
            "银行卡核验",
        )
        code, ref = str(answer.Result or ""), str(answer.RequestId or "")
        if code == "0":
            return CheckResult(True, "", NAME, ref)
        if code in BANKCARD_MISMATCH:
            return CheckResult(False, "四要素不一致：姓名、证件号、银行卡号与预留手机号不一致", NAME, ref)
        if code not in BANKCARD_REFUSED and code not in ("-18", "-19") and code.startswith("-"):
            # The other billed codes describe the card itself (lost, expired, restricted, …).
            detail = str(answer.Description or "").strip()
            return CheckResult(False, f"银行卡状态异常：{detail or code}", NAME, ref)
        self._refused(code, BANKCARD_REFUSED, "银行卡核验", busy="-18", limit="-19")
        raise AssertionError("unreachable")

    def _refused(
        self,
        code: str,
        fields: dict[str, tuple[str, str]],
        what: str,
        *,
        busy: str = "-11",
        limit: str = "-12",
    ) -> None:
        """Tencent did not check (and did not bill): the person's input, or Tencent itself."""
        if code in fields:
            field, message = fields[code]
            raise Invalid.field(field, message, code="provider_refused_input")
        if code == limit:
            raise RateLimited(f"{what}次数已超过当日限制，请次日重试", _until_tomorrow(self.clock.now()))
        log.warning("tencent faceid did not check", extra={"what": what, "result": code})
        raise Unavailable(f"{what}{BUSY}", "provider_unavailable")

    # --- face ----------------------------------------------------------------------------------

    async def face_start(self, order_id: str, name: str, id_number: str, return_url: str) -> RedirectStart:
        redirect = f"{self.public_url}/webhooks/identity/tencent?order={quote(order_id)}"
        answer = await self._call(
            "DetectAuth",
            {"RuleId": self.rule_id, "IdCard": id_number, "Name": name, "RedirectUrl": redirect, "Extra": order_id},
            "人脸识别",
        )
        if not answer.Url or not answer.BizToken:
            raise Unavailable(f"人脸识别{BUSY}", "provider_unavailable")
        return RedirectStart(str(answer.Url), str(answer.BizToken), NAME)

    async def callback(
        self, provider: str, headers: dict[str, str], query: dict[str, str], body: bytes, lookup: RefLookup
    ) -> RedirectResult:
        token = query.get("token") or query.get("BizToken") or _body_token(body)
        if not token or len(token) > 128:
            raise Forbidden("回调缺少有效的 BizToken", "bad_callback")
        answer = await self._call(
            "GetDetectInfoEnhanced", {"BizToken": token, "RuleId": self.rule_id, "InfoType": "0"}, "人脸识别"
        )
        text = answer.Text
        code = getattr(text, "ErrCode", None)
        if code is None:
            raise WrongState("人脸识别尚未完成", "face_in_progress")
        detail = {"similarity": text.Sim, "err_code": code, "live_status": text.LiveStatus}
        if int(code) == 0:
            return RedirectResult(token, True, "", detail)
        return RedirectResult(token, False, f"人脸识别未通过：{text.ErrMsg or code}", detail)


def _json(params: dict[str, Any]) -> str:
    import json

    return json.dumps(params, ensure_ascii=False)


def _body_token(body: bytes) -> str:
    import json

    if not body:
        return ""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    return str(data.get("BizToken", "")) if isinstance(data, dict) else ""


def _until_tomorrow(now: datetime) -> int:
    return math.ceil((day_start(now) + timedelta(days=1) - now).total_seconds())
