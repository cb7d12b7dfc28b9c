"""Member edit and removal over HTTP (issue 14), on SQLite and PostgreSQL: a removed member is
locked out at once, also on a second app instance on the same database."""

from __future__ import annotations

from typing import Any

from laborsign.api.http import DEPS
from laborsign.bootstrap import create_app
from laborsign.core.chat import ChatIdentity
from laborsign.core.clock import FakeClock
from tests.conftest import Api, _Browser

ADMIN = "13800138000"
LI = "13900139000"


async def _second_host(aiohttp_client: Any, config: Any, clock: FakeClock) -> Any:
    return await aiohttp_client(create_app(config, clock=clock, migrate=False))


async def test_admin_edits_permissions_and_the_member_feels_it(api: Api, make_api, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    await api.register_enterprise(clock)
    member = await api.post(
        "/api/v1/members", {"name": "李四", "phone": LI, "permissions": ["templates"]}, expect=201
    )
    li = await make_api()
    await li.login(clock, LI)
    await li.get("/api/v1/contracts", expect=403)

    changed = await api.call(
        "PATCH", f"/api/v1/members/{member['id']}", {"permissions": ["contracts", "onboarding"]}, expect=200
    )
    assert changed["permissions"] == ["contracts", "onboarding"] and changed["role"] == "member"
    await li.get("/api/v1/contracts", expect=200)
    await li.get("/api/v1/templates?scope=enterprise", expect=200)  # reading stays open to members

    bad = await api.call("PATCH", f"/api/v1/members/{member['id']}", {"permissions": ["root"]}, expect=422)
    assert "未知的权限" in bad["message"]
    # Lists where codes belong are refused, not a server error.
    for wrong in ({"permissions": [["contracts"]]}, {"role": ["admin"]}):
        await api.call("PATCH", f"/api/v1/members/{member['id']}", wrong, expect=422)
    refused = await li.call("PATCH", f"/api/v1/members/{member['id']}", {"permissions": []}, expect=403)
    assert refused["error"] == "admin_only"
    await api.call("PATCH", "/api/v1/members/" + "0" * 32, {"permissions": []}, expect=404)


async def test_the_last_admin_stays(api: Api, make_api, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    await api.register_enterprise(clock)
    me = await api.get("/api/v1/me")
    admin_id = me["member"]["id"]
    removal = await api.call("DELETE", f"/api/v1/members/{admin_id}", expect=409)
    assert removal["error"] == "last_admin" and "管理员" in removal["message"]
    demotion = await api.call(
        "PATCH", f"/api/v1/members/{admin_id}", {"permissions": [], "role": "member"}, expect=409
    )
    assert demotion["error"] == "last_admin"
    # With a second admin the first one may step down.
    li = await api.post("/api/v1/members", {"name": "李四", "phone": LI, "permissions": []}, expect=201)
    promoted = await api.call("PATCH", f"/api/v1/members/{li['id']}", {"role": "admin"}, expect=200)
    assert promoted["role"] == "admin" and set(promoted["permissions"]) == {
        "templates",
        "contracts",
        "onboarding",
        "integrations",
    }
    await api.call(
        "PATCH", f"/api/v1/members/{admin_id}", {"permissions": ["contracts"], "role": "member"}, expect=200
    )
    assert (await api.get("/api/v1/me"))["member"]["role"] == "member"


async def test_removed_member_is_locked_out_on_every_host(  # type: ignore[no-untyped-def]
    api: Api, make_api, client, aiohttp_client, config, clock: FakeClock
) -> None:
    ent = await api.register_enterprise(clock)
    member = await api.post(
        "/api/v1/members", {"name": "李四", "phone": LI, "permissions": ["contracts"]}, expect=201
    )
    li = await make_api()
    await li.login(clock, LI)
    other = await _second_host(aiohttp_client, config, clock)
    li_there = Api(_Browser(other, li.client.session))  # the same browser, on the other host
    li_there.csrf = li.csrf
    await li_there.get("/api/v1/contracts", expect=200)
    listed = await api.get("/api/v1/members")
    row = next(m for m in listed["items"] if m["id"] == member["id"])
    assert row["last_login_at"] is not None, "the list shows when the member last logged in"

    deps = client.app[DEPS]
    async with deps.uow() as uow:  # the member's WeCom identity, bound as the chat flow binds it
        user = await uow.accounts.user_by_phone(LI)
        identity = ChatIdentity(channel="wecom", app_id="ww-corp", external_id="lisi", created_at=clock.now())
        identity.bind(user.id, LI, clock.now())
        uow.add(identity)
        await uow.commit()

    await api.call("DELETE", f"/api/v1/members/{member['id']}", expect=204)
    for person in (li_there, li):
        gone = await person.get("/api/v1/contracts", expect=403)
        assert gone["error"] == "no_enterprise", gone
    me = await li.get("/api/v1/me")
    assert me["enterprise"] is None and me["enterprises"] == []
    await li.post("/api/v1/session/enterprise", {"enterprise_id": ent["enterprise"]["id"]}, expect=404)
    async with deps.uow() as uow:
        stored = await uow.chat.identity("wecom", "ww-corp", "lisi")
        assert stored is not None and not stored.bound
    listed = await api.get("/api/v1/members")
    assert [m["name"] for m in listed["items"]] == ["张管理"] and listed["total"] == 1
    again = await api.call("DELETE", f"/api/v1/members/{member['id']}", expect=404)
    assert again["error"] == "member_not_found"

    # Added again later, the person starts afresh with the rights given then.
    back = await api.post("/api/v1/members", {"name": "李四", "phone": LI, "permissions": []}, expect=201)
    assert back["id"] == member["id"] and back["permissions"] == [] and back["status"] == "active"
    await li.post("/api/v1/session/enterprise", {"enterprise_id": ent["enterprise"]["id"]}, expect=200)
    await li.get("/api/v1/contracts", expect=403)


async def test_another_enterprise_cannot_touch_members(api: Api, make_api, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    await api.register_enterprise(clock)
    member = await api.post("/api/v1/members", {"name": "李四", "phone": LI}, expect=201)
    rival = await make_api()
    await rival.register_enterprise(
        clock, phone="13700137000", name="广州别家有限公司", credit_code="91440101MA59ABCD0A"
    )
    await rival.call("DELETE", f"/api/v1/members/{member['id']}", expect=404)
    await rival.call("PATCH", f"/api/v1/members/{member['id']}", {"permissions": []}, expect=404)
