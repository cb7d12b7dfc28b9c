"""WeChat Official Account notices as template messages: the real wechatpy client against the
fake platform's message/template/send, what the worker receives (template, fields, link), a
transient failure retried once. A person who stopped following the account gets notices by
SMS only (no WeChat call, no dead letter) until they follow again, whether WeChat told us
(the unsubscribe event) or we learnt it from a refusal (43004)."""

from __future__ import annotations

from typing import Any

import pytest

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from tests.chat_helpers import Platforms, WechatUser, channel_env, deliver
from tests.conftest import Api
from tests.test_chat_wechat import bind
from tests.test_contracts import launch_body, mark_verified, setup_contract_world
from tests.test_onboarding import FORM, onboard

WORKER = FORM["phone"]


@pytest.fixture
def config_env(config_env: dict[str, str], platforms: Platforms) -> dict[str, str]:
    return {
        **config_env,
        **channel_env(platforms),
        "LABORSIGN_WECHAT__NOTICE_TEMPLATE_ID": platforms.wechat.notice_template_id,
    }


async def test_contract_notices_as_template_messages(
    api: Api, make_api: Any, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    fake = platforms.wechat
    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=WORKER)
    follower = WechatUser(client, fake, clock)
    await bind(follower, api, clock, WORKER)
    while (await deliver(client)).handled:  # what onboarding queued before
        pass
    fake.received.clear()

    cid = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    link = f"{client.app[DEPS].public_url}/h5/contracts/{cid}"
    fake.fail_next = 1  # errcode -1, "system error": tried again after the backoff
    stats = await deliver(client)
    assert stats.retried == 1 and stats.sent == 1  # the template message, and the SMS
    clock.advance(seconds=10)
    assert (await deliver(client)).sent == 1
    assert (await deliver(client)).handled == 0

    assert fake.of("template") == [
        {
            "kind": "template",
            "to": follower.openid,
            "template_id": fake.notice_template_id,
            "url": link,
            "data": {
                "first": {"value": "劳动合同签通知"},
                # The SMS's colon before the link is gone: the whole message is the link.
                "keyword1": {
                    "value": "【广州测试科技有限公司】邀请您签署《标准劳动合同》，请点击链接查看并签署"
                },
                "remark": {"value": "点击查看详情"},
            },
        }
    ]
    assert fake.of("text") == [], "a notice goes as a template message, not as a customer-service text"

    # A notice without a link: no url in the request (the message is not clickable).
    await api.post(f"/api/v1/contracts/{cid}/withdraw", {"reason": "岗位调整"}, expect=200)
    assert (await deliver(client)).sent == 2  # the SMS and the template message
    withdrawn = fake.of("template")[-1]
    assert withdrawn["url"] is None and withdrawn["data"]["remark"] == {"value": ""}
    assert (
        withdrawn["data"]["keyword1"]["value"]
        == "【广州测试科技有限公司】已撤回《标准劳动合同》，原因：岗位调整。"
    )
    fresh = (await api.post(f"/api/v1/contracts/{cid}/reinitiate", expect=201))["id"]
    assert (await deliver(client)).sent == 2
    assert fake.of("template")[-1]["url"] == f"{client.app[DEPS].public_url}/h5/contracts/{fresh}"


async def launched_world(
    api: Api, make_api: Any, client: Any, platforms: Platforms, clock: FakeClock
) -> tuple[dict[str, Any], WechatUser]:
    """A verified enterprise and worker, the worker following and bound, nothing queued."""
    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=WORKER)
    follower = WechatUser(client, platforms.wechat, clock)
    await bind(follower, api, clock, WORKER)
    while (await deliver(client)).handled:
        pass
    platforms.wechat.received.clear()
    return world, follower


async def dead_letter_count(client: Any) -> int:
    async with client.app[DEPS].uow() as uow:
        return (await uow.chat.dead_letters(None, 0, 10))[1]


async def test_an_unfollowing_worker_gets_notices_by_sms_until_following_again(
    api: Api, make_api: Any, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    fake = platforms.wechat
    world, follower = await launched_world(api, make_api, client, platforms, clock)

    # The worker stops following: WeChat sends the event, and from then on refuses with 43004.
    fake.unsubscribed.add(follower.openid)
    assert await follower.post(follower.event_xml("unsubscribe")) == ""
    cid = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    stats = await deliver(client)
    assert (stats.sent, stats.retried, stats.dead) == (1, 0, 0)  # the SMS alone
    assert fake.received == [], "no WeChat call"
    assert await dead_letter_count(client) == 0
    sms = await api.get(f"/api/v1/dev/sms?phone={WORKER}")
    assert "邀请您签署" in sms["items"][0]["text"] and f"/h5/contracts/{cid}" in sms["items"][0]["text"]

    # Following again: notices go by WeChat again (and by SMS, as always).
    fake.unsubscribed.discard(follower.openid)
    assert "欢迎" in await follower.post(follower.event_xml("subscribe"))
    clock.advance(hours=6)
    await api.post(f"/api/v1/contracts/{cid}/remind", expect=200)
    assert (await deliver(client)).sent == 2
    [reminder] = fake.of("template")
    assert reminder["to"] == follower.openid and "提醒您尽快签署" in reminder["data"]["keyword1"]["value"]
    assert await dead_letter_count(client) == 0


async def test_a_refusal_for_not_following_stops_later_notices_until_a_scan(
    api: Api, make_api: Any, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    """The unsubscribe event never reached us (the person left before it was recorded, or the
    callback was lost): WeChat's 43004 answer tells us instead, once."""
    fake = platforms.wechat
    world, follower = await launched_world(api, make_api, client, platforms, clock)
    fake.unsubscribed.add(follower.openid)

    cid = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    stats = await deliver(client)
    assert (stats.sent, stats.retried, stats.dead) == (1, 0, 1)  # the SMS; the refused template
    assert await dead_letter_count(client) == 1
    letters = await api.get("/api/v1/chat/dead-letters")  # listed for the enterprise's HR
    assert letters["total"] == 1 and letters["items"][0]["kind"] == "contract_to_sign"
    assert "43004" in letters["items"][0]["last_error"]
    clock.advance(hours=6)
    await api.post(f"/api/v1/contracts/{cid}/remind", expect=200)
    assert (await deliver(client)).sent == 1
    assert (await deliver(client)).handled == 0
    assert await dead_letter_count(client) == 1, "no second dead letter"

    # Scanning the enterprise's QR code (SCAN comes only from a follower) restores WeChat.
    fake.unsubscribed.discard(follower.openid)
    link = await api.get("/api/v1/invite-link")
    await follower.post(follower.event_xml("SCAN", link["wechat_scene"]))
    while (await deliver(client)).handled:  # whatever the scan answered
        pass
    clock.advance(hours=6)
    await api.post(f"/api/v1/contracts/{cid}/remind", expect=200)
    assert (await deliver(client)).sent == 2
    assert [r["to"] for r in fake.of("template")] == [follower.openid]


async def test_dead_letters_of_onboarding_notices_are_listed_for_their_enterprise(
    api: Api, make_api: Any, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    fake = platforms.wechat
    await api.register_enterprise(clock)
    worker = await make_api()
    record = await onboard(api, worker, clock)
    follower = WechatUser(client, fake, clock)
    await bind(follower, api, clock, WORKER)
    while (await deliver(client)).handled:
        pass

    fake.template_ids.clear()  # the template was deleted in the account's console: 40037
    await api.post(f"/api/v1/onboarding/{record['id']}/approve", {}, expect=200)
    stats = await deliver(client)
    assert (stats.sent, stats.dead) == (1, 1)  # the SMS; the refused template message
    letters = await api.get("/api/v1/chat/dead-letters")
    assert letters["total"] == 1
    [letter] = letters["items"]
    assert letter["kind"] == "onboarding_approved" and "40037" in letter["last_error"]
    assert "审核通过" in letter["text"]

    # Another enterprise's HR does not see it.
    other = await make_api()
    await other.register_enterprise(
        clock, phone="13900139000", name="乙方企业有限公司", credit_code="91440101MA59ABCD0A"
    )
    assert (await other.get("/api/v1/chat/dead-letters"))["total"] == 0
