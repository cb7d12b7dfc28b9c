"""The labor-law facts in chat (issue 13): a worker asking 合同到期 on WeChat hears when their
signed labor contract ends and finds each contract's term in 我的合同; HR on WeCom reads the
term in its notices, the written-contract deadline on the review card and the deadline alerts'
text, all worded by core as the web shows them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock, china_time
from laborsign.core.labor_law import add_months
from laborsign.core.services.labor import notify_alerts
from tests.chat_helpers import Platforms, WechatUser, WecomMember, channel_env, deliver
from tests.conftest import Api
from tests.test_chat_hr_and_outbox import HR_PHONE, bind_wecom
from tests.test_chat_wechat import bind
from tests.test_labor_assistant import _id_number, body, complete, send_upload, term_world, upload_meta
from tests.test_onboarding import FORM, onboard


def cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


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

    # 我的合同: each contract with its term, the facts the web answers as `term`.
    start = today - timedelta(days=300)
    mine = await worker.say("我的合同")
    assert f"合同期限：固定期限，{cn(start)}至{cn(end)}；月工资：6000.00元；岗位：技工" in mine, mine
    uploaded = await send_upload(api, {**upload_meta(world, monthly_wage="7000", position="质检员"), "confirm_warnings": True}, 201)  # fmt: skip
    assert uploaded["contracts"]
    mine = await worker.say("我的合同")
    assert (
        "上传的劳动合同" in mine
        and "合同期限：固定期限，2027年1月1日至2029年12月31日；试用期：至2027年2月28日；月工资：7000.00元（试用期4800.00元）；岗位：质检员" in mine
    ), mine  # fmt: skip


async def test_hr_reads_the_term_and_the_labor_law_on_wecom(
    api: Api, make_api: Any, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    world = await term_world(api, make_api, client, clock)
    hr = WecomMember(client, platforms.wecom, clock)
    await bind_wecom(hr, api, clock, HR_PHONE)
    today = china_time(clock.now()).date()

    # The review card of a new hire: when the written contract is due and when double wages start.
    newcomer = await make_api()
    form = {**FORM, "name": "钱四十", "phone": "13700000040", "id_number": _id_number("1992-05-06", 40),
            "birth_date": "1992-05-06"}  # fmt: skip
    record = await onboard(api, newcomer, clock, form)
    await deliver(client)
    await deliver(client)
    card = next(c["card"] for c in platforms.wecom.of("template_card") if c["to"] == hr.userid)
    due = add_months(today, 1)
    note = card["sub_title_text"]
    assert f"应于{cn(due)}前订立书面劳动合同" in note and f"自{cn(due + timedelta(days=1))}起应每月支付二倍工资" in note, note  # fmt: skip
    assert "《劳动合同法》第十条、第八十二条" in note
    hired = today - timedelta(days=40)
    await api.post(f"/api/v1/onboarding/{record['id']}/approve", {"hire_date": hired.isoformat()}, expect=200)

    # A notice on a contract carries its term.
    launched = await api.post("/api/v1/contracts", body(world), expect=201)
    await api.post(f"/api/v1/contracts/{launched['contracts'][0]['id']}/withdraw", {"reason": "岗位调整"}, expect=200)  # fmt: skip
    await deliver(client)
    await deliver(client)
    notices = [
        r["text"] for r in platforms.wecom.of("text") if r["to"] == hr.userid and "已撤回" in r["text"]
    ]
    assert len(notices) == 1
    lines = notices[0].split("\n")
    assert lines[1:6] == [
        "合同期限：固定期限，2027年1月1日至2029年12月31日", "试用期：至2027年2月28日",
        "月工资：6000.00元（试用期4800.00元）", "岗位：技工", "工作地点：广州市天河区",
    ], lines  # fmt: skip
    assert lines[6].endswith("/dashboard/contracts/" + launched["contracts"][0]["id"])

    # The daily pass: the alert's text reaches HR on WeCom too, once.
    assert await notify_alerts(client.app[DEPS]) >= 1
    await deliver(client)
    await deliver(client)
    assert await notify_alerts(client.app[DEPS]) == 0
    await deliver(client)
    alerts = [r["text"] for r in platforms.wecom.of("text") if r["to"] == hr.userid and "钱四十" in r["text"]]
    overdue = add_months(hired, 1) + timedelta(days=1)
    assert len(alerts) == 1 and f"自{cn(overdue)}起，用人单位应当每月支付二倍工资" in alerts[0], alerts
    assert "【广州测试科技有限公司】" in alerts[0] and alerts[0].endswith("/dashboard/alerts")
