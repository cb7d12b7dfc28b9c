"""A worker asking 合同到期 on WeChat hears when their signed labor contract ends (issue 13)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from laborsign.core.clock import FakeClock, china_time
from tests.chat_helpers import Platforms, WechatUser, channel_env
from tests.conftest import Api
from tests.test_chat_wechat import bind
from tests.test_labor_assistant import body, complete, term_world
from tests.test_onboarding import FORM


@pytest.fixture
def config_env(config_env: dict[str, str], platforms: Platforms) -> dict[str, str]:
    return {**config_env, **channel_env(platforms)}


async def test_worker_asks_when_the_contract_ends(
    api: Api, make_api: Any, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    world = await term_world(api, make_api, client, clock)
    worker = WechatUser(client, platforms.wechat, clock)
    await bind(worker, api, clock, FORM["phone"])
    assert "没有已签署完成的劳动合同" in await worker.say("合同到期")

    today = china_time(clock.now()).date()
    end = today + timedelta(days=20)
    launch = body(world, contract_start_date=(today - timedelta(days=300)).isoformat(), contract_end_date=end.isoformat(),
                  probation_end_date="", probation_wage="")  # fmt: skip
    launched = await api.post("/api/v1/contracts", launch, expect=201)
    assert "没有已签署完成" in await worker.say("合同到期"), "a contract still signing has no term yet"
    await complete(client, launched["contracts"][0]["id"])
    answer = await worker.say("合同到期")
    assert (
        f"{end.year}年{end.month}月{end.day}日到期" in answer
        and "还有20天" in answer
        and "广州测试科技有限公司" in answer
    )
    assert "合同到期" in await worker.say("帮助")
