"""Alipay through its official SDK (`alipay-sdk-python`: RSA2-signed requests, and every answer's
signature checked with Alipay's public key):

- face (支付宝身份验证): `alipay.user.certify.open.initialize` opens a session for the name and
  ID number, `alipay.user.certify.open.certify` is the page the person is sent to, and after
  Alipay sends the browser back the result is fetched with `alipay.user.certify.open.query`;
- enterprise Alipay (芝麻企业认证): `zhima.customer.ep.certification.initialize` / `certify` /
  `query` for the enterprise name and unified social credit code.

Alipay's browser return names only what we put in the return URL (our order id), so the
session's own reference (certify_id / biz_no) is looked up from our records before the query.
The SDK connects on the scheme's default port only (it drops any port in the gateway URL)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from ..blocking import VendorTimeout, call_blocking
from ..core.errors import Forbidden, Unavailable
from ..core.verification import RedirectResult, RedirectStart, RefLookup

log = logging.getLogger("laborsign.identity.alipay")
NAME = "alipay"
FACE_CALLBACK = "alipay"  # /webhooks/identity/<callback>, where Alipay sends the browser back
ENTERPRISE_CALLBACK = "alipay-enterprise"
BUSY = "服务繁忙请稍后再试"


def _pem_body(key: str) -> str:
    """The SDK wants the base64 body of a key and adds the PEM lines itself."""
    lines = [line.strip() for line in key.strip().splitlines()]
    return "".join(line for line in lines if line and not line.startswith("-----"))


def pkcs1_private_body(key: str) -> str:
    """The SDK reads only PKCS#1 ("RSA PRIVATE KEY"); Alipay's key tool also hands out PKCS#8
    (the Java form). Either is accepted here and given to the SDK as PKCS#1."""
    import base64

    from cryptography.hazmat.primitives import serialization

    body = _pem_body(key)
    try:
        loaded = serialization.load_der_private_key(base64.b64decode(body), password=None)
    except ValueError as exc:
        raise ValueError("identity.alipay_private_key is not an RSA private key") from exc
    der = loaded.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return base64.b64encode(der).decode()


class AlipayClient:
    def __init__(
        self,
        *,
        app_id: str,
        private_key: str,
        alipay_public_key: str,
        gateway_url: str,
        public_url: str,
        timeout: float = 10.0,
    ) -> None:
        from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
        from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient

        config = AlipayClientConfig()
        config.server_url = gateway_url
        config.app_id = app_id
        config.app_private_key = pkcs1_private_body(private_key)
        config.alipay_public_key = _pem_body(alipay_public_key)
        config.sign_type = "RSA2"
        config.timeout = max(1, round(timeout))
        self.client = DefaultAlipayClient(config)
        self.public_url = public_url.rstrip("/")
        self.timeout = timeout

    def return_url(self, callback: str, order_id: str) -> str:
        return f"{self.public_url}/webhooks/identity/{callback}?order={quote(order_id)}"

    async def execute(self, request: Any, response: Any, what: str) -> Any:
        """Sends a signed request; returns the parsed answer when Alipay says it succeeded."""
        try:
            content = await call_blocking(lambda: self.client.execute(request), self.timeout + 1)
        except VendorTimeout as exc:
            raise Unavailable(f"{what}{BUSY}", "provider_unavailable") from exc
        except Exception as exc:  # transport, HTTP status, or an answer whose signature fails
            log.warning("alipay call failed", extra={"what": what, "error": repr(exc)[:300]})
            raise Unavailable(f"{what}{BUSY}", "provider_unavailable") from exc
        try:
            response.parse_response_content(content)
        except (ValueError, TypeError, AttributeError) as exc:
            raise Unavailable(f"{what}{BUSY}", "provider_unavailable") from exc
        if not response.is_success() or str(response.code) != "10000":
            log.warning(
                "alipay refused",
                extra={"what": what, "code": response.code, "sub_code": response.sub_code},
            )
            return None
        return response

    async def page_url(self, request: Any) -> str:
        """The signed address of an Alipay page (the person's browser opens it; no call here)."""
        url: str = await call_blocking(lambda: self.client.page_execute(request, http_method="GET"), 5)
        return url


async def _ref(lookup: RefLookup, query: dict[str, str]) -> str:
    order = query.get("order", "")
    ref = await lookup(order) if order and len(order) <= 64 else None
    if not ref:
        raise Forbidden("认证会话不存在或回调无效", "bad_callback")
    return ref


class AlipayFace:
    """Personal face verification (支付宝身份验证)."""

    name = NAME

    def __init__(self, client: AlipayClient) -> None:
        self.alipay = client

    async def face_start(self, order_id: str, name: str, id_number: str, return_url: str) -> RedirectStart:
        from alipay.aop.api.domain.AlipayUserCertifyOpenCertifyModel import AlipayUserCertifyOpenCertifyModel
        from alipay.aop.api.domain.AlipayUserCertifyOpenInitializeModel import (
            AlipayUserCertifyOpenInitializeModel,
        )
        from alipay.aop.api.request.AlipayUserCertifyOpenCertifyRequest import (
            AlipayUserCertifyOpenCertifyRequest,
        )
        from alipay.aop.api.request.AlipayUserCertifyOpenInitializeRequest import (
            AlipayUserCertifyOpenInitializeRequest,
        )
        from alipay.aop.api.response.AlipayUserCertifyOpenInitializeResponse import (
            AlipayUserCertifyOpenInitializeResponse,
        )

        model = AlipayUserCertifyOpenInitializeModel()
        model.outer_order_no = order_id
        model.biz_code = "FACE"
        model.identity_param = {
            "identity_type": "CERT_INFO", "cert_type": "IDENTITY_CARD", "cert_name": name, "cert_no": id_number,
        }  # fmt: skip
        model.merchant_config = {"return_url": self.alipay.return_url(FACE_CALLBACK, order_id)}
        answer = await self.alipay.execute(
            AlipayUserCertifyOpenInitializeRequest(biz_model=model),
            AlipayUserCertifyOpenInitializeResponse(),
            "人脸识别",
        )
        if answer is None or not answer.certify_id:
            raise Unavailable(f"人脸识别{BUSY}", "provider_unavailable")
        certify = AlipayUserCertifyOpenCertifyModel()
        certify.certify_id = answer.certify_id
        url = await self.alipay.page_url(AlipayUserCertifyOpenCertifyRequest(biz_model=certify))
        return RedirectStart(url, str(answer.certify_id), NAME)

    async def result(self, query: dict[str, str], lookup: RefLookup) -> RedirectResult:
        from alipay.aop.api.domain.AlipayUserCertifyOpenQueryModel import AlipayUserCertifyOpenQueryModel
        from alipay.aop.api.request.AlipayUserCertifyOpenQueryRequest import AlipayUserCertifyOpenQueryRequest
        from alipay.aop.api.response.AlipayUserCertifyOpenQueryResponse import (
            AlipayUserCertifyOpenQueryResponse,
        )

        certify_id = await _ref(lookup, query)
        model = AlipayUserCertifyOpenQueryModel()
        model.certify_id = certify_id
        answer = await self.alipay.execute(
            AlipayUserCertifyOpenQueryRequest(biz_model=model), AlipayUserCertifyOpenQueryResponse(), "人脸识别"
        )
        if answer is None:
            raise Forbidden("认证会话不存在或回调无效", "bad_callback")
        passed = str(answer.passed) == "T"
        reason = "" if passed else f"人脸识别未通过：{answer.fail_reason or '支付宝身份验证未通过'}"
        return RedirectResult(certify_id, passed, reason, {"passed": answer.passed})


class AlipayEnterprise:
    """Enterprise verification through the enterprise's Alipay account (芝麻企业认证)."""

    name = NAME

    def __init__(self, client: AlipayClient) -> None:
        self.alipay = client

    async def alipay_start(
        self, order_id: str, enterprise_name: str, credit_code: str, return_url: str
    ) -> RedirectStart:
        from alipay.aop.api.domain.ZhimaCustomerEpCertificationCertifyModel import (
            ZhimaCustomerEpCertificationCertifyModel,
        )
        from alipay.aop.api.domain.ZhimaCustomerEpCertificationInitializeModel import (
            ZhimaCustomerEpCertificationInitializeModel,
        )
        from alipay.aop.api.request.ZhimaCustomerEpCertificationCertifyRequest import (
            ZhimaCustomerEpCertificationCertifyRequest,
        )
        from alipay.aop.api.request.ZhimaCustomerEpCertificationInitializeRequest import (
            ZhimaCustomerEpCertificationInitializeRequest,
        )
        from alipay.aop.api.response.ZhimaCustomerEpCertificationInitializeResponse import (
            ZhimaCustomerEpCertificationInitializeResponse,
        )

        model = ZhimaCustomerEpCertificationInitializeModel()
        model.transaction_id = order_id
        model.product_code = "EP_ALIPAY_ACCOUNT"
        model.biz_code = "EP_ALIPAY_ACCOUNT"
        model.identity_param = {
            "identity_type": "EP_CERT_INFO", "ep_cert_type": "NATIONAL_LEGAL_MERGE",
            "ep_name": enterprise_name, "ep_cert_no": credit_code,
        }  # fmt: skip
        model.merchant_config = {"return_url": self.alipay.return_url(ENTERPRISE_CALLBACK, order_id)}
        answer = await self.alipay.execute(
            ZhimaCustomerEpCertificationInitializeRequest(biz_model=model),
            ZhimaCustomerEpCertificationInitializeResponse(),
            "企业支付宝认证",
        )
        if answer is None or not answer.biz_no:
            raise Unavailable(f"企业支付宝认证{BUSY}", "provider_unavailable")
        certify = ZhimaCustomerEpCertificationCertifyModel()
        certify.biz_no = answer.biz_no
        url = await self.alipay.page_url(ZhimaCustomerEpCertificationCertifyRequest(biz_model=certify))
        return RedirectStart(url, str(answer.biz_no), NAME)

    async def result(self, query: dict[str, str], lookup: RefLookup) -> RedirectResult:
        from alipay.aop.api.domain.ZhimaCustomerEpCertificationQueryModel import (
            ZhimaCustomerEpCertificationQueryModel,
        )
        from alipay.aop.api.request.ZhimaCustomerEpCertificationQueryRequest import (
            ZhimaCustomerEpCertificationQueryRequest,
        )
        from alipay.aop.api.response.ZhimaCustomerEpCertificationQueryResponse import (
            ZhimaCustomerEpCertificationQueryResponse,
        )

        biz_no = await _ref(lookup, query)
        model = ZhimaCustomerEpCertificationQueryModel()
        model.biz_no = biz_no
        answer = await self.alipay.execute(
            ZhimaCustomerEpCertificationQueryRequest(biz_model=model),
            ZhimaCustomerEpCertificationQueryResponse(),
            "企业支付宝认证",
        )
        if answer is None:
            raise Forbidden("认证会话不存在或回调无效", "bad_callback")
        passed = str(answer.passed).lower() == "true"
        reason = "" if passed else f"企业支付宝认证未通过：{answer.failed_reason or '企业信息核验不一致'}"
        return RedirectResult(biz_no, passed, reason, {"passed": answer.passed})

