"""Integrator webhooks with the default configuration: targets on loopback, link-local,
private or other non-global addresses are refused at registration and at delivery (a name
re-pointed at loopback after registration), bad input is 422 in Chinese, only those with the
integrations permission manage endpoints, another enterprise's ids are 404, and the secret
is never shown again."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from laborsign.core.errors import Invalid
from laborsign.core.integrations import TargetPolicy, validate_url
from laborsign.storage.integrations import webhook_endpoints
from tests.chat_helpers import deliver
from tests.conftest import Api
from tests.test_onboarding import onboard
from tests.webhook_receiver import receiver

PUBLIC = "https://1.1.1.1/hooks/laborsign"
REFUSED = [
    "http://127.0.0.1/hook",
    "http://127.8.9.10:8080/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
    "http://[2002:a00:1::1]/hook",  # 6to4 of 10.0.0.1
    "http://[fec0::1]/hook",  # site-local
    "http://0.0.0.0/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.5/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://100.64.0.1/hook",
    "http://224.0.0.1/hook",
    "http://2130706433/hook",  # 127.0.0.1 written as one number
]


async def test_non_public_targets_are_refused_at_registration(api: Api, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    for url in REFUSED:
        refused = await api.post("/api/v1/webhook-endpoints", {"url": url, "events": ["contract.completed"]})
        assert api.last_status == 422, (url, refused)
        assert "内网" in refused["fields"]["url"] and "allow_private_targets" in refused["message"], url
    assert (await api.get("/api/v1/webhook-endpoints"))["items"] == []


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"url": "ftp://1.1.1.1/x", "events": ["contract.completed"]}, "url", "http"),
        ({"url": "1.1.1.1/x", "events": ["contract.completed"]}, "url", "http"),
        ({"url": "", "events": ["contract.completed"]}, "url", "请填写"),
        ({"url": "https://user:pw@1.1.1.1/x", "events": ["contract.completed"]}, "url", "用户名"),
        ({"url": "https://1.1.1.1:99999/x", "events": ["contract.completed"]}, "url", "格式"),
        ({"url": "https:///x", "events": ["contract.completed"]}, "url", "主机"),
        ({"url": PUBLIC, "events": ["contract.exploded"]}, "events", "未知的事件类型"),
        ({"url": PUBLIC, "events": []}, "events", "至少"),
        ({"url": PUBLIC}, "events", "必填"),
        ({"url": PUBLIC, "events": "contract.completed"}, "events", "列表"),
    ],
)
async def test_bad_input_is_422_in_chinese(
    api: Api, clock: FakeClock, body: dict[str, Any], field: str, words: str
) -> None:
    await api.register_enterprise(clock)
    refused = await api.post("/api/v1/webhook-endpoints", body, expect=422)
    assert words in refused["fields"][field], refused


def test_production_mode_wants_https() -> None:
    production = TargetPolicy(https_only=True)
    with pytest.raises(Invalid) as caught:
        validate_url("http://example.com/hook", production)
    assert "https" in caught.value.fields["url"]
    assert validate_url("https://example.com/hook", production).port == 443


async def test_a_name_re_pointed_at_loopback_is_refused_at_delivery(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    async with receiver() as recv:
        await api.register_enterprise(clock)
        by_name = await api.post(
            "/api/v1/webhook-endpoints", {"url": PUBLIC, "events": ["onboarding.submitted"]}, expect=201
        )
        by_address = await api.post(
            "/api/v1/webhook-endpoints",
            {"url": PUBLIC + "/2", "events": ["onboarding.submitted"]},
            expect=201,
        )
        # After registration the target changes under the platform's feet: the name now
        # resolves to this machine (DNS rebinding), or the row says loopback outright.
        async with client.app[DEPS].uow() as uow:
            for endpoint_id, url in (
                (by_name["id"], f"http://localhost:{recv.port}/hook"),
                (by_address["id"], f"http://127.0.0.1:{recv.port}/hook"),
            ):
                await uow.session.execute(
                    update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id).values(url=url)
                )
            await uow.commit()
        await onboard(api, await make_api(), clock)
        stats = await deliver(client)
        assert recv.received == [], "nothing reached the loopback receiver"
        assert stats.dead == 2
        for endpoint in (by_name, by_address):
            page = await api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries")
            dead = page["items"][0]
            assert dead["status"] == "dead" and "内网" in dead["last_error"]
            assert dead["history"][0]["status_code"] is None


async def test_only_members_with_the_permission_manage_endpoints(
    api: Api, make_api: Any, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    await api.post(
        "/api/v1/members", {"name": "李四", "phone": "13900139000", "permissions": ["contracts"]}, expect=201
    )
    await api.post(
        "/api/v1/members",
        {"name": "王六", "phone": "13600136000", "permissions": ["integrations"]},
        expect=201,
    )
    li = await make_api()
    await li.login(clock, "13900139000")
    refused = await li.post(
        "/api/v1/webhook-endpoints", {"url": PUBLIC, "events": ["contract.completed"]}, expect=403
    )
    assert refused["error"] == "permission_denied" and "系统集成" in refused["message"]
    await li.get("/api/v1/webhook-endpoints", expect=403)

    wang = await make_api()
    await wang.login(clock, "13600136000")
    created = await wang.post(
        "/api/v1/webhook-endpoints", {"url": PUBLIC, "events": ["contract.completed"]}, expect=201
    )
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    await li.get(f"/api/v1/webhook-endpoints/{created['id']}", expect=403)
    await li.call("DELETE", f"/api/v1/webhook-endpoints/{created['id']}", expect=403)

    # The secret is shown once: neither the list nor the endpoint answer, nor the table, has it.
    listed = await api.get("/api/v1/webhook-endpoints")
    one = await api.get(f"/api/v1/webhook-endpoints/{created['id']}")
    assert listed["items"] == [one] and one["url"] == PUBLIC and one["events"] == ["contract.completed"]
    assert created["secret"] not in repr(listed) + repr(one)
    async with api.client.app[DEPS].uow() as uow:
        rows = (await uow.session.execute(webhook_endpoints.select())).all()
    assert created["secret"] not in repr(rows)

    # An API key acts with the enterprise's full rights.
    key = await api.post("/api/v1/api-keys", {"name": "OA 系统"}, expect=201)
    integrator = await make_api()
    integrator.bearer = key["secret"]
    mine = await integrator.get("/api/v1/webhook-endpoints")
    assert [e["id"] for e in mine["items"]] == [created["id"]]
    await integrator.call("DELETE", f"/api/v1/webhook-endpoints/{created['id']}", expect=204)
    await api.get(f"/api/v1/webhook-endpoints/{created['id']}", expect=404)


async def test_another_enterprises_deliveries_are_404(api: Api, make_api: Any, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    b = await make_api()
    await b.register_enterprise(
        clock, phone="13900139000", name="乙方企业有限公司", credit_code="91440101MA59ABCD0A"
    )
    theirs = await b.post(
        "/api/v1/webhook-endpoints", {"url": PUBLIC, "events": ["onboarding.submitted"]}, expect=201
    )
    await onboard(b, await make_api(), clock)
    delivery = (await b.get(f"/api/v1/webhook-endpoints/{theirs['id']}/deliveries"))["items"][0]
    mine = await api.post(
        "/api/v1/webhook-endpoints", {"url": PUBLIC, "events": ["onboarding.submitted"]}, expect=201
    )
    for path in (
        f"/api/v1/webhook-endpoints/{theirs['id']}/deliveries/{delivery['id']}/redeliver",
        f"/api/v1/webhook-endpoints/{mine['id']}/deliveries/{delivery['id']}/redeliver",
    ):
        answer = await api.post(path, expect=404)
        assert answer["error"].endswith("not_found") and "不存在" in answer["message"]
    assert (await api.get(f"/api/v1/webhook-endpoints/{mine['id']}/deliveries"))["items"] == []


async def test_a_secret_that_no_longer_opens_is_dead_at_once(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    """Sealed under another key (security.secret_key changed): no try could sign it, so none is
    sent unsigned and the delivery waits, dead, for the operator."""
    await api.register_enterprise(clock)
    endpoint = await api.post(
        "/api/v1/webhook-endpoints", {"url": PUBLIC, "events": ["onboarding.submitted"]}, expect=201
    )
    deps = client.app[DEPS]
    async with deps.uow() as uow:
        foreign = deps.cipher.encrypt("whsec_other", "webhook_endpoints.secret:another-endpoint")
        await uow.session.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.id == endpoint["id"])
            .values(secret_enc=foreign)
        )
        await uow.commit()
    await onboard(api, await make_api(), clock)
    assert (await deliver(client)).dead == 1
    dead = (await api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries"))["items"][0]
    assert dead["status"] == "dead" and dead["attempts"] == 1 and "无法解密" in dead["last_error"]


def test_public_addresses_pass_the_address_rule() -> None:
    from ipaddress import ip_address

    from laborsign.core.integrations import refused_address

    for public in ("1.1.1.1", "8.8.8.8", "2400:3200::1", "64:ff9b::808:808", "2002:808:808::1"):
        assert not refused_address(ip_address(public)), public
