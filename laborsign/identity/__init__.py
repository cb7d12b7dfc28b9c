"""Identity-provider adapters behind `core.verification.IdentityProvider`, one per capability
(`[identity] <capability>_provider`): the sandbox (the embedded default), Tencent Cloud FaceID
(carrier, bank card, face), Alipay (face, enterprise), APPCODE market APIs (carrier, legal
representative), a platform reviewer's manual corporate payment — or nothing (`disabled`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..config import IdentityConfig
from ..core.clock import Clock
from ..core.errors import NotFound
from ..core.verification import (
    Capability,
    CheckResult,
    RedirectResult,
    RedirectStart,
    RefLookup,
    method_disabled,
)
from .alipay import ENTERPRISE_CALLBACK, FACE_CALLBACK, AlipayClient, AlipayEnterprise, AlipayFace
from .carrier import AppCodeCarrierCheck
from .legal_rep import AppCodeLegalRep
from .manual import ManualPayment
from .sandbox import SandboxProvider
from .tencent import TencentFaceId

LABELS = {
    Capability.CARRIER: "手机认证（运营商三要素）",
    Capability.BANKCARD: "银行卡认证",
    Capability.FACE: "人脸识别认证",
    Capability.LEGAL_REP: "法定代表人认证",
    Capability.CORPORATE_PAYMENT: "对公打款认证",
    Capability.ENTERPRISE_ALIPAY: "企业支付宝认证",
}


class IdentityProviders:
    """Routes each capability to its adapter; a disabled capability answers 409."""

    def __init__(self, sandbox: SandboxProvider, adapters: dict[Capability, Any]) -> None:
        self.sandbox = sandbox
        self.adapters = adapters  # capability → adapter; absent = disabled

    def offers(self, capability: Capability) -> bool:
        return capability in self.adapters

    def plays(self, capability: Capability) -> str:
        """The provider name playing a capability ("" when disabled)."""
        adapter = self.adapters.get(capability)
        return str(getattr(adapter, "name", "")) if adapter is not None else ""

    @property
    def sandbox_face(self) -> bool:
        return self.adapters.get(Capability.FACE) is self.sandbox

    @property
    def sandbox_alipay(self) -> bool:
        return self.adapters.get(Capability.ENTERPRISE_ALIPAY) is self.sandbox

    def _for(self, capability: Capability) -> Any:
        adapter = self.adapters.get(capability)
        if adapter is None:
            raise method_disabled(LABELS[capability])
        return adapter

    async def carrier3(self, name: str, id_number: str, phone: str) -> CheckResult:
        result: CheckResult = await self._for(Capability.CARRIER).carrier3(name, id_number, phone)
        return result

    async def bankcard4(self, name: str, id_type: str, id_number: str, card: str, phone: str) -> CheckResult:
        result: CheckResult = await self._for(Capability.BANKCARD).bankcard4(name, id_type, id_number, card, phone)
        return result

    async def face_start(self, order_id: str, name: str, id_number: str, return_url: str) -> RedirectStart:
        start: RedirectStart = await self._for(Capability.FACE).face_start(order_id, name, id_number, return_url)
        return start

    async def legal_rep(
        self, enterprise_name: str, credit_code: str, name: str, id_number: str, phone: str
    ) -> CheckResult:
        adapter = self._for(Capability.LEGAL_REP)
        result: CheckResult = await adapter.legal_rep(enterprise_name, credit_code, name, id_number, phone)
        return result

    async def corporate_payment(
        self, enterprise_name: str, bank_name: str, account: str, account_name: str, amount: Decimal
    ) -> CheckResult:
        adapter = self._for(Capability.CORPORATE_PAYMENT)
        result: CheckResult = await adapter.corporate_payment(
            enterprise_name, bank_name, account, account_name, amount
        )
        return result

    async def alipay_start(
        self, order_id: str, enterprise_name: str, credit_code: str, return_url: str
    ) -> RedirectStart:
        adapter = self._for(Capability.ENTERPRISE_ALIPAY)
        start: RedirectStart = await adapter.alipay_start(order_id, enterprise_name, credit_code, return_url)
        return start

    async def callback(
        self, provider: str, headers: dict[str, str], query: dict[str, str], body: bytes, lookup: RefLookup
    ) -> RedirectResult:
        """Only the callbacks of providers in use exist; any other is 404."""
        face = self.adapters.get(Capability.FACE)
        enterprise = self.adapters.get(Capability.ENTERPRISE_ALIPAY)
        if provider == "sandbox" and (self.sandbox_face or self.sandbox_alipay):
            return await self.sandbox.callback(provider, headers, query, body)
        if provider == "tencent" and isinstance(face, TencentFaceId):
            return await face.callback(provider, headers, query, body, lookup)
        if provider == FACE_CALLBACK and isinstance(face, AlipayFace):
            return await face.result(query, lookup)
        if provider == ENTERPRISE_CALLBACK and isinstance(enterprise, AlipayEnterprise):
            return await enterprise.result(query, lookup)
        raise NotFound("未知的认证服务提供方", "unknown_provider")


def build_identity(config: IdentityConfig, secret: bytes, clock: Clock, public_url: str) -> IdentityProviders:
    sandbox = SandboxProvider(secret, clock)
    tencent: TencentFaceId | None = None
    alipay: AlipayClient | None = None

    def tencent_client() -> TencentFaceId:
        nonlocal tencent
        if tencent is None:
            tencent = TencentFaceId(
                secret_id=config.tencent_secret_id,
                secret_key=config.tencent_secret_key,
                rule_id=config.tencent_rule_id,
                public_url=public_url,
                clock=clock,
                api_base_url=config.tencent_api_base_url,
                region=config.tencent_region,
                timeout=config.timeout,
            )
        return tencent

    def alipay_client() -> AlipayClient:
        nonlocal alipay
        if alipay is None:
            alipay = AlipayClient(
                app_id=config.alipay_app_id,
                private_key=config.alipay_private_key,
                alipay_public_key=config.alipay_public_key,
                gateway_url=config.alipay_gateway_url,
                public_url=public_url,
                timeout=config.timeout,
            )
        return alipay

    makers: dict[tuple[Capability, str], Any] = {
        (Capability.CARRIER, "appcode"): lambda: AppCodeCarrierCheck(
            appcode=config.carrier_appcode, api_base_url=config.carrier_api_base_url, timeout=config.timeout
        ),
        (Capability.CARRIER, "tencent"): tencent_client,
        (Capability.BANKCARD, "tencent"): tencent_client,
        (Capability.FACE, "tencent"): tencent_client,
        (Capability.FACE, "alipay"): lambda: AlipayFace(alipay_client()),
        (Capability.LEGAL_REP, "appcode"): lambda: AppCodeLegalRep(
            appcode=config.legal_rep_appcode, api_base_url=config.legal_rep_api_base_url, timeout=config.timeout
        ),
        (Capability.CORPORATE_PAYMENT, "manual"): ManualPayment,
        (Capability.ENTERPRISE_ALIPAY, "alipay"): lambda: AlipayEnterprise(alipay_client()),
    }
    adapters: dict[Capability, Any] = {}
    for capability in Capability:
        chosen = config.chosen(capability.value)
        if chosen == "sandbox":
            adapters[capability] = sandbox
        elif chosen != "disabled":
            adapters[capability] = makers[(capability, chosen)]()
    return IdentityProviders(sandbox, adapters)
