"""WeChat Official Account end to end: encrypted callbacks as WeChat sends them (retried,
replayed, forged, malformed), a worker onboarding purely by chat, notices reaching the fake
WeChat server exactly once through the outbox."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from laborsign.core.clock import FakeClock
from laborsign.webhooks.common import CHAT
from tests.chat_helpers import Platforms, WechatUser, assert_qr_of, channel_env, deliver
from tests.conftest import Api
from tests.fakes.chat_platforms import wechat_signature
from tests.test_onboarding import FORM

WORKER = FORM["phone"]


@pytest.fixture
def config_env(config_env: dict[str, str], platforms: Platforms) -> dict[str, str]:
    return {**config_env, **channel_env(platforms)}


async def bind(user: WechatUser, api: Api, clock: FakeClock, phone: str) -> None:
    assert "绑定" in await user.say("绑定")
    answer = await user.say(phone)
    assert "验证码已发送" in answer, answer
    inbox = await api.get(f"/api/v1/dev/sms?phone={phone}")
    code = inbox["items"][0]["code"]
    assert inbox["items"][0]["purpose"] == "bind"
    assert "绑定成功" in await user.say(code)
    clock.advance(seconds=61)


async def test_url_check_signatures_and_hostile_input(
    client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    fake = platforms.wechat
    ts, nonce = str(int(clock.now().timestamp())), "abc"
    ok = await client.get(
        "/webhooks/wechat",
        params={
            "signature": wechat_signature(fake.token, ts, nonce),
            "timestamp": ts,
            "nonce": nonce,
            "echostr": "e1",
        },
    )
    assert ok.status == 200 and await ok.text() == "e1"
    bad = await client.get(
        "/webhooks/wechat", params={"signature": "0" * 40, "timestamp": ts, "nonce": nonce, "echostr": "e1"}
    )
    assert bad.status == 403

    user = WechatUser(client, fake, clock)
    await user.post(user.text_xml("帮助"), sign_token="wrong-token")
    assert user.last_status == 403
    stale = int(clock.now().timestamp()) - 3600
    await user.post(user.text_xml("帮助"), timestamp=stale)
    assert user.last_status == 403

    # A message encrypted with another key fails the message signature → 403, nothing stored.
    from wechatpy.crypto import WeChatCrypto

    from tests.fakes.chat_platforms import aes_key

    forger = WechatUser(client, fake, clock)
    forger.crypto = WeChatCrypto("other-token", aes_key(), fake.app_id)
    await forger.post(forger.text_xml("帮助"))
    assert forger.last_status == 403

    params = {"signature": wechat_signature(fake.token, ts, nonce), "timestamp": ts, "nonce": nonce}
    entity = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        "<xml><ToUserName>x</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content>&b;</Content><MsgId>1</MsgId></xml>"
    )
    hostile = await client.post("/webhooks/wechat", params=params, data=entity.encode())
    assert hostile.status == 400
    huge = await client.post("/webhooks/wechat", params=params, data=b"<xml>" + b"a" * 200_000 + b"</xml>")
    assert huge.status == 413
    # With an AES key configured, a plaintext body (its URL signature does not cover it) is
    # refused, however it looks (tests/test_webhook_replay.py covers plain mode without one).
    for plain in (b"<xml><unclosed>", user.event_xml("weird_future_event").encode()):
        refused = await client.post("/webhooks/wechat", params=params, data=plain)
        assert refused.status == 403 and (await refused.json())["error"] == "plaintext_refused"

    async with client.app[CHAT].deps.uow() as uow:
        assert await uow.chat.identity("wechat", fake.app_id, forger.openid) is None


async def test_onboarding_purely_by_chat(
    api: Api, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    link = await api.get("/api/v1/invite-link")
    assert link["wechat_scene"] == f"join:{link['token']}"

    worker = WechatUser(client, platforms.wechat, clock)
    # Unbound: anything but 绑定/帮助 gets the binding prompt, never data.
    answer = await worker.say("待我签")
    assert "请先绑定手机号" in answer and "请输入您的手机号" in answer
    assert "手机号格式不正确" in await worker.say("12345")

    # Scanning the enterprise's parametric QR code (subscribe with qrscene_) starts onboarding
    # after binding.
    answer = await worker.post(worker.event_xml("subscribe", f"qrscene_{link['wechat_scene']}"))
    assert "请先绑定" in answer
    await worker.say(WORKER)
    inbox = await api.get(f"/api/v1/dev/sms?phone={WORKER}")
    answer = await worker.say(inbox["items"][0]["code"])
    assert "绑定成功" in answer and "广州测试科技有限公司" in answer and "确认用人单位" in answer

    # WeChat retries the same MsgId three times: the state changes once, the answer is the same.
    first = await worker.say("1", msg_id=424242)
    assert "请输入您的真实姓名" in first
    assert await worker.say("1", msg_id=424242) == first
    assert await worker.say("1", msg_id=424242) == first

    assert "姓名应为2-30个汉字或字母" in await worker.say("X")
    assert "性别" in await worker.say(FORM["name"])
    assert "请输入您的真实姓名" in await worker.say("返回")
    assert "性别" in await worker.say(FORM["name"])
    assert "性别" in await worker.say("继续")
    await worker.say("男")
    await worker.say("1")
    assert "证件号码" in await worker.say("继续")
    refused = await worker.say("440101199003071234")  # the same ID rules as the H5 form
    assert "校验位错误" in refused and "重新输入" in refused
    answer = await worker.say(FORM["id_number"])
    assert "出生日期" in answer
    await worker.say("1990年3月7日")
    await worker.say(WORKER)
    await worker.say(FORM["address"])
    await worker.say("王大")
    await worker.say("1")
    summary = await worker.say("13600136000")
    assert "请核对" in summary and "4401**********123X" in summary and FORM["id_number"] not in summary

    # 修改 by number, then back to the summary.
    assert "现住址" in await worker.say("修改 7")
    summary = await worker.say("广州市海珠区新港中路1号")
    assert "广州市海珠区新港中路1号" in summary and "请核对" in summary
    assert "回复“确认”提交" in summary
    refused = await worker.say("嗯嗯不对")
    assert "请回复“确认”提交" in refused
    done = await worker.say("好的！")  # a yes as people type it (确认, 是, 对, 没问题, OK …)
    assert "提交成功" in done and "资料审核中" in done

    listed = await api.get("/api/v1/onboarding?status=pending_review")
    assert listed["total"] == 1
    record = listed["items"][0]
    assert record["name"] == FORM["name"] and record["id_number_masked"] == "4401**********123X"
    assert "入职资料" in await worker.say("入职资料") and "待审核" in await worker.say("入职资料")

    # The ID number never sat in the conversation table in clear.
    async with client.app[CHAT].deps.uow() as uow:
        identity = await uow.chat.identity("wechat", platforms.wechat.app_id, worker.openid)
        assert identity is not None
        for conv in await uow.chat.conversations_of(identity.id):
            assert FORM["id_number"] not in str(conv.data)

    # HR approves in the dashboard: the worker hears it on WeChat (and by SMS) exactly once,
    # even though the fake WeChat fails the first send.
    platforms.wechat.fail_next = 1
    await api.post(f"/api/v1/onboarding/{record['id']}/approve", {}, expect=200)
    stats = await deliver(client)
    assert stats.retried == 1
    clock.advance(seconds=30)
    await deliver(client)
    await deliver(client)
    notices = [r for r in platforms.wechat.received if "审核通过" in str(r)]
    assert len(notices) == 1 and notices[0]["to"] == worker.openid


async def test_another_persons_data_is_never_shown(
    api: Api, make_api: Any, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    worker_api = await make_api()
    from tests.test_onboarding import onboard

    await onboard(api, worker_api, clock)  # 13700137000 has a record
    stranger = WechatUser(client, platforms.wechat, clock)
    await bind(stranger, api, clock, "13500135000")
    answer = await stranger.say("入职资料")
    assert "还没有提交过" in answer and FORM["name"] not in answer
    assert "没有" in await stranger.say("待我签")


async def test_concurrent_messages_step_one_at_a_time(
    api: Api, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    import asyncio

    await api.register_enterprise(clock)
    link = await api.get("/api/v1/invite-link")
    worker = WechatUser(client, platforms.wechat, clock)
    await bind(worker, api, clock, WORKER)
    await worker.say(f"入职 {link['url']}")
    await worker.say("1")
    # Name and gender arrive together: each is one step, in order of handling.
    answers = await asyncio.gather(worker.say(FORM["name"]), worker.say("男"))
    assert all(answers)
    async with client.app[CHAT].deps.uow() as uow:
        identity = await uow.chat.identity("wechat", platforms.wechat.app_id, worker.openid)
        assert identity is not None
        conv = next(c for c in await uow.chat.conversations_of(identity.id) if c.flow == "onboarding")
    assert conv.state in ("gender", "id_type")
    assert conv.data.get("name") == FORM["name"] or conv.data.get("gender") is None


async def test_idle_flow_expires_with_a_message(
    api: Api, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    link = await api.get("/api/v1/invite-link")
    worker = WechatUser(client, platforms.wechat, clock)
    await bind(worker, api, clock, WORKER)
    await worker.post(worker.event_xml("SCAN", link["wechat_scene"]))
    await worker.say("1")
    clock.advance(hours=25)
    await deliver(client)
    expired = [r for r in platforms.wechat.received if "超过24小时" in r.get("text", "")]
    assert len(expired) == 1 and expired[0]["to"] == worker.openid
    answer = await worker.say(FORM["name"])
    assert "请输入您的真实姓名" not in answer  # the flow is over; the text is not taken as an answer


async def test_idle_flow_of_someone_who_left_ends_without_a_message(
    api: Api, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    link = await api.get("/api/v1/invite-link")
    worker = WechatUser(client, platforms.wechat, clock)
    await bind(worker, api, clock, WORKER)
    await worker.post(worker.event_xml("SCAN", link["wechat_scene"]))
    await worker.say("1")
    while (await deliver(client)).handled:  # the binding code's SMS
        pass
    platforms.wechat.unsubscribed.add(worker.openid)
    await worker.post(worker.event_xml("unsubscribe"))
    clock.advance(hours=25)
    stats = await deliver(client)
    assert stats.handled == 0 and platforms.wechat.received == [], "nothing that could not reach them"
    async with client.app[CHAT].deps.uow() as uow:
        assert (await uow.chat.dead_letters(None, 0, 10))[1] == 0
    platforms.wechat.unsubscribed.discard(worker.openid)
    await worker.post(worker.event_xml("subscribe"))
    answer = await worker.say(FORM["name"])
    assert "请输入您的真实姓名" not in answer  # the flow ended all the same


async def test_join_qr_codes_of_the_channels(
    desktop: Any, api: Api, make_api: Any, platforms: Platforms, clock: FakeClock
) -> None:
    """One join QR code per enabled channel that has one: the Official Account's parametric
    code, DingTalk's in-app link to the join page; HR's WeCom and the disabled Feishu have none."""
    from playwright.async_api import expect

    from tests.test_pages_contracts import use_session

    await api.register_enterprise(clock)
    await use_session(desktop, api)
    await desktop.goto("/dashboard/onboarding/invite")  # the invite page shows them, as images
    codes = desktop.locator("#channel-qrs figure")
    await expect(codes.locator("figcaption b")).to_have_text(["微信公众号", "钉钉"])
    await expect(codes.first.locator("figcaption")).to_contain_text("关注公众号即开始入职")
    for image in await codes.locator("img").all():
        await expect(image).to_have_js_property("complete", True)
        assert await image.evaluate("img => img.naturalWidth") > 0, "the PNG loaded and decoded"

    link = await api.get("/api/v1/invite-link")
    listed = await api.get("/api/v1/invite-link/channels")
    assert [(c["channel"], c["label"]) for c in listed["items"]] == [
        ("wechat", "微信公众号"),
        ("dingtalk", "钉钉"),
    ]

    png = await api.get(listed["items"][0]["qr_png"])
    assert api.last_response.headers["Cache-Control"] == "no-store"
    answered = platforms.wechat.of("qrcode")[-1]
    assert answered["scene"] == f"join:{link['token']}"
    assert_qr_of(png, answered["url"])  # the link WeChat gave for the scene, drawn here
    old = await api.get("/api/v1/invite-link/wechat-qr")  # the older JSON path, same code
    assert old == {**old, "scene": link["wechat_scene"], "ticket": answered["ticket"], "url": answered["url"]}
    platforms.wechat.fail_next, platforms.wechat.fail_errcode = 1, 48001  # an account without the API
    failed = await api.get("/api/v1/invite-link/channels/wechat/qr", expect=409)
    assert failed["error"] == "wechat_failed" and failed["message"].startswith("微信公众号接口调用失败：")

    dingtalk = await api.get("/api/v1/invite-link/channels/dingtalk/qr?download=1")
    assert "attachment" in api.last_response.headers["Content-Disposition"]
    assert_qr_of(dingtalk, "dingtalk://dingtalkclient/page/link?url=" + quote(link["url"], safe=""))

    for channel, message in [
        ("wecom", "企业微信不提供入职二维码"),
        ("feishu", "未启用飞书"),
        ("qq", "没有这个聊天渠道"),
    ]:
        refused = await api.get(f"/api/v1/invite-link/channels/{channel}/qr", expect=404)
        assert refused["message"] == message

    # Another enterprise gets its own invitation in its codes, never this one's.
    b = await make_api()
    await b.register_enterprise(
        clock, phone="13900139000", name="乙方企业有限公司", credit_code="91440101MA59ABCD0A"
    )
    b_link = await b.get("/api/v1/invite-link")
    assert b_link["token"] != link["token"]
    assert_qr_of(
        await b.get("/api/v1/invite-link/channels/dingtalk/qr"),
        "dingtalk://dingtalkclient/page/link?url=" + quote(b_link["url"], safe=""),
    )
    assert (await b.get("/api/v1/invite-link/wechat-qr"))["scene"] == f"join:{b_link['token']}"
    anonymous = await make_api()
    await anonymous.get("/api/v1/invite-link/channels/wechat/qr", expect=401)

    # A reset invitation changes the codes (hence no-store).
    reset = await api.post("/api/v1/invite-link/reset", expect=200)
    assert_qr_of(
        await api.get("/api/v1/invite-link/channels/dingtalk/qr"),
        "dingtalk://dingtalkclient/page/link?url=" + quote(reset["url"], safe=""),
    )
