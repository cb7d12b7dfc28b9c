"""SMS through the operator's gateway bridge (`[sms] provider = "http"`): signed JSON, the
code a person logs in with, retries with backoff when the bridge is down, a dead letter when
it refuses for good, and start-up refused without the bridge's address and key."""

from __future__ import annotations

from typing import Any

import pytest

from laborsign.config import ConfigError, load_config
from laborsign.core.clock import FakeClock
from tests.chat_helpers import deliver
from tests.conftest import Api
from tests.fakes.sms_bridge import FakeSmsBridge

PHONE = "13800138000"


@pytest.fixture
def bridge(clock: FakeClock) -> FakeSmsBridge:
    return FakeSmsBridge(now=lambda: clock.now().timestamp())


@pytest.fixture
async def config_env(
    config_env: dict[str, str], aiohttp_server: Any, bridge: FakeSmsBridge
) -> dict[str, str]:
    server = await aiohttp_server(bridge.app())
    return dict(
        config_env,
        LABORSIGN_SMS__PROVIDER="http",
        LABORSIGN_SMS__HTTP_URL=str(server.make_url("/sms")),
        LABORSIGN_SMS__HTTP_SECRET=bridge.secret,
    )


async def stored_code_rows(client: Any, code: str | None) -> list[Any]:
    """Outbox rows whose text or payload still holds the code (read as raw rows)."""
    from sqlalchemy import select

    from laborsign.api.http import DEPS
    from laborsign.storage.outbox import outbox

    assert code
    async with client.app[DEPS].uow() as uow:
        rows = (await uow.session.execute(select(outbox.c.text, outbox.c.payload))).all()
    return [row for row in rows if code in row.text or code in str(row.payload)]


async def test_a_code_reaches_the_bridge_and_logs_the_person_in(
    api: Api, client: Any, clock: FakeClock, bridge: FakeSmsBridge
) -> None:
    await api.post("/api/v1/sms/codes", {"phone": PHONE, "purpose": "register"}, expect=202)
    await api.get(f"/api/v1/dev/sms?phone={PHONE}", expect=404)  # no development inbox here
    await deliver(client)
    (sent,) = bridge.accepted
    assert sent["phone"] == PHONE and sent["kind"] == "sms_code" and sent["purpose"] == "register"
    assert sent["content"].startswith("【劳动合同签】") and sent["code"] in sent["text"]
    # Sent: whoever reads the outbox table now cannot learn the code.
    assert await stored_code_rows(client, sent["code"]) == []
    registered = await api.post(
        "/api/v1/enterprises",
        {"name": "广州测试科技有限公司", "credit_code": "91350100M000100Y43", "org_type": "enterprise",
         "admin_name": "张管理", "admin_phone": PHONE, "code": sent["code"], "agree_terms": True},
        expect=201,
    )  # fmt: skip
    assert registered["enterprise"]["name"] == "广州测试科技有限公司"
    await deliver(client)
    assert len(bridge.accepted) == 1, "sent once"


async def test_bridge_down_is_retried_and_a_refusal_is_a_dead_letter(
    api: Api, client: Any, clock: FakeClock, bridge: FakeSmsBridge
) -> None:
    bridge.next_statuses = [503]
    await api.post("/api/v1/sms/codes", {"phone": PHONE, "purpose": "login"}, expect=202)
    first = await deliver(client)
    assert bridge.accepted == [] and bridge.refused == [503] and first.retried == 1
    await deliver(client)
    assert bridge.accepted == [], "not before the backoff"
    clock.advance(seconds=11)
    await deliver(client)
    assert len(bridge.accepted) == 1 and bridge.codes_for(PHONE)

    clock.advance(seconds=61)
    bridge.next_statuses = [422]
    await api.post("/api/v1/sms/codes", {"phone": "13900139000", "purpose": "login"}, expect=202)
    refused = await deliver(client)
    assert refused.dead == 1 and bridge.refused == [503, 422]
    assert await stored_code_rows(client, bridge.received[-1]["code"]) == [], "nor is a dead one kept"
    clock.advance(hours=2)
    await deliver(client)
    assert bridge.codes_for("13900139000") == [], "a refusal is not tried again"


async def test_a_wrong_key_is_refused_by_the_bridge(
    api: Api, client: Any, clock: FakeClock, bridge: FakeSmsBridge
) -> None:
    bridge.secret = "another-key-0123456789"
    await api.post("/api/v1/sms/codes", {"phone": PHONE, "purpose": "login"}, expect=202)
    stats = await deliver(client)
    assert bridge.refused == [403] and bridge.accepted == [] and stats.dead == 1


def test_the_bridge_needs_its_address_and_key(config_env: dict[str, str]) -> None:
    base = {k: v for k, v in config_env.items() if not k.startswith("LABORSIGN_SMS__")}
    with pytest.raises(ConfigError, match=r"sms.*http_url"):
        load_config(environ={**base, "LABORSIGN_SMS__PROVIDER": "http"})
    with pytest.raises(ConfigError, match=r"sms.*http_secret"):
        load_config(
            environ={
                **base,
                "LABORSIGN_SMS__PROVIDER": "http",
                "LABORSIGN_SMS__HTTP_URL": "https://sms.example.cn/send",
            }
        )
    with pytest.raises(ConfigError, match=r"sms\.provider"):
        load_config(environ={**base, "LABORSIGN_SMS__PROVIDER": "carrier-pigeon"})
