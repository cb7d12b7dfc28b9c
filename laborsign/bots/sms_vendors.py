"""SMS straight through the two big Chinese vendors with their official SDKs:
Aliyun (`alibabacloud-dysmsapi20170525`, `SendSms`, named template parameters) and Tencent Cloud
(`tencentcloud-sdk-python-sms`, `SendSms`, numbered parameters in catalogue order).

Every message goes out from the template the operator mapped its kind to (`sms.templates`,
kinds in core/sms_templates.py). A vendor answer decides what the outbox does next: sent; a
refusal that will not change (bad template or signature, a number that is wrong or
blacklisted, no balance, wrong credentials) dead-letters at once; being busy, throttled or not
answering is tried again with the outbox's backoff. The SDKs block, so each call runs on the
vendor thread pool with a timeout (blocking.py)."""

from __future__ import annotations

import json
import logging
from typing import Any

from ..blocking import VendorTimeout, call_blocking, split_endpoint
from ..config import SmsConfig
from ..core.outbox import OutboxMessage
from ..core.sms_templates import NoTemplate, template_of
from .channels import SendError

log = logging.getLogger("laborsign.sms")


def _template(config: SmsConfig, message: OutboxMessage) -> tuple[str, list[str], dict[str, str]]:
    """(template code, parameters in order, parameters by name) or a permanent SendError."""
    try:
        kind, params = template_of(message.kind, message.payload or {})
    except NoTemplate as exc:
        raise SendError(str(exc), permanent=True) from None
    code = config.templates.get(kind.key, "")
    if not code:
        raise SendError(f"sms.templates has no template for {kind.key}", permanent=True)
    return code, [params[name] for name in kind.params], params


# --- Aliyun -------------------------------------------------------------------------------------

# Codes worth trying again: the vendor is busy or throttles this account / number for a while.
ALIYUN_RETRY = frozenset(
    {
        "isp.SYSTEM_ERROR",
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.THROTTLING",
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "ServiceUnavailable",
        "InternalError",
    }
)


class AliyunSmsSender:
    channel = "sms"
    app_id = ""

    def __init__(self, config: SmsConfig) -> None:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.utils_models import Config

        self.config = config
        scheme, host = split_endpoint(config.aliyun_endpoint)
        millis = int(config.timeout * 1000)
        self.client = Client(
            Config(
                access_key_id=config.aliyun_access_key_id,
                access_key_secret=config.aliyun_access_key_secret,
                endpoint=host,
                protocol=scheme,
                region_id="cn-hangzhou",
                read_timeout=millis,
                connect_timeout=millis,
            )
        )

    async def send(self, message: OutboxMessage) -> None:
        from alibabacloud_dysmsapi20170525.models import SendSmsRequest

        code, _, params = _template(self.config, message)
        request = SendSmsRequest(
            phone_numbers=message.recipient,
            sign_name=self.config.vendor_sign_name,
            template_code=code,
            template_param=json.dumps(params, ensure_ascii=False),
            out_id=message.id,  # the vendor's receipts name our message
        )
        try:
            response = await call_blocking(lambda: self.client.send_sms(request), self.config.timeout + 1)
        except VendorTimeout as exc:
            raise SendError(f"Aliyun SMS: {exc}") from exc
        except Exception as exc:
            raise _aliyun_error(exc) from exc
        body = getattr(response, "body", None)
        result = str(getattr(body, "code", "") or "")
        if result == "OK":
            return
        text = f"Aliyun SMS {result or 'malformed answer'}: {getattr(body, 'message', '')}"[:300]
        raise SendError(text, permanent=bool(result) and result not in ALIYUN_RETRY)


def _aliyun_error(exc: Exception) -> SendError:
    """The Tea SDK raises for HTTP 4xx/5xx answers (with the vendor's code) and wraps what went
    wrong underneath (no connection, unreadable answer) in an UnretryableException."""
    code = str(getattr(exc, "code", "") or "")
    status = getattr(exc, "status_code", None)
    text = f"Aliyun SMS {code or type(exc).__name__}: {getattr(exc, 'message', '') or exc}"[:300]
    if not code or status is None:
        return SendError(text)  # transport or parsing: try again
    retry = code in ALIYUN_RETRY or code.startswith("Throttling") or int(status) >= 500
    return SendError(text, permanent=not retry)


# --- Tencent Cloud ------------------------------------------------------------------------------

TENCENT_PERMANENT_LIMITS = frozenset({"LimitExceeded.PhoneNumberDailyLimit", "LimitExceeded.AppDailyLimit"})


def tencent_retry(code: str) -> bool:
    if code in TENCENT_PERMANENT_LIMITS:
        return False
    return code.startswith(("InternalError", "RequestLimitExceeded", "LimitExceeded", "ClientNetworkError"))


class TencentSmsSender:
    channel = "sms"
    app_id = ""

    def __init__(self, config: SmsConfig) -> None:
        from tencentcloud.common.credential import Credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111.sms_client import SmsClient

        self.config = config
        scheme, host = split_endpoint(config.tencent_endpoint)
        http = HttpProfile(endpoint=host, protocol=scheme, reqTimeout=max(1, round(config.timeout)))
        self.client = SmsClient(
            Credential(config.tencent_secret_id, config.tencent_secret_key),
            config.tencent_region,
            ClientProfile(httpProfile=http),
        )

    async def send(self, message: OutboxMessage) -> None:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111.models import SendSmsRequest

        code, ordered, _ = _template(self.config, message)
        request = SendSmsRequest()
        request.SmsSdkAppId = self.config.tencent_sdk_app_id
        request.SignName = self.config.vendor_sign_name
        request.TemplateId = code
        request.TemplateParamSet = ordered
        request.PhoneNumberSet = ["+86" + message.recipient]
        request.SessionContext = message.id
        try:
            response = await call_blocking(lambda: self.client.SendSms(request), self.config.timeout + 1)
        except VendorTimeout as exc:
            raise SendError(f"Tencent SMS: {exc}") from exc
        except TencentCloudSDKException as exc:
            text = f"Tencent SMS {exc.code}: {exc.message}"[:300]
            raise SendError(text, permanent=not tencent_retry(str(exc.code or ""))) from exc
        except Exception as exc:  # an answer the SDK could not read
            raise SendError(f"Tencent SMS {type(exc).__name__}: {exc}"[:300]) from exc
        statuses: list[Any] = list(getattr(response, "SendStatusSet", None) or [])
        if not statuses:
            raise SendError("Tencent SMS answered without a send status")
        status = statuses[0]
        result = str(getattr(status, "Code", "") or "")
        if result == "Ok":
            return
        text = f"Tencent SMS {result}: {getattr(status, 'Message', '')}"[:300]
        raise SendError(text, permanent=not tencent_retry(result))
