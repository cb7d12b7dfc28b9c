"""Two transactions changing one contract at once (both databases): the one that writes second
gets the domain's Conflict — HTTP 409 concurrent_update with a Chinese message, not a 500 —
and nothing of its change is kept.

The race is made exact, not hoped for: just before the HR's withdrawal writes the contract, a
second session (its own connection and transaction) records the worker's refusal and commits,
so the withdrawal's versioned UPDATE finds the row moved on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.util import await_only

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from laborsign.core.contracts import Contract, PartyRole
from tests.conftest import Api
from tests.test_contracts import FORM, launch_body, mark_verified, setup_contract_world


async def test_a_contract_changed_meanwhile_is_a_409_not_a_500(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    world = await setup_contract_world(api, make_api, client, clock)
    await mark_verified(client, enterprise_id=world["enterprise"]["id"], phone=FORM["phone"])
    cid = (await api.post("/api/v1/contracts", launch_body(world), expect=201))["contracts"][0]["id"]
    deps = client.app[DEPS]

    async def worker_declines_meanwhile() -> None:
        async with deps.uow() as other:
            contract = await other.get_or_404(Contract, cid)
            parties = (await other.contracts.parties_of([cid]))[cid]
            worker = next(p for p in parties if p.role == PartyRole.WORKER)
            contract.decline(worker, "薪资与约定不符", clock.now())
            await other.commit()

    raced: list[str] = []

    def before_write(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not raced and statement.lstrip().upper().startswith("UPDATE CONTRACTS"):
            raced.append(statement)
            await_only(worker_declines_meanwhile())

    engine = deps.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before_write)
    try:
        answer = await api.post(f"/api/v1/contracts/{cid}/withdraw", {"reason": "岗位调整"}, expect=409)
    finally:
        event.remove(engine, "before_cursor_execute", before_write)
    assert raced, "the withdrawal never wrote the contract"
    assert answer["error"] == "concurrent_update" and "其他操作更新" in answer["message"]

    # The refusal that committed first stands; the withdrawal left no trace.
    seen = await api.get(f"/api/v1/contracts/{cid}")
    assert seen["status"] == "rejected"
    async with deps.uow() as uow:
        kinds = [e.kind for e in await uow.contracts.events_of(cid)]
    assert "withdrawn" not in kinds
    # Asked again on the fresh state, the withdrawal is refused for what it is (409 not_signing).
    again = await api.post(f"/api/v1/contracts/{cid}/withdraw", {"reason": "岗位调整"}, expect=409)
    assert again["error"] == "not_signing"
