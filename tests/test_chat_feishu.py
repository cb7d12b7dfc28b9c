"""Feishu (飞书) as a chat channel, against a fake of its open platform (tests/fakes/feishu.py)
that encrypts and signs its callbacks the way Feishu does: the URL verification, refusals of
forged, stale and plaintext callbacks, a worker onboarding by conversation, HR approving from
the review card's button."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest

from laborsign.core.clock import FakeClock
from laborsign.web.labels import label_tables
from tests.chat_helpers import assert_qr_of, deliver
from tests.conftest import Api
from tests.fakes.feishu import FakeFeishu
from tests.test_onboarding import FORM

HR_PHONE = "13800138000"


@pytest.fixture
async def feishu() -> AsyncIterator[FakeFeishu]:
    fake = await FakeFeishu().start()
    yield fake
    assert fake.server is not None
    await fake.server.close()


@pytest.fixture
def config_env(config_env: dict[str, str], feishu: FakeFeishu) -> dict[str, str]:
    return {
        **config_env,
        "LABORSIGN_FEISHU__ENABLED": "true",
        "LABORSIGN_FEISHU__APP_ID": feishu.app_id,
        "LABORSIGN_FEISHU__APP_SECRET": feishu.app_secret,
        "LABORSIGN_FEISHU__VERIFICATION_TOKEN": feishu.verification_token,
        "LABORSIGN_FEISHU__ENCRYPT_KEY": feishu.encrypt_key,
        "LABORSIGN_FEISHU__API_BASE_URL": feishu.base,
    }


class FeishuUser:
    """One person writing to the app's bot in a one-to-one chat."""

    def __init__(self, client: Any, fake: FakeFeishu, clock: FakeClock, open_id: str) -> None:
        self.client, self.fake, self.clock, self.open_id = client, fake, clock, open_id

    async def post(self, plain: dict[str, Any], **signing: Any) -> Any:
        body, headers = self.fake.signed(plain, self.clock.now().timestamp(), **signing)
        return await self.client.post("/webhooks/feishu", data=body, headers=headers)

    async def say(self, text: str, message_id: str | None = None) -> str:
        """The bot's answer, as Feishu shows it: the texts sent back through the message API."""
        before = len(self.fake.texts_to(self.open_id))
        event = self.fake.message_event(self.open_id, text, self.clock.now().timestamp(), message_id)
        resp = await self.post(event)
        assert resp.status == 200, await resp.text()
        await deliver(self.client)
        return "\n".join(self.fake.texts_to(self.open_id)[before:])

    async def press(self, card: dict[str, Any], button: str) -> dict[str, Any]:
        actions = next(e["actions"] for e in card["content"]["elements"] if e["tag"] == "action")
        value = next(a["value"] for a in actions if a["text"]["content"] == button)
        event = self.fake.card_action(self.open_id, value, card["message_id"], self.clock.now().timestamp())
        resp = await self.post(event)
        assert resp.status == 200, await resp.text()
        return dict(await resp.json())


async def test_url_verification_and_forged_callbacks(
    client: Any, feishu: FakeFeishu, clock: FakeClock
) -> None:
    user = FeishuUser(client, feishu, clock, "ou_7d8a6e6df7621556ce0d21922b676706")
    resp = await user.post(feishu.url_verification("ajls384kdjx98XX"))
    assert resp.status == 200 and await resp.json() == {"challenge": "ajls384kdjx98XX"}

    event = feishu.message_event(user.open_id, "帮助", clock.now().timestamp())
    body, headers = feishu.signed(event, clock.now().timestamp())
    forged = await client.post(
        "/webhooks/feishu", data=body, headers={**headers, "X-Lark-Signature": "0" * 64}
    )
    assert forged.status == 403 and (await forged.json())["error"] == "bad_signature"
    other_key = await user.post(event, encrypt_key="not-the-apps-encrypt-key")
    assert other_key.status in (400, 403)
    wrong_token = await user.post({**event, "header": {**event["header"], "token": "guessed"}})
    assert wrong_token.status == 403
    plain = await client.post("/webhooks/feishu", json=event)
    assert plain.status == 403 and (await plain.json())["error"] == "plaintext_refused"
    stale, stale_headers = feishu.signed(event, clock.now().timestamp() - 3600)
    resp = await client.post("/webhooks/feishu", data=stale, headers=stale_headers)
    assert resp.status == 403 and (await resp.json())["error"] == "stale_timestamp"
    await deliver(client)
    assert feishu.sent == [], "nothing refused was answered"

    # Feishu retrying the same signed callback: let through (same body), answered once.
    assert (await client.post("/webhooks/feishu", data=body, headers=headers)).status == 200
    assert (await client.post("/webhooks/feishu", data=body, headers=headers)).status == 200
    await deliver(client)
    assert len(feishu.texts_to(user.open_id)) == 1 and "入职" in feishu.texts_to(user.open_id)[0]


async def test_onboarding_by_chat_and_hr_card_approval(
    api: Api, client: Any, feishu: FakeFeishu, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    link = await api.get("/api/v1/invite-link")
    # The invite page's Feishu code opens the join page inside Feishu (the only channel here).
    listed = (await api.get("/api/v1/invite-link/channels"))["items"]
    assert [(c["channel"], c["label"]) for c in listed] == [("feishu", "飞书")]
    applink = "https://applink.feishu.cn/client/web_url/open?mode=window&url=" + quote(link["url"], safe="")
    assert_qr_of(await api.get(listed[0]["qr_png"]), applink)
    refused = await api.get("/api/v1/invite-link/wechat-qr", expect=404)
    assert refused == {"error": "channel_disabled", "message": "未启用微信公众号"}

    # HR binds in Feishu the way every channel binds: phone, then the SMS code.
    hr = FeishuUser(client, feishu, clock, "ou_hr0000000000000000000000000001")
    await hr.say("绑定")
    assert "验证码已发送" in await hr.say(HR_PHONE)
    code = (await api.get(f"/api/v1/dev/sms?phone={HR_PHONE}"))["items"][0]["code"]
    bound = await hr.say(code)
    assert "当前飞书已绑定手机号" in bound and "广州测试科技有限公司 管理人员" in bound
    clock.advance(seconds=61)

    worker = FeishuUser(client, feishu, clock, "ou_wk0000000000000000000000000001")
    assert "请先绑定" in await worker.say(f"入职 {link['url']}")
    await worker.say(FORM["phone"])
    code = (await api.get(f"/api/v1/dev/sms?phone={FORM['phone']}"))["items"][0]["code"]
    assert "确认用人单位" in await worker.say(code)
    assert "姓名" in await worker.say("1", message_id="om_dup_1")
    assert await worker.say("1", message_id="om_dup_1") == "", "a redelivered event is handled once"
    for answer in [FORM["name"], "男", "身份证", FORM["id_number"], FORM["birth_date"], FORM["phone"],
                   FORM["address"], "王大", "父母"]:  # fmt: skip
        await worker.say(answer)
    assert "请核对" in await worker.say("13600136000")
    assert "提交成功" in await worker.say("提交")
    records = await api.get("/api/v1/onboarding?status=pending_review")
    assert records["total"] == 1 and records["items"][0]["channel"] == "feishu"
    record_id = records["items"][0]["id"]

    await deliver(client)  # the HR row becomes one card per bound reviewer…
    await deliver(client)  # …sent as an interactive message
    cards = feishu.cards_to(hr.open_id)
    assert len(cards) == 1
    card = cards[0]
    assert card["content"]["header"]["title"]["content"] == "入职资料待审核"
    facts = json.dumps(card["content"]["elements"], ensure_ascii=False)
    assert FORM["name"] in facts and "4401**********123X" in facts and FORM["id_number"] not in facts
    assert "订立书面劳动合同" in facts and "二倍工资" in facts, "core's labor-law reminder on the card"
    actions = next(e["actions"] for e in card["content"]["elements"] if e["tag"] == "action")
    assert [a["text"]["content"] for a in actions] == ["通过", "拒绝", "查看入职资料"]
    assert record_id in actions[2]["url"]

    stranger = FeishuUser(client, feishu, clock, "ou_st0000000000000000000000000001")
    refused = await stranger.press(card, "通过")
    assert refused["toast"]["content"] == "无审核权限" and "card" not in refused
    assert (await api.get(f"/api/v1/onboarding/{record_id}"))["status"] == "pending_review"

    approved = await hr.press(card, "通过")
    assert approved["toast"] == {"type": "success", "content": "已通过（张管理）"}
    assert approved["card"]["data"]["header"]["title"]["content"] == "入职资料已审核"
    again = await hr.press(card, "通过")  # pressed twice
    assert again["toast"]["type"] == "info" and "已通过" in again["toast"]["content"]
    assert (await api.get(f"/api/v1/onboarding/{record_id}"))["status"] == "approved"
    assert (await api.get("/api/v1/employees"))["total"] == 1, "pressing twice acts once"

    await deliver(client)
    assert any("审核通过" in text for text in feishu.texts_to(worker.open_id))
    assert feishu.token_fetches == 1, "one tenant_access_token serves every send"
    # The dashboard names the channel (its outbox and dead-letter pages read this table).
    assert label_tables()["CHANNELS"]["feishu"] == "飞书"
