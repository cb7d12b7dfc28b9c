"""Identity-provider adapters behind `core.verification.IdentityProvider`: the sandbox (default),
Tencent Cloud FaceID for face, and an APPCODE carrier-check API for carrier three factors.
`build_identity` picks them from the `[identity]` config section."""

from __future__ import annotations

from decimal import Decimal

from ..config import IdentityConfig
from ..core.clock import Clock
from ..core.errors import NotFound
from ..core.verification import CheckResult, RedirectResult, RedirectStart
from .carrier import AppCodeCarrierCheck
from .sandbox import SandboxProvider
from .tencent import TencentFaceId


class IdentityProviders:
    """Routes each capability to its configured adapter; the sandbox plays the rest."""

    def __init__(
        self,
        sandbox: SandboxProvider,
        carrier: AppCodeCarrierCheck | None = None,
        face: TencentFaceId | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.carrier = carrier
        self.face = face

    @property
    def name(self) -> str:
        return "sandbox"

    @property
    def sandbox_face(self) -> bool:
        return self.face is None

    async def carrier3(self, name: str, id_number: str, phone: str) -> CheckResult:
        return await (self.carrier or self.sandbox).carrier3(name, id_number, phone)

    async def bankcard4(self, name: str, id_type: str, id_number: str, card: str, phone: str) -> CheckResult:
        return await self.sandbox.bankcard4(name, id_type, id_number, card, phone)

    async def face_start(self, order_id: str, name: str, id_number: str, return_url: str) -> RedirectStart:
        return await (self.face or self.sandbox).face_start(order_id, name, id_number, return_url)

    async def legal_rep(
        self, enterprise_name: str, credit_code: str, name: str, id_number: str, phone: str
    ) -> CheckResult:
        return await self.sandbox.legal_rep(enterprise_name, credit_code, name, id_number, phone)

    async def corporate_payment(
        self, enterprise_name: str, bank_name: str, account: str, account_name: str, amount: Decimal
    ) -> CheckResult:
        return await self.sandbox.corporate_payment(enterprise_name, bank_name, account, account_name, amount)

    async def alipay_start(
        self, order_id: str, enterprise_name: str, credit_code: str, return_url: str
    ) -> RedirectStart:
        return await self.sandbox.alipay_start(order_id, enterprise_name, credit_code, return_url)

    async def callback(
        self, provider: str, headers: dict[str, str], query: dict[str, str], body: bytes
    ) -> RedirectResult:
        if provider == "sandbox":
            return await self.sandbox.callback(provider, headers, query, body)
        if provider == "tencent" and self.face is not None:
            return await self.face.callback(provider, headers, query, body)
        raise NotFound("未知的认证服务提供方", "unknown_provider")


def build_identity(config: IdentityConfig, secret: bytes, clock: Clock, public_url: str) -> IdentityProviders:
    carrier = face = None
    if config.carrier_provider == "appcode":
        carrier = AppCodeCarrierCheck(
            appcode=config.carrier_appcode, api_base_url=config.carrier_api_base_url
        )
    if config.face_provider == "tencent":
        face = TencentFaceId(
            secret_id=config.tencent_secret_id,
            secret_key=config.tencent_secret_key,
            rule_id=config.tencent_rule_id,
            public_url=public_url,
            clock=clock,
            api_base_url=config.tencent_api_base_url,
        )
    return IdentityProviders(SandboxProvider(secret, clock), carrier, face)
