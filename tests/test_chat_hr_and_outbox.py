"""HR review from chat cards (WeCom template_card, DingTalk interactive card over the stream
and the HTTP callback mode), and the outbox deliverer: retries, backoff, the per-recipient rate
limit, dead letters with the SMS fallback, one shared access token."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from laborsign.bots.runtime import ChatRuntime
from laborsign.core import outbox as ob
from laborsign.core.clock import FakeClock
from laborsign.webhooks.common import CHAT
from tests.chat_helpers import (
    Platforms,
    WecomMember,
    channel_env,
    deliver,
    dingtalk_bot_message,
    dingtalk_sign,
)
from tests.conftest import Api
from tests.test_onboarding import FORM, onboard

HR_PHONE = "13800138000"


@pytest.fixture
def config_env(config_env: dict[str, str], platforms: Platforms) -> dict[str, str]:
    return {**config_env, **channel_env(platforms)}


async def bind_wecom(member: WecomMember, api: Api, clock: FakeClock, phone: str) -> str:
    await member.say("绑定")
    assert "验证码已发送" in await member.say(phone)
    inbox = await api.get(f"/api/v1/dev/sms?phone={phone}")
    bound = await member.say(inbox["items"][0]["code"])
    assert "绑定成功" in bound
    clock.advance(seconds=61)
    return bound


async def test_wecom_card_approve_once_and_update(
    api: Api, make_api: Any, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    hr = WecomMember(client, platforms.wecom, clock)
    bound = await bind_wecom(hr, api, clock, HR_PHONE)
    # HR in WeCom is answered as HR: the enterprise, the review cards, not the worker's commands.
    assert "当前企业微信已绑定手机号" in bound and "广州测试科技有限公司 管理人员" in bound
    assert "审核" in bound and "待我签" not in bound and "微信/钉钉" not in bound
    helped = await hr.say("帮助")
    assert "审核入职资料" in helped and "待我签" not in helped and "入职 ——" not in helped
    worker = await make_api()
    record = await onboard(api, worker, clock)

    await deliver(client)  # the "hr" row becomes one card per bound reviewer, then is sent
    await deliver(client)
    cards = platforms.wecom.of("template_card")
    assert len(cards) == 1 and cards[0]["to"] == hr.userid
    card = cards[0]["card"]
    assert card["card_type"] == "button_interaction" and card["main_title"]["title"] == "入职资料待审核"
    assert [b["text"] for b in card["button_list"]] == ["通过", "拒绝"]
    assert record["id"] in card["jump_list"][0]["url"]
    assert card["horizontal_content_list"][2]["value"] == "4401**********123X"

    # A stranger in the same corp presses the button: nothing happens.
    stranger = WecomMember(client, platforms.wecom, clock, userid="stranger")
    await stranger.press(card, "通过")
    assert (await api.get(f"/api/v1/onboarding/{record['id']}"))["status"] == "pending_review"

    await hr.press(card, "通过")
    assert hr.last_status == 200
    again = await hr.press(card, "通过", created=int(clock.now().timestamp()) + 1)  # pressed twice
    assert hr.last_status == 200 and again == ""
    detail = await api.get(f"/api/v1/onboarding/{record['id']}")
    assert detail["status"] == "approved"
    employees = await api.get("/api/v1/employees")
    assert employees["total"] == 1, "pressing twice acts once"

    await deliver(client)
    updates = platforms.wecom.of("card_update")
    assert updates and all(u["text"] == "已通过（张管理）" for u in updates)
    assert updates[0]["task_id"] == card["task_id"]


async def test_wecom_reject_and_forged_callbacks(
    api: Api, make_api: Any, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    hr = WecomMember(client, platforms.wecom, clock)
    await bind_wecom(hr, api, clock, HR_PHONE)
    worker = await make_api()
    record = await onboard(api, worker, clock)
    await deliver(client)
    await deliver(client)
    card = platforms.wecom.of("template_card")[0]["card"]

    # Forged (wrong key) and stale presses: 403 and the record stays pending.
    from wechatpy.enterprise.crypto import WeChatCrypto

    from tests.fakes.chat_platforms import aes_key

    forger = WecomMember(client, platforms.wecom, clock)
    forger.crypto = WeChatCrypto(platforms.wecom.token, aes_key(), platforms.wecom.corp_id)
    await forger.press(card, "拒绝")
    assert forger.last_status in (400, 403)
    resp = await client.post(
        "/webhooks/wecom", params={"msg_signature": "x", "timestamp": "1", "nonce": "n"}, data=b"<xml/>"
    )
    assert resp.status == 403  # stale timestamp: refused before anything is read
    assert (await api.get(f"/api/v1/onboarding/{record['id']}"))["status"] == "pending_review"

    await hr.press(card, "拒绝")
    detail = await api.get(f"/api/v1/onboarding/{record['id']}")
    assert detail["status"] == "rejected"
    sms = await api.get(f"/api/v1/dev/sms?phone={FORM['phone']}")
    assert any("未通过审核" in m["text"] for m in sms["items"])


async def test_wecom_cards_only_reach_members_still_in_the_app(
    api: Api, make_api: Any, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    hr = WecomMember(client, platforms.wecom, clock)
    await bind_wecom(hr, api, clock, HR_PHONE)
    await hr.app_event("unsubscribe")  # removed from the app's visible range
    assert hr.last_status == 200
    worker = await make_api()
    first = await onboard(api, worker, clock)
    await deliver(client)
    await deliver(client)
    assert platforms.wecom.of("template_card") == [], "no card to someone who left the app"
    sms = await api.get(f"/api/v1/dev/sms?phone={HR_PHONE}")
    assert any(first["id"] in m["text"] and "请登录后台审核" in m["text"] for m in sms["items"])

    clock.advance(seconds=61)
    assert "欢迎" in await hr.app_event("subscribe")  # added back
    await api.post(f"/api/v1/onboarding/{first['id']}/reject", {"reason": "资料不全"}, expect=200)
    second = await onboard(api, worker, clock)
    await deliver(client)
    await deliver(client)
    cards = platforms.wecom.of("template_card")
    assert len(cards) == 1 and second["id"] in cards[0]["card"]["jump_list"][0]["url"]


async def test_outbox_retries_backoff_dead_letters_and_sms_fallback(
    api: Api, make_api: Any, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    hr = WecomMember(client, platforms.wecom, clock)
    await bind_wecom(hr, api, clock, HR_PHONE)
    worker = await make_api()
    await onboard(api, worker, clock)
    await deliver(client)  # expanded into the card row

    platforms.wecom.fail_next = 2
    stats = await deliver(client)
    assert stats.retried == 1 and not platforms.wecom.of("template_card")
    stats = await deliver(client)
    assert stats.handled == 0, "not due before its backoff"
    clock.advance(seconds=10)
    assert (await deliver(client)).retried == 1
    clock.advance(seconds=19)
    assert (await deliver(client)).handled == 0
    clock.advance(seconds=1)
    assert (await deliver(client)).sent == 1
    assert len(platforms.wecom.of("template_card")) == 1, "delivered exactly once"

    # A platform that keeps failing: dead after 8 tries, listed for the dashboard, SMS fallback.
    async with client.app[CHAT].deps.uow() as uow:
        uow.outbox.add(
            ob.chat("wecom", hr.userid, "review_card", "测试卡片", clock.now(), card_key="dead-1", record_id="x",
                    enterprise_id=(await api.get("/api/v1/me"))["enterprise"]["id"], fallback_phone=HR_PHONE)
        )  # fmt: skip
        await uow.commit()
    platforms.wecom.fail_next = 100
    platforms.wecom.fail_with_http = True
    dead = 0
    for _ in range(10):
        stats = await deliver(client)
        dead += stats.dead
        clock.advance(hours=1)
    assert dead == 1
    letters = await api.get("/api/v1/chat/dead-letters")
    assert letters["total"] == 1 and letters["items"][0]["attempts"] == 8
    # HR reads why in Chinese; the platform's raw answer is kept for whoever sets it up.
    letter = letters["items"][0]
    assert letter["last_error"] == "wecom HTTP 500"
    assert letter["error_summary"] == "消息平台暂时不可用（服务器错误）"
    assert "500" in letters["items"][0]["last_error"]
    sms = await api.get(f"/api/v1/dev/sms?phone={HR_PHONE}")
    assert sms["items"][0]["text"] == "测试卡片"

    platforms.wecom.fail_next = 0
    retried = await api.post("/api/v1/chat/dead-letters/retry", {}, expect=200)
    assert retried["retried"] == 1
    await deliver(client)
    assert (await api.get("/api/v1/chat/dead-letters"))["total"] == 0
    assert len(platforms.wecom.of("template_card")) == 2


async def test_rate_limit_per_recipient(client: Any, platforms: Platforms, clock: FakeClock) -> None:
    deps = client.app[CHAT].deps
    async with deps.uow() as uow:
        for i in range(35):
            uow.outbox.add(ob.chat("wecom", "busy-member", "notice", f"第{i}条", clock.now()))
        await uow.commit()
    stats = await deliver(client)
    assert stats.sent == 30 and stats.postponed == 5
    assert len(platforms.wecom.of("text")) == 30
    clock.advance(seconds=30)
    assert (await deliver(client)).sent == 0
    clock.advance(seconds=31)
    assert (await deliver(client)).sent == 5
    texts = [r["text"] for r in platforms.wecom.of("text")]
    assert sorted(texts) == sorted(f"第{i}条" for i in range(35)), "each exactly once"


async def test_one_token_shared_by_processes(client: Any, platforms: Platforms, clock: FakeClock) -> None:
    """Two runtimes (as two processes) sending at once fetch one token, not two."""
    deps = client.app[CHAT].deps
    other = ChatRuntime(deps, client.app[CHAT].config)
    try:
        async with deps.uow() as uow:
            for i in range(4):
                uow.outbox.add(ob.chat("wechat", f"openid-{i}", "reply", "你好", clock.now()))
            await uow.commit()
        await asyncio.gather(client.app[CHAT].deliverer.run_once(), other.deliverer.run_once())
        assert len(platforms.wechat.of("text")) == 4
        assert platforms.wechat.tokens_issued == 1
        # The platform invalidates the token: one refresh, and the send goes through.
        platforms.wechat.valid_tokens.clear()
        async with deps.uow() as uow:
            uow.outbox.add(ob.chat("wechat", "openid-9", "reply", "再见", clock.now()))
            await uow.commit()
        assert (await other.deliverer.run_once()).sent == 1
        assert platforms.wechat.tokens_issued == 2
    finally:
        if other._http is not None:
            await other._http.close()


async def test_dingtalk_http_mode(api: Api, client: Any, platforms: Platforms, clock: FakeClock) -> None:
    fake = platforms.dingtalk

    async def post(body: dict[str, Any], timestamp: int | None = None, secret: str | None = None) -> Any:
        ts = str(timestamp if timestamp is not None else int(clock.now().timestamp() * 1000))
        headers = {"timestamp": ts, "sign": dingtalk_sign(secret or fake.client_secret, ts)}
        return await client.post("/webhooks/dingtalk", json=body, headers=headers)

    message = dingtalk_bot_message(fake, "staff-1", "帮助")
    resp = await post(message)
    assert resp.status == 200
    answer = await resp.json()
    assert "入职" in answer["text"]["content"]
    assert (await post(message)).status == 200, "a redelivery is answered"
    assert (await post(message, secret="forged")).status == 403
    stale = int(clock.now().timestamp() * 1000) - 2 * 3600 * 1000
    assert (await post(message, timestamp=stale)).status == 403
    clock.advance(seconds=1)  # a new timestamp: the same sign over another body is a replay
    bad = await client.post(
        "/webhooks/dingtalk",
        data=b"{not json",
        headers={"timestamp": str(int(clock.now().timestamp() * 1000)),
                 "sign": dingtalk_sign(fake.client_secret, str(int(clock.now().timestamp() * 1000)))},
    )  # fmt: skip
    assert bad.status == 400


@pytest.fixture
def stream_env(config_env: dict[str, str], platforms: Platforms) -> dict[str, str]:
    return {**config_env, **channel_env(platforms, dingtalk_mode="stream")}


async def test_dingtalk_stream_onboarding_and_card(
    platforms: Platforms, stream_env: dict[str, str], clock: FakeClock, aiohttp_client: Any
) -> None:
    from laborsign.bootstrap import create_app
    from laborsign.config import load_config

    app = create_app(load_config(environ=stream_env), clock=clock, migrate=False)
    client = await aiohttp_client(app)
    api = Api(client)
    fake = platforms.dingtalk
    await asyncio.wait_for(fake.connected.wait(), 30)
    await api.register_enterprise(clock)
    link = await api.get("/api/v1/invite-link")

    async def say(staff: str, text: str, msg_id: str | None = None) -> str:
        before = len([r for r in fake.of("text") if r["to"] == staff])
        mid = await fake.push("/v1.0/im/bot/messages/get", dingtalk_bot_message(fake, staff, text, msg_id))
        ack = await fake.acked(mid)
        assert ack["code"] == 200
        await client.app[CHAT].deliverer.run_once()
        mine = [r for r in fake.of("text") if r["to"] == staff]
        return str(mine[-1]["text"]) if len(mine) > before else ""

    # HR binds in DingTalk, then the worker onboards by chat there.
    hr_staff, worker_staff = "hr-001", "worker-001"
    await say(hr_staff, "绑定")
    await say(hr_staff, HR_PHONE)
    code = (await api.get(f"/api/v1/dev/sms?phone={HR_PHONE}"))["items"][0]["code"]
    assert "绑定成功" in await say(hr_staff, code)
    clock.advance(seconds=61)

    assert "请先绑定" in await say(worker_staff, f"入职 {link['url']}")
    await say(worker_staff, FORM["phone"])
    code = (await api.get(f"/api/v1/dev/sms?phone={FORM['phone']}"))["items"][0]["code"]
    assert "确认用人单位" in await say(worker_staff, code)
    first = await say(worker_staff, "1", msg_id="dup-1")
    assert "姓名" in first
    assert await say(worker_staff, "1", msg_id="dup-1") == "", "DingTalk redelivery: handled once"
    for answer in [FORM["name"], "男", "身份证", FORM["id_number"], FORM["birth_date"], FORM["phone"],
                   FORM["address"], "王大", "父母"]:  # fmt: skip
        await say(worker_staff, answer)
    assert "请核对" in await say(worker_staff, "13600136000")
    assert "提交成功" in await say(worker_staff, "提交")
    records = await api.get("/api/v1/onboarding?status=pending_review")
    assert records["total"] == 1

    await client.app[CHAT].deliverer.run_once()
    await client.app[CHAT].deliverer.run_once()
    cards = fake.of("card")
    assert len(cards) == 1 and cards[0]["to"] == hr_staff and cards[0]["params"]["name"] == FORM["name"]
    assert "订立书面劳动合同" in cards[0]["params"]["labor_note"], "core's labor-law reminder on the card"
    track = cards[0]["out_track_id"]
    press = {
        "outTrackId": track, "corpId": "corp", "userId": hr_staff, "type": "actionCallback",
        "content": json.dumps({"cardPrivateData": {"actionIds": ["approve"], "params": {"action": "approve"}}}),
        "extension": "{}",
    }  # fmt: skip
    mid = await fake.push("/v1.0/card/instances/callback", press)
    ack = await fake.acked(mid)
    assert (
        ack["code"] == 200
        and "已通过" in json.loads(ack["data"])["response"]["cardData"]["cardParamMap"]["status"]
    )
    mid = await fake.push("/v1.0/card/instances/callback", press, message_id=mid)  # redelivered
    await fake.acked(mid)
    assert (await api.get(f"/api/v1/onboarding/{records['items'][0]['id']}"))["status"] == "approved"
    assert (await api.get("/api/v1/employees"))["total"] == 1
    await client.app[CHAT].deliverer.run_once()
    updates = fake.of("card_update")
    assert len(updates) == 1 and updates[0]["params"]["status"] == "已通过（张管理）"
    notices = [r for r in fake.of("text") if r["to"] == worker_staff and "审核通过" in r["text"]]
    assert len(notices) == 1

    # The gateway drops the connection: the client reconnects by itself.
    opens = fake.opens
    await fake.drop_connections()
    for _ in range(300):
        if fake.opens > opens and fake.sockets:
            break
        await asyncio.sleep(0.05)
    assert fake.opens > opens and fake.sockets


async def test_dead_letter_page(api: Api, client: Any, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    page = await client.get("/dashboard/chat/outbox")
    assert page.status == 200 and "发送失败的消息" in await page.text()
    assert (await api.get("/api/v1/chat/dead-letters"))["total"] == 0
