"""The bulk download of signed PDFs as a background job (issue 14), on SQLite and PostgreSQL,
with the local file store and with a real S3 server (SeaweedFS): a large set answers 202 and a
job whose progress is polled, the finished zip is downloaded from the file store and every
PDF in it verifies; a small set streams at once. The job is claimed in the database: a job a
dead process left is started again, one that keeps dying fails, a job another process holds
is left alone; zips past their window leave the store. Only the enterprise's members with the
contracts permission see it; another tenant's id is a 404."""

from __future__ import annotations

import asyncio
import io
import zipfile
from datetime import timedelta
from typing import Any

import pytest

from laborsign.api.http import DEPS
from laborsign.core.clock import FakeClock
from laborsign.core.exports import ZIP_JOB, ExportJob, export_file_name
from laborsign.core.ids import new_id
from laborsign.core.services import exports as export_svc
from tests.conftest import Api
from tests.test_exports import contract_world, enterprise_signs, launch, worker_signs


@pytest.fixture(params=["local", "s3"])
def config_env(request: pytest.FixtureRequest, config_env: dict[str, str]) -> dict[str, str]:
    extra = request.getfixturevalue("s3_env") if request.param == "s3" else {}
    # More than one signed PDF is a job: the tests need only a few contracts.
    return {**config_env, **extra, "LABORSIGN_JOBS__EXPORT_ZIP_STREAM_MAX": "1"}


async def finished(api: Api, job: dict[str, Any]) -> dict[str, Any]:
    for _ in range(400):  # the job runs in the server's loop; wait for it without a deadline test
        seen: dict[str, Any] = await api.get(job["url"])
        if seen["status"] not in ("queued", "running"):
            return seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"job still {seen['status']}")


async def signed_world(api: Api, make_api: Any, clock: FakeClock, signed: int) -> tuple[dict[str, Any], list[str]]:
    world = await contract_world(api, make_api, clock)
    done = []
    for i in range(signed):
        cid = await launch(api, world, name=f"劳动合同{i}")
        await worker_signs(world["worker"], cid)
        await enterprise_signs(api, world, cid)
        done.append(cid)
        clock.advance(seconds=61)  # the next intent codes: one a minute per phone
    await launch(api, world, name="待签合同")  # not signed: never in the zip
    return world, done


async def test_large_set_is_a_job_small_set_streams(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    await signed_world(api, make_api, clock, 2)
    job = await api.post("/api/v1/contracts/export.zip?view=completed", expect=202)
    assert job["total"] == 2 and job["status"] in ("queued", "running") and job["download_url"] is None
    seen = await finished(api, job)
    assert seen["status"] == "done" and seen["status_label"] == "已完成", seen
    assert seen["done"] == seen["total"] == 2 and seen["size"] > 0
    data = await api.get(seen["download_url"])
    assert api.last_response.content_type == "application/zip" and len(data) == seen["size"]
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    names = archive.namelist()
    assert len(names) == 2 and all(n.startswith("王五-劳动合同") for n in names)
    for name in names:
        report = await client.app[DEPS].pdf.verify(archive.read(name))
        assert len(report.signatures) == 2 and all(s.intact and s.trusted for s in report.signatures)

    # one contract: streamed in the answer itself
    small = await api.post("/api/v1/contracts/export.zip?q=劳动合同1", expect=200)
    assert api.last_response.content_type == "application/zip"
    assert len(zipfile.ZipFile(io.BytesIO(small)).namelist()) == 1

    events = (await api.get("/api/v1/enterprise/events"))["items"]
    zips = [e for e in events if e["kind"] == "export_contracts_zip"]
    assert len(zips) == 2 and zips[-1]["details"]["filters"] == {"view": "completed"}

    # the zip leaves the store after its window; the job says so
    clock.advance(days=2)
    assert await export_svc.run_exports(client.app[DEPS]) == 1
    gone = await api.get(job["url"])
    assert gone["status"] == "expired" and gone["download_url"] is None
    refused = await api.get(f"/api/v1/exports/{job['id']}/file.zip", expect=409)
    assert refused["error"] == "export_not_ready" and "过期" in refused["message"]
    chunks = client.app[DEPS].blobs.get_stream(export_file_name(job["id"]))
    with pytest.raises(Exception, match="文件不存在"):
        await anext(aiter(chunks))


async def test_only_the_enterprise_members_allowed_see_the_job(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    await signed_world(api, make_api, clock, 2)
    job = await api.post("/api/v1/contracts/export.zip", expect=202)
    await finished(api, job)
    await api.post(
        "/api/v1/members", {"name": "李四", "phone": "13900139000", "permissions": ["templates"]}, expect=201
    )
    li = await make_api()
    await li.login(clock, "13900139000")
    assert (await li.get(job["url"], expect=403))["error"] == "permission_denied"
    assert (await li.post("/api/v1/contracts/export.zip", expect=403))["error"] == "permission_denied"
    other = await make_api()
    await other.register_enterprise(clock, phone="13700137000", name="别家公司", credit_code="91440101MA59ABCD0A")
    assert (await other.get(job["url"], expect=404))["error"] == "export_not_found"
    await other.get(f"/api/v1/exports/{job['id']}/file.zip", expect=404)
    assert (await api.get("/api/v1/exports/nonexistent", expect=404))["error"] == "export_not_found"
    bad = await api.post("/api/v1/contracts/export.zip?view=nonsense", expect=422)
    assert "视图" in bad["message"]


async def _queued(deps: Any, enterprise_id: str, created_by: str, **state: Any) -> str:
    job = ExportJob(
        id=new_id(), enterprise_id=enterprise_id, created_by=created_by, kind=ZIP_JOB, filters={},
        status="queued", total=2, created_at=deps.clock.now(),
    )  # fmt: skip
    for key, value in state.items():
        setattr(job, key, value)
    async with deps.uow() as uow:
        await uow.exports.add(job)
        await uow.commit()
    return job.id


async def test_a_job_a_dead_process_left_is_taken_over_or_failed(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    deps = client.app[DEPS]
    await signed_world(api, make_api, clock, 2)
    me = await api.get("/api/v1/me")
    ent, user = me["enterprise"]["id"], me["user"]["id"]
    now = clock.now()
    queued = await _queued(deps, ent, user)
    refused = await api.get(f"/api/v1/exports/{queued}/file.zip", expect=409)
    assert refused["error"] == "export_not_ready"
    # another process holds this one: nobody else starts it
    held = await _queued(deps, ent, user, status="running", attempts=1, lease_until=now + timedelta(seconds=30))
    # its process died half-way (lease run out): started again from the beginning
    dead = await _queued(deps, ent, user, status="running", attempts=1, done=1, lease_until=now)
    # died every time: fails with a message instead of looping
    cursed = await _queued(deps, ent, user, status="running", attempts=3, lease_until=now)
    assert await export_svc.run_export(deps, held) == 0
    assert await export_svc.run_exports(deps) == 2  # queued and dead; cursed is failed, not run
    for job_id in (queued, dead):
        seen = await api.get(f"/api/v1/exports/{job_id}")
        assert seen["status"] == "done" and seen["done"] == 2, seen
        names = zipfile.ZipFile(io.BytesIO(await api.get(seen["download_url"]))).namelist()
        assert len(names) == 2
    assert (await api.get(f"/api/v1/exports/{held}"))["status"] == "running"
    failed = await api.get(f"/api/v1/exports/{cursed}")
    assert failed["status"] == "failed" and "中断" in failed["error"]
    # a member who lost the permission since asking gets nothing zipped
    gone = await _queued(deps, ent, "no-such-member")
    assert await export_svc.run_export(deps, gone) == 1
    lost = await api.get(f"/api/v1/exports/{gone}")
    assert lost["status"] == "failed" and "权限" in lost["error"]
