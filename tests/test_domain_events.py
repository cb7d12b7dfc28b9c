"""Domain events on the real unit of work (both databases): handled when the transaction
commits and inside it — a change that is rolled back leaves no delivery — and an event a
handler writes twice for one endpoint is one delivery."""

from __future__ import annotations

from typing import Any

import pytest

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from laborsign.core.errors import Conflict
from laborsign.core.events import ContractExpired
from laborsign.core.handlers import dispatch
from laborsign.core.outbox import Channel
from tests.conftest import Api


def _expired(enterprise_id: str, clock: FakeClock) -> ContractExpired:
    return ContractExpired(
        enterprise_id=enterprise_id, at=clock.now(), contract_id="c" * 32, name="标准劳动合同",
        status="expired", employee_id="e" * 32, worker_name="王五",
    )  # fmt: skip


async def test_events_are_handled_in_the_committing_transaction(
    api: Api, client: Any, clock: FakeClock
) -> None:
    ent = (await api.register_enterprise(clock))["enterprise"]["id"]
    endpoint = await api.post(
        "/api/v1/webhook-endpoints",
        {"url": "https://1.1.1.1/hook", "events": ["contract.expired"]},
        expect=201,
    )
    deps = client.app[DEPS]

    async with deps.uow() as uow:
        uow.record(_expired(ent, clock))  # and the block ends without commit: rolled back
    async with deps.uow() as uow:
        assert (await uow.integrations.deliveries_page(endpoint["id"], 0, 10))[1] == 0

    event = _expired(ent, clock)
    async with deps.uow() as uow:
        uow.record(event)
        await uow.commit()
    async with deps.uow() as uow:
        rows, total = await uow.integrations.deliveries_page(endpoint["id"], 0, 10)
    assert total == 1 and rows[0].channel == Channel.WEBHOOK and rows[0].payload["event"]["id"] == event.id
    assert rows[0].payload["event"]["data"] == {
        "contract_id": "c" * 32, "name": "标准劳动合同", "status": "expired", "employee_id": "e" * 32,
        "worker_name": "王五",
    }  # fmt: skip

    # The same event handled again (a handler run twice) cannot make a second delivery.
    async with deps.uow() as uow:
        await dispatch(uow, [event])
        with pytest.raises(Conflict):
            await uow.commit()
    # Another enterprise's events never reach this endpoint.
    async with deps.uow() as uow:
        uow.record(_expired("0" * 32, clock))
        await uow.commit()
    async with deps.uow() as uow:
        assert (await uow.integrations.deliveries_page(endpoint["id"], 0, 10))[1] == 1
