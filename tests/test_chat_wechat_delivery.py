"""WeChat notices that fail: what the platform will refuse again (unknown template, unknown or
unfollowing person, malformed data) dies at the first answer and goes to its SMS fallback;
what may pass later (system busy, quotas, stale tokens, a broken connection) is tried again
after the backoff. The real wechatpy client against the fake platform in every case."""

from __future__ import annotations

from typing import Any

import pytest

from laborsign.core import outbox as ob
from laborsign.core.clock import FakeClock
from laborsign.webhooks.common import CHAT
from tests.chat_helpers import Platforms, channel_env, deliver
from tests.conftest import Api

LINK = "https://laborsign.example/h5/contracts/c1"


@pytest.fixture
def config_env(config_env: dict[str, str], platforms: Platforms) -> dict[str, str]:
    return {
        **config_env,
        **channel_env(platforms),
        "LABORSIGN_WECHAT__NOTICE_TEMPLATE_ID": platforms.wechat.notice_template_id,
    }


async def queue_notice(client: Any, clock: FakeClock, openid: str, phone: str) -> None:
    async with client.app[CHAT].deps.uow() as uow:
        uow.outbox.add(
            ob.chat("wechat", openid, "contract_reminder", "请尽快签署《劳动合同》：", clock.now(),
                    link=LINK, fallback_phone=phone)
        )  # fmt: skip
        await uow.commit()


async def test_refusals_that_cannot_change_die_at_once_and_go_by_sms(
    api: Api, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    fake = platforms.wechat
    cases: list[tuple[int, str]] = []
    for i, code in enumerate([40003, 43004, 47001, 43101, 45015, 40037]):
        openid, phone = f"o-refused-{code}", f"1390000{i:04d}"
        cases.append((code, phone))
        if code == 43004:
            fake.unsubscribed.add(openid)  # the fake's own refusal, not an injected one
        elif code == 40037:
            fake.template_ids.clear()  # the template was deleted from the account's console
        else:
            fake.fail_next, fake.fail_errcode = 1, code
        await queue_notice(client, clock, openid, phone)
        stats = await deliver(client)
        assert (stats.dead, stats.retried, stats.sent) == (1, 0, 0), code
        assert fake.fail_next == 0
        # The SMS fallback is written with the dead letter and goes out on the next pass.
        assert (await deliver(client)).sent == 1
        sms = await api.get(f"/api/v1/dev/sms?phone={phone}")
        assert [m["text"] for m in sms["items"]] == [f"请尽快签署《劳动合同》： {LINK}"], code

    clock.advance(hours=2)
    assert (await deliver(client)).handled == 0, "nothing is tried again"
    assert fake.of("template") == []
    async with client.app[CHAT].deps.uow() as uow:
        letters, total = await uow.chat.dead_letters(None, 0, 20)
    assert total == len(cases)
    for letter in letters:
        assert letter.attempts == 1 and letter.channel == "wechat"
    assert sorted(code for code, _ in cases) == sorted(
        int(letter.last_error.split(":")[0].removeprefix("wechat ")) for letter in letters
    )


async def test_failures_that_may_pass_later_are_retried_after_the_backoff(
    api: Api, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    fake = platforms.wechat
    # (what the platform does, how many sends fail): a refused token is refreshed and the
    # send tried again at once; refused twice, it waits for the backoff like the rest.
    cases: list[tuple[str, int]] = [
        ("-1", 1), ("45009", 1), ("45047", 1), ("40001", 2), ("42001", 2), ("http", 1), ("disconnect", 1),
    ]  # fmt: skip
    await queue_notice(client, clock, "o-first", "13900019999")
    assert (await deliver(client)).sent == 1  # the access token is fetched once here
    for i, (failure, times) in enumerate(cases):
        openid, phone = f"o-busy-{i}", f"1390001{i:04d}"
        fake.fail_next = times
        fake.fail_with_http = failure == "http"
        fake.fail_by_disconnect = failure == "disconnect"
        fake.fail_errcode = int(failure) if failure.lstrip("-").isdigit() else -1
        tokens = fake.tokens_issued
        await queue_notice(client, clock, openid, phone)
        stats = await deliver(client)
        assert (stats.retried, stats.dead, stats.sent) == (1, 0, 0), failure
        assert fake.fail_next == 0
        assert fake.tokens_issued == tokens + (1 if failure in ("40001", "42001") else 0), failure
        assert (await deliver(client)).handled == 0, "not before the backoff"
        clock.advance(seconds=10)
        assert (await deliver(client)).sent == 1, failure
        assert [r["to"] for r in fake.of("template")][-1] == openid
        sms = await api.get(f"/api/v1/dev/sms?phone={phone}")
        assert sms["items"] == [], "no fallback for a message that got through"

    assert len(fake.of("template")) == 1 + len(cases), "each sent exactly once"
    async with client.app[CHAT].deps.uow() as uow:
        assert (await uow.chat.dead_letters(None, 0, 10))[1] == 0
