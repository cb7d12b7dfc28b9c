"""Production mode: start-up refused while anything a real deployment must not run with is left,
`laborsign check-config`, the development doors only for the capability they stand in for,
and one run as an operator would make it — Aliyun SMS and Tencent Cloud identity pointed at
fakes that check the signatures: HR registers, logs in and verifies with the codes the vendor
received, workers verify by carrier and by bank card, and the one whose verified identity is
not the roster's cannot sign."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from laborsign.bootstrap import create_app, dev_capabilities
from laborsign.cli import main
from laborsign.config import ConfigError, load_config
from laborsign.core.clock import FakeClock
from laborsign.core.sms_templates import KINDS
from tests.chat_helpers import deliver
from tests.conftest import Api, _Browser
from tests.fakes.aliyun_sms import FakeAliyunSms
from tests.fakes.legal_rep_appcode import FakeLegalRep
from tests.fakes.tencent_faceid import FakeFaceId
from tests.test_contracts import signature_png
from tests.test_onboarding import FORM, onboard
from tests.test_sms_vendors import ALIYUN_TEXTS, aliyun_env
from tests.test_templates import CONTROLS, upload

HR = "13800138000"
HR_ID = "440304200001010017"
WORKER_B = {**FORM, "name": "赵六", "phone": "13500135000", "id_number": "440106199003071231",
            "birth_date": "1990-03-07", "gender": "male"}  # fmt: skip
OTHER_ID = "11010519491231002X"  # the identity worker B proves at the bank is someone else's
CARD = "6217000000000000004"


def production_env(config_env: dict[str, str]) -> dict[str, str]:
    return {
        **config_env,
        "LABORSIGN_SERVER__ENVIRONMENT": "production",
        "LABORSIGN_SERVER__PUBLIC_URL": "https://sign.example.cn",
        "LABORSIGN_SERVER__SECURE_COOKIES": "true",
        "LABORSIGN_IDENTITY__PROVIDER": "disabled",
    }


def test_production_refuses_to_start_naming_each_key(config_env: dict[str, str]) -> None:
    env = production_env(config_env)
    with pytest.raises(ConfigError) as caught:
        load_config(environ={**env, "LABORSIGN_IDENTITY__PROVIDER": "sandbox"})
    message = str(caught.value)
    for key in ("sms.provider", "identity.carrier_provider", "identity.corporate_payment_provider"):
        assert f"{key}: 生产环境不能使用" in message
    env = {**env, **aliyun_env(FakeAliyunSms(), "https://sms.example.cn"), "LABORSIGN_IDENTITY__CARRIER_PROVIDER": "sandbox"}
    with pytest.raises(ConfigError, match=r"identity\.carrier_provider: 生产环境不能使用 sandbox") as caught:
        load_config(environ=env)
    assert "sms.provider" not in str(caught.value)
    env["LABORSIGN_IDENTITY__CARRIER_PROVIDER"] = "disabled"
    env["LABORSIGN_IDENTITY__FACE_PROVIDER"] = "tencent"
    for key, value, text in (
        ("LABORSIGN_SECURITY__SECRET_KEY", "", r"security\.secret_key: 生产环境必须配置固定密钥"),
        ("LABORSIGN_SERVER__PUBLIC_URL", "http://sign.example.cn", r"server\.public_url: 生产环境必须是 https://"),
        ("LABORSIGN_SERVER__SECURE_COOKIES", "false", r"server\.secure_cookies: 生产环境必须为 true"),
        ("LABORSIGN_IDENTITY__TENCENT_SECRET_ID", "", r"identity\.tencent_secret_id"),
    ):
        with pytest.raises(ConfigError, match=text):
            load_config(environ={**env, "LABORSIGN_IDENTITY__TENCENT_SECRET_ID": "id", "LABORSIGN_IDENTITY__TENCENT_SECRET_KEY": "k", "LABORSIGN_IDENTITY__TENCENT_RULE_ID": "1", key: value})  # fmt: skip
    with pytest.raises(ConfigError, match="个人实名认证方式全部停用"):
        load_config(environ={**env, "LABORSIGN_IDENTITY__FACE_PROVIDER": "disabled"})


def test_check_config_prints_each_capability_and_exits_non_zero(
    config_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in config_env.items():
        monkeypatch.setenv(name, value)
    assert main(["check-config"]) == 1, "the embedded defaults are for development"
    out = capsys.readouterr().out
    assert "sms.provider = outbox" in out and "identity.bankcard_provider = sandbox" in out
    assert "✗ server.public_url" in out and "当前为开发环境（development），可以启动" in out
    for name, value in {**production_env(config_env), **aliyun_env(FakeAliyunSms(), "https://sms.example.cn"),
                        "LABORSIGN_IDENTITY__CARRIER_PROVIDER": "tencent", "LABORSIGN_IDENTITY__TENCENT_SECRET_ID": "id",
                        "LABORSIGN_IDENTITY__TENCENT_SECRET_KEY": "key"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert "identity.carrier_provider = tencent（腾讯云）  —  就绪" in out and "检查通过" in out
    monkeypatch.setenv("LABORSIGN_IDENTITY__TENCENT_SECRET_KEY", "")
    assert main(["check-config"]) == 1
    assert "缺少 identity.tencent_secret_key" in capsys.readouterr().out
    assert main(["serve"]) == 2, "and it does not start"
    assert "identity.tencent_secret_key" in capsys.readouterr().err


def test_each_development_door_exists_only_for_its_own_capability(config_env: dict[str, str]) -> None:
    def doors(**env: str) -> dict[str, bool]:
        return dev_capabilities(load_config(environ={**config_env, **env}))

    assert doors() == {"sms": True, "payments": True, "sandbox_pages": True}
    assert doors(**aliyun_env(FakeAliyunSms(), "http://127.0.0.1:9"))["sms"] is False
    assert doors(LABORSIGN_IDENTITY__CORPORATE_PAYMENT_PROVIDER="manual")["payments"] is False
    assert doors(LABORSIGN_IDENTITY__FACE_PROVIDER="disabled")["sandbox_pages"] is True  # enterprise Alipay
    assert doors(LABORSIGN_IDENTITY__FACE_PROVIDER="disabled", LABORSIGN_IDENTITY__ENTERPRISE_ALIPAY_PROVIDER="disabled") == {
        "sms": True, "payments": True, "sandbox_pages": False,
    }  # fmt: skip


class VendorApi(Api):
    """A browser whose SMS codes arrive the way a person's do: through the vendor."""

    def __init__(self, client: Any, vendor: FakeAliyunSms, app_client: Any) -> None:
        super().__init__(client)
        self.vendor = vendor
        self.app_client = app_client

    async def received(self, phone: str) -> str:
        await deliver(self.app_client)
        return self.vendor.codes_for(phone)[-1]

    async def sms_code(self, phone: str, purpose: str) -> str:
        await self.post("/api/v1/sms/codes", {"phone": phone, "purpose": purpose}, expect=202)
        return await self.received(phone)


@pytest.fixture
async def production(
    aiohttp_client: Any, aiohttp_server: Any, config_env: dict[str, str], clock: FakeClock
) -> AsyncIterator[dict[str, Any]]:
    aliyun = FakeAliyunSms(templates=dict(ALIYUN_TEXTS))
    faceid = FakeFaceId(
        carrier_records={HR: ("张管理", HR_ID), FORM["phone"]: (FORM["name"], FORM["id_number"])},
        bank_records={CARD: (WORKER_B["name"], OTHER_ID, WORKER_B["phone"], "")},
    )
    legal_rep = FakeLegalRep(registry={"91350100M000100Y43": ("广州测试科技有限公司", "李法人", HR_ID)})
    servers = [await aiohttp_server(fake.app()) for fake in (aliyun, faceid, legal_rep)]
    env = {
        **production_env(config_env),
        **aliyun_env(aliyun, str(servers[0].make_url(""))),
        "LABORSIGN_IDENTITY__CARRIER_PROVIDER": "tencent",
        "LABORSIGN_IDENTITY__BANKCARD_PROVIDER": "tencent",
        "LABORSIGN_IDENTITY__FACE_PROVIDER": "tencent",
        "LABORSIGN_IDENTITY__LEGAL_REP_PROVIDER": "appcode",
        "LABORSIGN_IDENTITY__CORPORATE_PAYMENT_PROVIDER": "manual",
        "LABORSIGN_IDENTITY__TENCENT_SECRET_ID": faceid.secret_id,
        "LABORSIGN_IDENTITY__TENCENT_SECRET_KEY": faceid.secret_key,
        "LABORSIGN_IDENTITY__TENCENT_RULE_ID": faceid.rule_id,
        "LABORSIGN_IDENTITY__TENCENT_API_BASE_URL": str(servers[1].make_url("")),
        "LABORSIGN_IDENTITY__LEGAL_REP_APPCODE": legal_rep.appcode,
        "LABORSIGN_IDENTITY__LEGAL_REP_API_BASE_URL": str(servers[2].make_url("")),
    }
    server = await aiohttp_server(create_app(load_config(environ=env), clock=clock, migrate=False))
    origin = str(server.make_url(""))
    client = await aiohttp_client(server, cookie_jar=aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=origin))
    sessions: list[aiohttp.ClientSession] = []

    def browser() -> VendorApi:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=origin))
        sessions.append(session)
        return VendorApi(_Browser(client, session), aliyun, client)

    yield {"hr": VendorApi(client, aliyun, client), "browser": browser, "aliyun": aliyun, "faceid": faceid}
    for s in sessions:
        await s.close()


async def _verify_by_carrier(api: VendorApi, phone: str, name: str, number: str, clock: FakeClock) -> None:
    body = {"method": "carrier3", "consent": True, "name": name, "id_type": "resident_id", "id_number": number, "phone": phone}
    v = await api.post("/api/v1/me/verifications", body, expect=201)
    assert v["status"] == "code_sent", v
    code = await api.received(phone)
    assert (await api.post(f"/api/v1/me/verifications/{v['id']}/confirm", {"code": code}, expect=200))["status"] == "verified"
    clock.advance(seconds=61)


async def test_an_operator_run_against_the_vendors(production: dict[str, Any], clock: FakeClock) -> None:
    hr: VendorApi = production["hr"]
    aliyun: FakeAliyunSms = production["aliyun"]
    for path in ("/api/v1/dev/sms?phone=13800138000", "/api/v1/dev/payments?enterprise_id=x",
                 "/sandbox/identity/face/sbx_face_x", "/sandbox/identity/alipay/sbx_alipay_x"):  # fmt: skip
        await hr.get(path, expect=404)
    await hr.post("/api/v1/webhooks/identity/sandbox", {"ref": "x"}, expect=404)
    await hr.post("/webhooks/identity/sandbox", {"ref": "x"}, expect=404)

    # HR registers and logs in with the codes Aliyun delivered; verifies through Tencent.
    await hr.register_enterprise(clock, phone=HR)
    await hr.post("/api/v1/auth/logout", expect=204)
    await hr.login(clock, HR)
    assert {m["template"] for m in aliyun.sent} == {"SMS_1", "SMS_0"} and aliyun.refused_signatures == 0
    await hr.post("/api/v1/enterprise/verification/info", expect=200)
    await _verify_by_carrier(hr, HR, "张管理", HR_ID, clock)
    rep = {"method": "legal_rep", "legal_rep_name": "李法人", "legal_rep_id_number": HR_ID, "legal_rep_phone": "13900139000"}
    await hr.post("/api/v1/enterprise/verification", rep, expect=201)
    code = await hr.received("13900139000")
    assert (await hr.post("/api/v1/enterprise/verification/confirm", {"code": code}, expect=200))["status"] == "verified"

    template = await upload(hr)
    await hr.call("PUT", f"/api/v1/templates/{template['id']}/controls", {"controls": CONTROLS}, expect=200)
    await hr.post(f"/api/v1/templates/{template['id']}/enable", expect=200)
    employees = {}
    for form in (FORM, WORKER_B):
        worker = production["browser"]()
        record = await onboard(hr, worker, clock, form)
        approved = await hr.post(f"/api/v1/onboarding/{record['id']}/approve", {}, expect=200)
        employees[form["phone"]] = (worker, approved["employee_id"])
        clock.advance(seconds=61)

    # Worker A by carrier, worker B by bank card: both through Tencent, both verified.
    worker_a, employee_a = employees[FORM["phone"]]
    await _verify_by_carrier(worker_a, FORM["phone"], FORM["name"], FORM["id_number"], clock)
    worker_b, employee_b = employees[WORKER_B["phone"]]
    card = {"method": "bankcard4", "consent": True, "name": WORKER_B["name"], "id_type": "resident_id",
            "id_number": OTHER_ID, "phone": WORKER_B["phone"], "bank_card": CARD}  # fmt: skip
    assert (await worker_b.post("/api/v1/me/verifications", card, expect=201))["status"] == "verified"
    assert {r["action"] for r in production["faceid"].requests} == {"PhoneVerification", "BankCard4EVerification"}

    launch = {"template_ids": [template["id"]], "employee_ids": [employee_a, employee_b],
              "enterprise_party": {"seal_type": "contract"}, "fields": {"salary": "6000", "position": "技工"}}  # fmt: skip
    contracts = {c["employee_id"]: c["id"] for c in (await hr.post("/api/v1/contracts", launch, expect=201))["contracts"]}
    await deliver(hr.client)
    assert any(m["template"] == "SMS_6" and m["phone"] == WORKER_B["phone"] for m in aliyun.sent), "signing notice"

    refused = await worker_b.post(
        f"/api/v1/me/contracts/{contracts[employee_b]}/signature", {"signature_png": signature_png()}, expect=409
    )
    assert refused["error"] == "identity_mismatch" and "证件号码" in refused["message"]
    detail = await hr.get(f"/api/v1/contracts/{contracts[employee_b]}")
    assert detail["signer_refusal"]["reason"] == "实名认证证件号码与花名册不一致"
    assert detail["parties"][1]["status"] == "pending"

    session = await worker_a.post(
        f"/api/v1/me/contracts/{contracts[employee_a]}/signature", {"signature_png": signature_png()}, expect=201
    )
    code = await worker_a.received(FORM["phone"])
    signed = await worker_a.post(f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": code}, expect=200)
    assert signed["signed"] == [contracts[employee_a]]
    assert len(KINDS) == len(ALIYUN_TEXTS)


def test_the_readme_worked_config_passes_the_production_checklist(tmp_path: Any) -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Going to production", 1)[1]
    worked = section.split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "config.toml"
    path.write_text(worked, encoding="utf-8")
    config = load_config(path, environ={})
    assert config.server.environment == "production" and config.sms.provider == "aliyun"
    assert config.identity.chosen("bankcard") == "tencent" and config.identity.chosen("legal_rep") == "disabled"
