"""A current WeChat template (typed keys: thing, time, phrase) configured in [wechat]: what
the worker receives through the real wechatpy client and the fake platform, which refuses
what breaks WeChat's per-type limits (47001) the way WeChat does."""

from __future__ import annotations

from typing import Any

import pytest

from laborsign.api.http import DEPS
from laborsign.bots.channels import SendError
from laborsign.bots.channels.wechat import WechatSender
from laborsign.core.clock import FakeClock, china_time
from laborsign.webhooks.common import CHAT
from tests.chat_helpers import Platforms, WechatUser, channel_env, deliver
from tests.conftest import Api
from tests.test_chat_wechat import bind
from tests.test_contracts import launch_body, mark_verified, setup_contract_world
from tests.test_onboarding import FORM

WORKER = FORM["phone"]


@pytest.fixture
def config_env(config_env: dict[str, str], platforms: Platforms) -> dict[str, str]:
    return {
        **config_env,
        **channel_env(platforms),
        "LABORSIGN_WECHAT__NOTICE_TEMPLATE_ID": platforms.wechat.notice_template_id,
        "LABORSIGN_WECHAT__NOTICE_TEMPLATE_FIELDS": "thing1=text,time2=time,phrase3=status,thing4=hint",
    }


async def test_typed_template_fields_within_wechat_limits(
    api: Api, make_api: Any, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    fake = platforms.wechat
    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=WORKER)
    follower = WechatUser(client, fake, clock)
    await bind(follower, api, clock, WORKER)
    while (await deliver(client)).handled:
        pass
    fake.received.clear()

    cid = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    launched = clock.now()
    stats = await deliver(client)
    assert (stats.sent, stats.dead, stats.retried) == (2, 0, 0)  # the template message and the SMS
    [notice] = fake.of("template")
    assert notice["url"] == f"{client.app[DEPS].public_url}/h5/contracts/{cid}"
    local = china_time(launched)  # WeChat shows the time as written: China time
    assert notice["data"] == {
        # 38 characters in the notice: cut to WeChat's 20 for a thing field, marked as cut.
        "thing1": {"value": "【广州测试科技有限公司】邀请您签署《标…"},
        "time2": {"value": f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"},
        "phrase3": {"value": "待签署"},
        "thing4": {"value": "点击查看详情"},
    }
    assert len(notice["data"]["thing1"]["value"]) == 20
    sms = await api.get(f"/api/v1/dev/sms?phone={WORKER}")
    assert "邀请您签署《标准劳动合同》" in sms["items"][0]["text"], "the SMS keeps the whole text"

    await api.post(f"/api/v1/contracts/{cid}/withdraw", {"reason": "岗位调整"}, expect=200)
    assert (await deliver(client)).sent == 2
    withdrawn = fake.of("template")[-1]
    assert withdrawn["url"] is None
    assert withdrawn["data"]["phrase3"] == {"value": "已撤回"} and withdrawn["data"]["thing4"] == {
        "value": ""
    }
    assert withdrawn["data"]["thing1"]["value"] == "【广州测试科技有限公司】已撤回《标准劳…"

    # The fake holds WeChat's limits: what breaks them is refused with 47001, for good.
    wechat = client.app[CHAT].senders["wechat"]
    assert isinstance(wechat, WechatSender)
    template_id = fake.notice_template_id
    for data in (
        {"thing1": {"value": "一" * 21}},
        {"phrase3": {"value": "等待对方签署"}},
        {"time2": {"value": "明天下午"}},
        {"thing1": {"value": "第一行\n第二行"}},
    ):
        with pytest.raises(SendError) as refused:
            await wechat._call(lambda c, d=data: c.message.send_template(follower.openid, template_id, d))
        assert "47001" in str(refused.value) and refused.value.permanent, data
    assert len(fake.of("template")) == 2
