"""HR notices end to end (both databases): a scripted journey — a worker signs and the seal is
awaited, the enterprise seals, a worker declines, a contract is withdrawn, one lapses by the
clock — leaves the enterprise's notices in Chinese with unread counts and read marks per
member; the members with the contracts permission bound on the fake WeCom and DingTalk get
each as a message (SMS only for the one who chose it), a member without the permission gets
none, and another enterprise sees none of them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from laborsign.core.services.contracts.lifecycle import expire_due
from tests.chat_helpers import DingtalkStaff, Platforms, WecomMember, channel_env, deliver
from tests.conftest import Api
from tests.test_chat_hr_and_outbox import HR_PHONE, bind_wecom
from tests.test_contracts import launch_body, mark_verified
from tests.test_integrator_webhooks import _seal_as_enterprise, _sign_as_worker
from tests.test_onboarding import FORM, onboard
from tests.test_templates import enabled_template

LEGAL_PHONE = "13900139001"  # 李合同: contracts permission, DingTalk, chose SMS
ONBOARDING_PHONE = "13900139002"  # 赵入职: onboarding permission only, WeCom


@pytest.fixture
def config_env(config_env: dict[str, str], platforms: Platforms) -> dict[str, str]:
    return {**config_env, **channel_env(platforms)}


async def _member(api: Api, make_api: Any, clock: FakeClock, name: str, phone: str, perms: list[str]) -> Api:
    await api.post("/api/v1/members", {"name": name, "phone": phone, "permissions": perms}, expect=201)
    other: Api = await make_api()
    await other.login(clock, phone)
    return other


async def _bind_dingtalk(staff: DingtalkStaff, api: Api, clock: FakeClock, phone: str) -> None:
    await staff.say("绑定")
    assert "验证码已发送" in await staff.say(phone)
    code = (await api.get(f"/api/v1/dev/sms?phone={phone}"))["items"][0]["code"]
    assert "绑定成功" in await staff.say(code)
    clock.advance(seconds=61)


def _texts(received: list[dict[str, Any]], to: str) -> list[str]:
    return [r["text"] for r in received if r["kind"] == "text" and r["to"] == to and "《" in r["text"]]


async def _hr_sms(api: Api, phone: str) -> list[str]:
    inbox = await api.get(f"/api/v1/dev/sms?phone={phone}")
    return [m["text"] for m in inbox["items"] if "《" in m["text"]]


async def test_a_journey_tells_hr_in_the_dashboard_and_on_chat(
    api: Api, make_api: Any, client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    ent = (await api.register_enterprise(clock))["enterprise"]["id"]
    admin_wecom = WecomMember(client, platforms.wecom, clock)
    await bind_wecom(admin_wecom, api, clock, HR_PHONE)
    legal = await _member(api, make_api, clock, "李合同", LEGAL_PHONE, ["contracts"])
    legal_ding = DingtalkStaff(client, platforms.dingtalk, clock, "ding-li")
    await _bind_dingtalk(legal_ding, api, clock, LEGAL_PHONE)
    assert (await legal.call("PUT", "/api/v1/notices/settings", {"notify_by_sms": True}, expect=200))[
        "notify_by_sms"
    ] is True
    onboarding_only = await _member(api, make_api, clock, "赵入职", ONBOARDING_PHONE, ["onboarding"])
    zhao_wecom = WecomMember(client, platforms.wecom, clock, userid="zhao")
    await bind_wecom(zhao_wecom, api, clock, ONBOARDING_PHONE)
    assert (await api.get("/api/v1/notices/settings"))["notify_by_sms"] is False, "SMS is off by default"

    template = await enabled_template(api)
    seal = await api.post("/api/v1/seals", {"type": "contract"}, expect=201)
    worker = await make_api()
    record = await onboard(api, worker, clock)
    await deliver(client)
    await deliver(client)
    cards = platforms.wecom.of("template_card")
    assert zhao_wecom.userid in [c["to"] for c in cards], "赵入职 is reachable on WeCom: an onboarding card"
    employee = (await api.post(f"/api/v1/onboarding/{record['id']}/approve", {}, expect=200))["employee_id"]
    await mark_verified(client, enterprise_id=ent, phone=FORM["phone"])
    world = {"template": template, "employee_id": employee}

    async def launch(**extra: Any) -> str:
        made = await api.post("/api/v1/contracts", launch_body(world, **extra), expect=201)
        return str(made["contracts"][0]["id"])

    completed = await launch()
    title = (await api.get(f"/api/v1/contracts/{completed}"))["name"]
    await _sign_as_worker(worker, completed)
    clock.advance(seconds=1)
    await _seal_as_enterprise(api, completed, seal["id"])
    clock.advance(seconds=1)
    declined = await launch()
    await worker.post(f"/api/v1/me/contracts/{declined}/decline", {"reason": "薪资与约定不符"}, expect=200)
    clock.advance(seconds=1)
    withdrawn = await launch()
    await api.post(f"/api/v1/contracts/{withdrawn}/withdraw", {"reason": "岗位调整"}, expect=200)
    clock.advance(seconds=1)
    expired = await launch(sign_deadline=(clock.now() + timedelta(days=1)).isoformat())
    clock.advance(days=1, seconds=1)
    assert await expire_due(client.app[DEPS]) == 1
    await deliver(client)  # the HR rows become one message per member and channel
    await deliver(client)

    name = FORM["name"]
    expected = [  # newest first
        ("contract_expired", expired, f"与{name}的《{title}》超过签署截止时间未完成，已过期"),
        ("contract_withdrawn", withdrawn, f"与{name}的《{title}》已撤回，原因：岗位调整"),
        ("worker_declined", declined, f"{name}拒签了《{title}》，理由：薪资与约定不符"),
        ("contract_completed", completed, f"与{name}的《{title}》已签署完成"),
        ("worker_signed", completed, f"{name}已签署《{title}》，等待企业盖章"),
    ]
    listed = await api.get("/api/v1/notices")
    assert listed["total"] == 5 and listed["unread"] == 5 and listed["page"] == 1
    assert [(n["kind"], n["contract_id"], n["text"]) for n in listed["items"]] == expected
    assert all(n["employee_id"] == employee and n["read"] is False for n in listed["items"])
    assert set(listed["items"][0]) == {
        "id",
        "kind",
        "contract_id",
        "employee_id",
        "text",
        "created_at",
        "read",
    }
    second_page = await api.get("/api/v1/notices?page=2&per_page=2")
    assert [n["kind"] for n in second_page["items"]] == ["worker_declined", "contract_completed"]

    # Chat: each member with the contracts permission on the channel they bound, oldest first.
    texts = [text for _, _, text in reversed(expected)]
    wecom = _texts(platforms.wecom.received, admin_wecom.userid)
    assert [t.split("\n")[0] for t in wecom] == texts
    assert f"/dashboard/contracts/{completed}" in wecom[0], "the message links to the contract"
    assert [t.split("\n")[0] for t in _texts(platforms.dingtalk.received, "ding-li")] == texts
    assert _texts(platforms.wecom.received, "zhao") == [], "no contracts permission: no notices"
    # SMS only for the member who chose it.
    legal_sms = await _hr_sms(api, LEGAL_PHONE)  # newest first
    assert [s.split("，详情：")[0] for s in legal_sms] == [
        f"【广州测试科技有限公司】{t}" for _, _, t in expected
    ]
    assert all(
        s.endswith(f"/dashboard/contracts/{cid}") for s, (_, cid, _) in zip(legal_sms, expected, strict=True)
    )
    assert await _hr_sms(api, HR_PHONE) == []

    # Read marks are per member.
    first = listed["items"][0]["id"]
    assert (await api.post("/api/v1/notices/read", {"ids": [first]}, expect=200))["unread"] == 4
    assert (await api.post("/api/v1/notices/read", {"ids": [first]}, expect=200))["unread"] == 4, "twice"
    mine = await api.get("/api/v1/notices")
    assert [n["read"] for n in mine["items"]] == [True, False, False, False, False]
    theirs = await legal.get("/api/v1/notices")
    assert theirs["unread"] == 5 and not any(n["read"] for n in theirs["items"])
    assert (await legal.post("/api/v1/notices/read", {"all": True}, expect=200))["unread"] == 0
    assert all(n["read"] for n in (await legal.get("/api/v1/notices"))["items"])
    assert (await api.get("/api/v1/notices"))["unread"] == 4

    # A later notice is unread for both, whatever they marked before.
    clock.advance(seconds=1)
    later = await launch()
    await api.post(f"/api/v1/contracts/{later}/withdraw", {"reason": "重复发起"}, expect=200)
    assert (await legal.get("/api/v1/notices"))["unread"] == 1
    admin_view = await api.get("/api/v1/notices")
    assert admin_view["unread"] == 5 and admin_view["items"][0]["contract_id"] == later

    # Without the contracts permission: refused, in Chinese.
    refused = await onboarding_only.get("/api/v1/notices", expect=403)
    assert refused["error"] == "permission_denied" and "合同管理" in refused["message"]
    await onboarding_only.post("/api/v1/notices/read", {"all": True}, expect=403)

    # Another enterprise sees none, and cannot mark this one's read.
    other = await make_api()
    await other.register_enterprise(
        clock, phone="13700137000", name="乙方企业有限公司", credit_code="91440101MA59ABCD0A"
    )
    assert (await other.get("/api/v1/notices")) == {
        "items": [], "total": 0, "page": 1, "per_page": 20, "unread": 0,
    }  # fmt: skip
    ids = [n["id"] for n in admin_view["items"]]
    assert (await other.post("/api/v1/notices/read", {"ids": ids}, expect=200))["unread"] == 0
    assert (await api.get("/api/v1/notices"))["unread"] == 5


async def test_bad_read_requests_are_refused_in_chinese(api: Api, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    for bad in ({}, {"ids": []}, {"ids": "abc"}, {"ids": [1, 2]}, {"all": "yes"}, {"ids": ["x"] * 101}):
        answer = await api.post("/api/v1/notices/read", bad, expect=422)
        assert answer["message"] and not answer["message"].isascii(), bad
    answer = await api.call("PUT", "/api/v1/notices/settings", {"notify_by_sms": "on"}, expect=422)
    assert "notify_by_sms" in answer["message"]
    assert (await api.post("/api/v1/notices/read", {"ids": ["0" * 32]}, expect=200))["unread"] == 0
