"""Corporate payment made by people (provider `manual`): the request waits in the platform
console, where a reviewer with access to the platform's bank account pays a small amount to
the enterprise's account and records the amount paid; the enterprise then types back what
arrived. Nothing shows the amount to the enterprise."""

from __future__ import annotations

from decimal import Decimal

from ..core.verification import CheckResult


class ManualPayment:
    name = "manual"

    async def corporate_payment(
        self, enterprise_name: str, bank_name: str, account: str, account_name: str, amount: Decimal
    ) -> CheckResult:
        return CheckResult(True, "", self.name, later=True)
