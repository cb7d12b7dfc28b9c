"""Crashes, with a real process tree: `laborsign serve` killed with SIGKILL in the middle of a
batch signing. Its PDF worker processes end with it; the session it left half applied is
finished when confirmed again (or by the resume job), every contract signed exactly once,
every PDF valid."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from laborsign.api.http import DEPS, SESSION_COOKIE
from laborsign.core.clock import FakeClock
from laborsign.core.services import signing
from laborsign.core.signing import APPLY_LEASE
from laborsign.storage.contracts import parties
from tests.conftest import Api
from tests.processes import descendants, kill_hard, serve, until_gone
from tests.test_signing_face import launched_world

BATCH = 10


@pytest.fixture
def clock() -> FakeClock:
    # The killed process runs on the real clock. The set-up moves the tests' clock on by
    # minutes (logins, verification); it starts early enough to meet the real one after it.
    return FakeClock(datetime.now(UTC) - timedelta(hours=2))


def to_real_time(clock: FakeClock) -> None:
    now = datetime.now(UTC)
    assert clock.now() < now
    clock.set(now)


async def signed_count(client: Any, ids: list[str]) -> int:
    async with client.app[DEPS].uow() as uow:
        count = await uow.session.scalar(
            select(func.count())
            .select_from(parties)
            .where(parties.c.contract_id.in_(ids), parties.c.role == "enterprise", parties.c.status == "signed")
        )
    return int(count or 0)


async def test_kill_9_mid_batch_then_the_same_session_finishes_it(
    api: Api, make_api: Any, client: Any, clock: FakeClock, config_env: dict[str, str], tmp_path: Path
) -> None:
    world = await launched_world(api, make_api, client, clock, n=BATCH)
    ids: list[str] = world["ids"]
    to_real_time(clock)
    session = await api.post(
        "/api/v1/signing-sessions", {"contract_ids": ids, "seal_id": world["seal"]["id"]}, expect=201
    )
    code = (await api.get("/api/v1/dev/sms?phone=13800138000"))["items"][0]["code"]
    cookie = next(c.value for c in api.client.session.cookie_jar if c.key == SESSION_COOKIE)

    # Another process on the same database and data folder confirms it: one PDF worker, so
    # the batch takes a while; it is killed with SIGKILL once some contracts are signed.
    env = {**config_env, "LABORSIGN_PKI__WORKERS": "1"}
    async with serve(env, tmp_path / "serve.log") as served, aiohttp.ClientSession() as http:
        confirm = asyncio.ensure_future(
            http.post(
                f"{served.base}/api/v1/signing-sessions/{session['id']}/confirm",
                json={"code": code},
                headers={"X-CSRF-Token": api.csrf or "", "Cookie": f"{SESSION_COOKIE}={cookie}"},
            )
        )
        for _ in range(3000):
            if await signed_count(client, ids) >= 2 or confirm.done():
                break
            await asyncio.sleep(0.02)
        workers = descendants(served.pid)
        kill_hard(served)
        with pytest.raises(aiohttp.ClientError):
            await confirm
    half = await signed_count(client, ids)
    assert 0 < half < BATCH, f"the batch was not cut short ({half} of {BATCH} signed)"
    assert workers, "the PDF worker process was never started"
    assert await until_gone(workers) == set(), "PDF worker processes outlived their parent"

    state = await api.get(f"/api/v1/signing-sessions/{session['id']}")
    assert state["status"] == "confirming"
    # While the dead process's lease runs, confirming again says so…
    refused = await api.post(f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": code}, expect=409)
    assert refused["error"] == "session_in_progress" and refused["retry_after"] >= 1
    # …then the same session signs what is left (its intent was proven before the crash).
    clock.set(max(clock.now(), datetime.now(UTC)) + APPLY_LEASE + timedelta(seconds=1))
    done = await api.post(f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": code}, expect=200)
    assert sorted(done["signed"]) == sorted(ids) and done["failed"] == []
    assert await signing.resume_signing(client.app[DEPS]) == 0, "nothing is left to resume"
    await exactly_once(api, client, ids)


async def exactly_once(api: Api, client: Any, ids: list[str]) -> None:
    for cid in ids:
        events = (await api.get(f"/api/v1/contracts/{cid}/events"))["items"]
        assert [e["kind"] for e in events].count("signed") == 1, cid
        detail = await api.get(f"/api/v1/contracts/{cid}")
        assert {p["role"]: p["status"] for p in detail["parties"]} == {"enterprise": "signed", "worker": "pending"}
        pdf = await api.get(f"/api/v1/contracts/{cid}/document.pdf")
        report = await client.app[DEPS].pdf.verify(pdf)
        (only,) = report.signatures
        assert only.intact and only.trusted, only


async def test_the_resume_job_finishes_a_session_left_half_applied(
    api: Api, make_api: Any, client: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same state without a second process: the applier stops dead after two contracts
    (nothing runs after it, as after SIGKILL); the resume job signs the rest once the lease
    has run out, and two resume passes at once sign nothing twice."""
    world = await launched_world(api, make_api, client, clock, n=4)
    ids: list[str] = world["ids"]
    deps = client.app[DEPS]
    real_sign = deps.pdf.sign
    calls = 0

    class Died(BaseException):
        """Not an Exception: nothing in the service catches it, like a process killed."""

    async def dies_on_the_third(data: bytes, spec: Any) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise Died
        return await real_sign(data, spec)

    monkeypatch.setattr(signing, "LAUNCH_CONCURRENCY", 1)
    monkeypatch.setattr(deps.pdf, "sign", dies_on_the_third)
    session = await api.post(
        "/api/v1/signing-sessions", {"contract_ids": ids, "seal_id": world["seal"]["id"]}, expect=201
    )
    code = (await api.get("/api/v1/dev/sms?phone=13800138000"))["items"][0]["code"]
    with pytest.raises(Died):
        await signing.confirm_signing(deps, await _actor(client, api), session["id"], code, signing.Context("", ""))
    monkeypatch.setattr(deps.pdf, "sign", real_sign)
    assert await signed_count(client, ids) == 2
    assert await signing.resume_signing(deps) == 0, "the lease still runs"
    clock.advance(APPLY_LEASE + timedelta(seconds=1))
    results = await asyncio.gather(signing.resume_signing(deps), signing.resume_signing(deps))
    assert sorted(results) == [0, 1]
    state = await api.get(f"/api/v1/signing-sessions/{session['id']}")
    assert state["status"] == "done" and state["result"] == {"signed": ids, "failed": []}
    await exactly_once(api, client, ids)


async def _actor(client: Any, api: Api) -> Any:
    from laborsign.core.services.accounts import resolve_session

    cookie = next(c.value for c in api.client.session.cookie_jar if c.key == SESSION_COOKIE)
    return await resolve_session(client.app[DEPS], cookie)
