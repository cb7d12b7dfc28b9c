"""A fake Tencent Cloud FaceID (version 2018-03-01) behind the TC3-signed gateway of
tencent_cloud.py: DetectAuth / GetDetectInfoEnhanced (face), PhoneVerification (carrier three
factors) and BankCard4EVerification (bank card four factors), with the real result codes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.tencent_cloud import FakeTencentCloud, Handler, api_error


@dataclass
class FakeFaceId(FakeTencentCloud):
    service: str = "faceid"
    version: str = "2018-03-01"
    rule_id: str = "1"
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    # phone → (name, ID) as the carrier has it on record
    carrier_records: dict[str, tuple[str, str]] = field(default_factory=dict)
    # card → (name, ID, bank-reserved phone, card state code: "" for a normal card)
    bank_records: dict[str, tuple[str, str, str, str]] = field(default_factory=dict)
    # A result code to answer the next factor check with (e.g. "-11" busy, "-12" daily limit).
    next_results: list[str] = field(default_factory=list)
    billed: int = 0  # checks Tencent would charge for: the ones it made

    def handlers(self) -> dict[str, Handler]:
        return {
            "DetectAuth": self.detect_auth,
            "GetDetectInfoEnhanced": self.detect_info,
            "PhoneVerification": self.phone_verification,
            "BankCard4EVerification": self.bankcard_verification,
        }

    def complete(self, token: str, passed: bool) -> None:
        self.sessions[token]["result"] = passed

    async def detect_auth(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("RuleId") != self.rule_id or not params.get("IdCard") or not params.get("Name"):
            return api_error("InvalidParameterValue", "RuleId/IdCard/Name")
        token = secrets.token_hex(16).upper()
        self.sessions[token] = {"params": params, "result": None}
        return {"Url": f"https://faceid.qq.com/api/auth/h5/{token}", "BizToken": token}

    async def detect_info(self, params: dict[str, Any]) -> dict[str, Any]:
        session = self.sessions.get(str(params.get("BizToken")))
        if session is None:
            return api_error("InvalidParameterValue.BizTokenIllegal", "BizToken illegal")
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
        return {"Text": text}

    def _forced(self) -> str | None:
        return self.next_results.pop(0) if self.next_results else None

    async def phone_verification(self, params: dict[str, Any]) -> dict[str, Any]:
        forced = self._forced()
        if forced is not None:
            return {"Result": forced, "Description": "forced", "Isp": ""}
        phone, name, number = str(params.get("Phone", "")), str(params.get("Name", "")), str(params.get("IdCard", ""))
        if len(phone) != 11 or not phone.isdigit():
            return {"Result": "-6", "Description": "手机号码不合法", "Isp": ""}
        record = self.carrier_records.get(phone)
        if record is None:
            return {"Result": "-9", "Description": "没有记录", "Isp": ""}
        self.billed += 1
        if record == (name, number):
            return {"Result": "0", "Description": "三要素信息一致", "Isp": "移动"}
        return {"Result": "-4", "Description": "三要素信息不一致", "Isp": "移动"}

    async def bankcard_verification(self, params: dict[str, Any]) -> dict[str, Any]:
        forced = self._forced()
        if forced is not None:
            return {"Result": forced, "Description": "forced"}
        if params.get("CertType") not in (0, None):
            return {"Result": "-20", "Description": "该证件号暂不支持核验，当前仅支持二代身份证"}
        card = str(params.get("BankCard", ""))
        record = self.bank_records.get(card)
        self.billed += 1
        if record is None:
            return {"Result": "-9", "Description": "无效卡号"}
        name, number, phone, state = record
        if state:
            return {"Result": state, "Description": {"-13": "此卡已挂失", "-14": "该卡已过期"}.get(state, "卡状态异常")}
        if (name, number, phone) == (params.get("Name"), params.get("IdCard"), params.get("Phone")):
            return {"Result": "0", "Description": "认证通过"}
        return {"Result": "-1", "Description": "认证未通过"}
