"""SMS through Aliyun and Tencent Cloud, each with its official SDK pointed at a local fake that
checks the request signature (ACS3-HMAC-SHA256 / TC3-HMAC-SHA256): the code a person logs in
with, every kind going out from its own template with its parameters, refusals dead-lettered,
busy answers, timeouts and unreadable answers retried, start-up refused without a template."""

from __future__ import annotations

from typing import Any

import pytest

from laborsign.bootstrap import create_app
from laborsign.config import ConfigError, load_config
from laborsign.core.clock import FakeClock
from laborsign.core.outbox import sms
from laborsign.core.sms_templates import KINDS
from tests.chat_helpers import deliver
from tests.conftest import Api
from tests.fakes.aliyun_sms import FakeAliyunSms
from tests.fakes.tencent_sms import FakeTencentSms

PHONE = "13800138000"
ALIYUN_TEXTS = {f"SMS_{i}": k.example for i, k in enumerate(KINDS)}
TENCENT_TEXTS = {str(100 + i): k.example for i, k in enumerate(KINDS)}


def _numbered(text: str, params: tuple[str, ...]) -> str:
    for i, name in enumerate(params, 1):
        text = text.replace("${" + name + "}", "{" + str(i) + "}")
    return text


@pytest.fixture
def aliyun() -> FakeAliyunSms:
    return FakeAliyunSms(templates=dict(ALIYUN_TEXTS))


@pytest.fixture
def tencent() -> FakeTencentSms:
    return FakeTencentSms(
        templates={str(100 + i): _numbered(k.example, k.params) for i, k in enumerate(KINDS)}
    )


def aliyun_env(fake: FakeAliyunSms, url: str) -> dict[str, str]:
    return {
        "LABORSIGN_SMS__PROVIDER": "aliyun",
        "LABORSIGN_SMS__ALIYUN_ACCESS_KEY_ID": fake.access_key_id,
        "LABORSIGN_SMS__ALIYUN_ACCESS_KEY_SECRET": fake.access_key_secret,
        "LABORSIGN_SMS__ALIYUN_ENDPOINT": url,
        "LABORSIGN_SMS__TEMPLATES": ",".join(f"{k.key}=SMS_{i}" for i, k in enumerate(KINDS)),
        "LABORSIGN_SMS__TIMEOUT": "1",
    }


async def _app(aiohttp_client: Any, env: dict[str, str], clock: FakeClock) -> Api:
    app = create_app(load_config(environ=env), clock=clock, migrate=False)
    return Api(await aiohttp_client(app))


@pytest.fixture
async def aliyun_api(
    aiohttp_client: Any, aiohttp_server: Any, config_env: dict[str, str], clock: FakeClock, aliyun: FakeAliyunSms
) -> Api:
    server = await aiohttp_server(aliyun.app())
    return await _app(aiohttp_client, {**config_env, **aliyun_env(aliyun, str(server.make_url("")))}, clock)


@pytest.fixture
async def tencent_api(
    aiohttp_client: Any, aiohttp_server: Any, config_env: dict[str, str], clock: FakeClock, tencent: FakeTencentSms
) -> Api:
    server = await aiohttp_server(tencent.app())
    env = {
        **config_env,
        "LABORSIGN_SMS__PROVIDER": "tencent",
        "LABORSIGN_SMS__TENCENT_SECRET_ID": tencent.secret_id,
        "LABORSIGN_SMS__TENCENT_SECRET_KEY": tencent.secret_key,
        "LABORSIGN_SMS__TENCENT_SDK_APP_ID": tencent.sdk_app_id,
        "LABORSIGN_SMS__TENCENT_ENDPOINT": str(server.make_url("")),
        "LABORSIGN_SMS__TEMPLATES": ",".join(f"{k.key}={100 + i}" for i, k in enumerate(KINDS)),
        "LABORSIGN_SMS__TIMEOUT": "1",
    }
    return await _app(aiohttp_client, env, clock)


async def _register(api: Api, code: str) -> Any:
    return await api.post(
        "/api/v1/enterprises",
        {"name": "广州测试科技有限公司", "credit_code": "91350100M000100Y43", "org_type": "enterprise",
         "admin_name": "张管理", "admin_phone": PHONE, "code": code, "agree_terms": True},
        expect=201,
    )  # fmt: skip


async def test_aliyun_code_logs_the_person_in_and_notices_use_their_own_templates(
    aliyun_api: Api, aliyun: FakeAliyunSms, clock: FakeClock
) -> None:
    api = aliyun_api
    await api.post("/api/v1/sms/codes", {"phone": PHONE, "purpose": "register"}, expect=202)
    await api.get(f"/api/v1/dev/sms?phone={PHONE}", expect=404)  # no development inbox here
    await deliver(api.client)
    (sent,) = aliyun.sent
    assert sent["template"] == "SMS_1" and sent["text"].startswith("【劳动合同签】您的注册验证码为")
    assert aliyun.refused_signatures == 0
    await _register(api, sent["params"]["code"])
    clock.advance(seconds=61)
    await api.post("/api/v1/invitations", {"name": "李四", "phone": "13900139000"}, expect=201)
    await deliver(api.client)
    invite = aliyun.sent[-1]
    assert invite["template"] == "SMS_5" and invite["params"]["name"] == "李四"
    assert invite["params"]["enterprise"] == "广州测试科技有限公司" and "/join/" in invite["params"]["link"]
    assert invite["out_id"], "the message id travels with it"


async def test_aliyun_refusals_dead_letter_and_busy_answers_are_retried(
    aliyun_api: Api, aliyun: FakeAliyunSms, clock: FakeClock
) -> None:
    api = aliyun_api
    aliyun.blacklist.add(PHONE)
    await api.post("/api/v1/sms/codes", {"phone": PHONE, "purpose": "login"}, expect=202)
    assert (await deliver(api.client)).dead == 1
    clock.advance(hours=2)
    assert (await deliver(api.client)).handled == 0, "a refusal is not tried again"

    other = "13700137000"
    aliyun.next_codes = ["isv.BUSINESS_LIMIT_CONTROL"]
    aliyun.next_http = []
    await api.post("/api/v1/sms/codes", {"phone": other, "purpose": "login"}, expect=202)
    assert (await deliver(api.client)).retried == 1
    aliyun.next_http = [(400, "Throttling.User")]
    clock.advance(seconds=11)
    assert (await deliver(api.client)).retried == 1
    clock.advance(seconds=21)
    aliyun.garble = True
    assert (await deliver(api.client)).retried == 1, "an unreadable answer is tried again"
    aliyun.garble = False
    clock.advance(seconds=41)
    assert (await deliver(api.client)).sent == 1 and aliyun.codes_for(other)


async def test_aliyun_wrong_secret_and_timeouts(aliyun_api: Api, aliyun: FakeAliyunSms, clock: FakeClock) -> None:
    api = aliyun_api
    aliyun.hang = True
    await api.post("/api/v1/sms/codes", {"phone": PHONE, "purpose": "login"}, expect=202)
    assert (await deliver(api.client)).retried == 1, "no answer in time: tried again later"
    aliyun.hang = False
    aliyun.access_key_secret = "rotated-secret-000000000000000000"
    clock.advance(seconds=11)
    stats = await deliver(api.client)
    assert stats.dead == 1 and aliyun.refused_signatures == 1 and aliyun.sent == []


async def test_tencent_code_logs_in_and_refusals_follow_the_outbox_rules(
    tencent_api: Api, tencent: FakeTencentSms, clock: FakeClock
) -> None:
    api = tencent_api
    await api.post("/api/v1/sms/codes", {"phone": PHONE, "purpose": "register"}, expect=202)
    await deliver(api.client)
    (sent,) = tencent.sent
    assert sent["template"] == "101" and tencent.refused_signatures == 0
    await _register(api, tencent.codes_for(PHONE)[0])

    other = "13700137000"
    tencent.next_statuses = ["LimitExceeded.PhoneNumberThirtySecondLimit"]
    await api.post("/api/v1/sms/codes", {"phone": other, "purpose": "login"}, expect=202)
    assert (await deliver(api.client)).retried == 1
    clock.advance(seconds=11)
    tencent.next_errors = ["InternalError.Timeout"]
    assert (await deliver(api.client)).retried == 1
    clock.advance(seconds=21)
    assert (await deliver(api.client)).sent == 1 and tencent.codes_for(other)

    tencent.blacklist.add("13600136000")
    await api.post("/api/v1/sms/codes", {"phone": "13600136000", "purpose": "login"}, expect=202)
    assert (await deliver(api.client)).dead == 1
    tencent.secret_key = "rotated"
    clock.advance(seconds=61)
    await api.post("/api/v1/sms/codes", {"phone": other, "purpose": "login"}, expect=202)
    assert (await deliver(api.client)).dead == 1 and tencent.refused_signatures == 1


async def test_tencent_timeout_is_retried(tencent_api: Api, tencent: FakeTencentSms) -> None:
    tencent.hang = True
    await tencent_api.post("/api/v1/sms/codes", {"phone": PHONE, "purpose": "login"}, expect=202)
    assert (await deliver(tencent_api.client)).retried == 1


def test_every_kind_needs_a_template_and_the_environment_form(config_env: dict[str, str]) -> None:
    env = {**config_env, **aliyun_env(FakeAliyunSms(), "http://127.0.0.1:9")}
    config = load_config(environ=env)
    assert config.sms.templates["login"] == "SMS_0" and config.sms.templates["payment_sent"] == f"SMS_{len(KINDS) - 1}"
    short = ",".join(f"{k.key}=SMS_{i}" for i, k in enumerate(KINDS) if k.key != "reminder")
    with pytest.raises(ConfigError, match=r"sms\.templates: .*reminder"):
        load_config(environ={**env, "LABORSIGN_SMS__TEMPLATES": short})
    with pytest.raises(ConfigError, match=r"sms\.templates\.remind: 未知的短信类型"):
        load_config(environ={**env, "LABORSIGN_SMS__TEMPLATES": short + ",reminder=SMS_7,remind=SMS_9"})
    with pytest.raises(ConfigError, match=r"sms\.aliyun_access_key_secret"):
        load_config(environ={**env, "LABORSIGN_SMS__ALIYUN_ACCESS_KEY_SECRET": ""})


def test_a_message_without_its_parameters_is_never_sent_half_filled() -> None:
    from datetime import UTC, datetime

    from laborsign.core.sms_templates import NoTemplate, template_of

    now = datetime.now(UTC)
    kind, params = template_of("contract_withdrawn", sms(PHONE, "contract_withdrawn", "x", now, sms={
        "enterprise": "广州测试", "contract": "劳动合同", "reason": "信息有误"}).payload)  # fmt: skip
    assert kind.key == "withdrawn" and list(params) == ["enterprise", "contract", "reason"]
    with pytest.raises(NoTemplate, match="reason"):
        template_of("contract_withdrawn", {"sms": {"enterprise": "广州测试", "contract": "劳动合同"}})
    with pytest.raises(NoTemplate, match="greeting"):
        template_of("greeting", {})
