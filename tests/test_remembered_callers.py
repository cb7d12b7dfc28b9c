"""A caller is resolved from memory while nothing about accounts changed (the auth epoch in
the database, issue 16): admin transfer, member removal and logout done through one process
are seen by the very next request to another process on the same database."""

from __future__ import annotations

from typing import Any

from laborsign.api.http import DEPS, SESSION_COOKIE
from laborsign.core.accounts import User
from tests.conftest import Api, FakeClock
from tests.test_webhook_replay import second_process


def cookie_of(api: Api) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={api.last_response.cookies[SESSION_COOKIE].value}"}


async def me(client: Any, cookie: dict[str, str], status: int = 200) -> Any:
    resp = await client.get("/api/v1/me", headers=cookie)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_admin_transfer_member_removal_and_logout_reach_another_process_at_once(
    api: Api, make_api: Any, client: Any, aiohttp_client: Any, config_env: dict[str, str], clock: FakeClock
) -> None:
    ent = await api.register_enterprise(clock)
    admin = cookie_of(api)
    member = await api.post("/api/v1/members", {"name": "李四", "phone": "13900139000"}, expect=201)
    li = await make_api()
    await li.login(clock, "13900139000")
    li_cookie = cookie_of(li)
    # Two more processes on the same database (cookie jars of their own: the cookie is sent).
    first = await second_process(aiohttp_client, config_env, clock)
    other = await second_process(aiohttp_client, config_env, clock)
    for process in (first, other, first, other):  # each has loaded and remembered both callers
        assert (await me(process, admin))["member"]["role"] == "admin"
        assert (await me(process, li_cookie))["member"]["role"] == "member"

    await api.post("/api/v1/enterprise/admin-transfer", {"member_id": member["id"]}, expect=200)
    seen = await me(other, admin)
    assert seen["enterprise"] is None and seen["member"] is None and seen["enterprises"] == []
    refused = await other.get("/api/v1/members", headers=admin)
    assert refused.status == 403 and (await refused.json())["error"] == "no_enterprise"
    assert (await me(other, li_cookie))["member"]["role"] == "admin", "the new admin at once"

    # Removal of a member (the domain method, in a unit of work of another process).
    deps = first.app[DEPS]
    async with deps.uow() as uow:
        user = await uow.accounts.user_by_phone("13900139000")
        assert isinstance(user, User)
        row = await uow.accounts.member(ent["enterprise"]["id"], user.id)
        assert row is not None
        row.revoke()
        await uow.commit()
    seen = await me(other, li_cookie)
    assert seen["enterprise"] is None and seen["enterprises"] == []
    assert (await other.get("/api/v1/members", headers=li_cookie)).status == 403

    await li.post("/api/v1/auth/logout", expect=204)
    gone = await me(other, li_cookie, 401)
    assert gone["error"] == "not_logged_in"
    assert (await me(other, admin))["user"] is not None, "another caller's session is untouched"


async def test_a_remembered_session_still_expires_on_time(
    api: Api, client: Any, aiohttp_client: Any, config_env: dict[str, str], clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    admin = cookie_of(api)
    other = await second_process(aiohttp_client, config_env, clock)
    assert (await me(other, admin))["member"]["role"] == "admin"
    clock.advance(days=31)
    await me(other, admin, 401)


async def test_a_statement_on_the_accounts_tables_reaches_another_process_at_once(
    api: Api, client: Any, aiohttp_client: Any, config_env: dict[str, str], clock: FakeClock
) -> None:
    """Not only changes to loaded objects: an UPDATE run through a unit of work (as the
    contract tests' `mark_verified` does) moves the epoch too."""
    from sqlalchemy import update

    from laborsign.storage.accounts import enterprises

    ent = await api.register_enterprise(clock)
    admin = cookie_of(api)
    other = await second_process(aiohttp_client, config_env, clock)
    assert (await me(other, admin))["enterprise"]["verification_status"] != "verified"
    async with client.app[DEPS].uow() as uow:
        await uow.session.execute(
            update(enterprises)
            .where(enterprises.c.id == ent["enterprise"]["id"])
            .values(verification_status="verified")
        )
        await uow.commit()
    assert (await me(other, admin))["enterprise"]["verification_status"] == "verified"
