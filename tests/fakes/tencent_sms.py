"""A fake Tencent Cloud SMS (version 2021-01-11) `SendSms` behind the TC3-signed gateway: the
SDK application, the approved signature and templates (with their number of parameters) and
per-number statuses in the real shape (`SendStatusSet`)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.tencent_cloud import FakeTencentCloud, Handler, api_error


@dataclass
class FakeTencentSms(FakeTencentCloud):
    service: str = "sms"
    version: str = "2021-01-11"
    sdk_app_id: str = "1400000001"
    sign_name: str = "劳动合同签"
    templates: dict[str, str] = field(default_factory=dict)  # template id → text with {1}{2}…
    blacklist: set[str] = field(default_factory=set)
    next_statuses: list[str] = field(default_factory=list)  # a per-number Code for the next sends
    sent: list[dict[str, Any]] = field(default_factory=list)

    def handlers(self) -> dict[str, Handler]:
        return {"SendSms": self.send_sms}

    def codes_for(self, phone: str) -> list[str]:
        return [m["params"][0] for m in self.sent if m["phone"] == phone and m["params"] and m["params"][0].isdigit()]

    async def send_sms(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("SmsSdkAppId") != self.sdk_app_id:
            return api_error("FailedOperation.SdkAppIdNotExist", "SdkAppId not exist")
        if params.get("SignName") != self.sign_name:
            return api_error("FailedOperation.SignatureIncorrectOrUnapproved", "signature unapproved")
        text = self.templates.get(str(params.get("TemplateId")))
        if text is None:
            return api_error("FailedOperation.TemplateIncorrectOrUnapproved", "template unapproved")
        values = [str(v) for v in params.get("TemplateParamSet") or []]
        if len(values) != len(set(re.findall(r"\{(\d+)\}", text))):
            return api_error("InvalidParameterValue.TemplateParameterFormatError", "parameter count")
        statuses = []
        for number in params.get("PhoneNumberSet") or []:
            phone = str(number).removeprefix("+86")
            code, message = "Ok", "send success"
            if self.next_statuses:
                code, message = self.next_statuses.pop(0), "forced"
            elif phone in self.blacklist:
                code, message = "FailedOperation.PhoneNumberInBlacklist", "phone number in blacklist"
            if code == "Ok":
                body = re.sub(r"\{(\d+)\}", lambda m: values[int(m.group(1)) - 1], text)
                self.sent.append(
                    {"phone": phone, "template": params["TemplateId"], "params": values, "text": body,
                     "session": params.get("SessionContext")}
                )  # fmt: skip
            statuses.append(
                {"SerialNo": secrets.token_hex(8), "PhoneNumber": number, "Fee": 1, "SessionContext": "",
                 "Code": code, "Message": message, "IsoCode": "CN"}
            )  # fmt: skip
        return {"SendStatusSet": statuses}
