"""Files in an S3-compatible bucket (a real SeaweedFS server, every request signed): what the
platform keeps goes to the bucket and nowhere on disk, reads are checked against their key,
files of transactions that never committed are swept after an hour and only those, and a
bucket that refuses the credentials stops start-up with the reason."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from laborsign.api.http import DEPS
from laborsign.bootstrap import build_deps
from laborsign.config import load_config
from laborsign.core.clock import FakeClock
from laborsign.core.errors import NotFound
from laborsign.storage.blobs import S3Settings, s3_location
from tests.conftest import Api
from tests.pdfs import make_pdf
from tests.test_templates import upload


@pytest.fixture
def config_env(config_env: dict[str, str], s3_env: dict[str, str]) -> dict[str, str]:
    return {**config_env, **s3_env}


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


async def test_every_file_goes_to_the_bucket_and_none_to_disk(
    api: Api, client: Any, clock: FakeClock, s3_server: Any, config_env: dict[str, str]
) -> None:
    await api.register_enterprise(clock)
    pdf = make_pdf(2)
    template = await upload(api, files=[pdf])
    assert api.last_status == 201
    seal = await api.post("/api/v1/seals", {"type": "contract"}, expect=201)
    seal_png = await api.get(f"/api/v1/seals/{seal['id']}.png")
    assert seal_png.startswith(b"\x89PNG")
    assert await api.get(f"/api/v1/templates/{template['id']}/files/0.pdf") == pdf

    key = hashlib.sha256(pdf).hexdigest()
    stored = s3_server.keys(config_env["LABORSIGN_STORAGE__S3_BUCKET"])
    assert f"{key[:2]}/{key}" in stored
    seal_key = hashlib.sha256(seal_png).hexdigest()
    assert f"{seal_key[:2]}/{seal_key}" in stored
    data_dir = Path(config_env["LABORSIGN_STORAGE__DATA_DIR"])
    # Only SQLite's own files (when the test runs on SQLite): no files, no CA, no secret.
    assert all(name.startswith("laborsign.db") for name in files_under(data_dir))
    root = await api.get("/api/v1/pki/root.pem")
    assert root.startswith(b"-----BEGIN CERTIFICATE-----")


async def test_orphans_of_failed_transactions_are_swept_after_an_hour(
    api: Api, client: Any, clock: FakeClock, s3_server: Any, config_env: dict[str, str]
) -> None:
    deps = client.app[DEPS]
    await api.register_enterprise(clock)
    pdf = make_pdf(1)
    template = await upload(api, files=[pdf])
    # What a request leaves when its transaction fails after the file was written: the file,
    # and nothing in the database pointing at it.
    orphan = await deps.blobs.put(b"%PDF-1.7 written, then the transaction failed")
    assert await deps.sweep_orphans() == 0, "too young: its transaction may still be open"
    assert await deps.blobs.exists(orphan)

    clock.advance(minutes=61)
    again = await deps.blobs.put(b"%PDF-1.7 the same bytes are uploaded once more")
    clock.advance(minutes=61)
    late = await deps.blobs.put(b"%PDF-1.7 written just now")
    assert await deps.blobs.put(b"%PDF-1.7 the same bytes are uploaded once more") == again

    assert await deps.sweep_orphans() == 1
    with pytest.raises(NotFound):
        await deps.blobs.get(orphan)
    assert await deps.blobs.exists(again), "uploaded again within the hour: kept"
    assert await deps.blobs.exists(late)
    assert await api.get(f"/api/v1/templates/{template['id']}/files/0.pdf") == pdf, "committed: kept"
    assert await deps.sweep_orphans() == 0

    clock.advance(hours=2)
    assert await deps.sweep_orphans() == 2  # nothing ever pointed at those two
    assert await api.get(f"/api/v1/templates/{template['id']}/files/0.pdf") == pdf


async def test_a_damaged_object_is_refused_not_served(
    api: Api, client: Any, clock: FakeClock, s3_server: Any, config_env: dict[str, str]
) -> None:
    await api.register_enterprise(clock)
    pdf = make_pdf(1)
    template = await upload(api, files=[pdf])
    key = hashlib.sha256(pdf).hexdigest()
    s3_server.put(config_env["LABORSIGN_STORAGE__S3_BUCKET"], f"{key[:2]}/{key}", pdf + b"tampered")
    refused = await api.get(f"/api/v1/templates/{template['id']}/files/0.pdf", expect=503)
    assert refused["error"] == "blob_corrupt"


async def test_start_up_names_a_bucket_that_refuses(
    config_env: dict[str, str], s3_server: Any
) -> None:
    env = {**config_env, "LABORSIGN_STORAGE__S3_SECRET_ACCESS_KEY": "not-the-secret"}
    deps = build_deps(load_config(environ=env))
    try:
        with pytest.raises(RuntimeError, match="cannot write to the bucket"):
            await deps.start(migrate=False)
    finally:
        await deps.stop()


@pytest.mark.parametrize(
    ("endpoint", "bucket", "addressing", "expected"),
    [
        # Aliyun OSS accepts virtual-hosted requests only.
        ("https://oss-cn-guangzhou.aliyuncs.com", "ls", "auto", ("https://ls.oss-cn-guangzhou.aliyuncs.com", True)),
        ("https://s3.oss-cn-guangzhou.aliyuncs.com/", "ls", "auto", ("https://ls.s3.oss-cn-guangzhou.aliyuncs.com", True)),
        # Tencent COS: buckets made since 2024 refuse path style; the bucket name has the APPID.
        ("https://cos.ap-guangzhou.myqcloud.com", "ls-1250000000", "auto",
         ("https://ls-1250000000.cos.ap-guangzhou.myqcloud.com", True)),
        ("https://ls-1250000000.cos.ap-guangzhou.myqcloud.com", "ls-1250000000", "auto",
         ("https://ls-1250000000.cos.ap-guangzhou.myqcloud.com", True)),
        # MinIO, SeaweedFS: path style unless told otherwise.
        ("http://10.0.0.5:9000", "laborsign", "auto", ("http://10.0.0.5:9000", False)),
        ("https://minio.example.cn", "laborsign", "virtual", ("https://laborsign.minio.example.cn", True)),
        ("https://oss-cn-guangzhou.aliyuncs.com", "ls", "path", ("https://oss-cn-guangzhou.aliyuncs.com", False)),
    ],
)  # fmt: skip
def test_addressing_style_per_service(endpoint: str, bucket: str, addressing: Any, expected: Any) -> None:
    settings = S3Settings(endpoint, bucket, "r", "id", "secret", addressing)
    assert s3_location(settings) == expected


async def test_requests_carry_no_checksum_extensions(aiohttp_server: Any) -> None:
    """What OSS and COS get: a plain signed PUT with a Content-Length and a signed payload
    hash; no flexible-checksum headers and no aws-chunked body, which they refuse."""
    from aiohttp import web

    from laborsign.storage.blobs import S3Blobs

    seen: list[tuple[str, str, dict[str, str], bytes]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append((request.method, request.path, dict(request.headers), await request.read()))
        return web.Response(status=200, headers={"ETag": '"0"'})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    server = await aiohttp_server(app)
    blobs = S3Blobs(S3Settings(str(server.make_url("")), "laborsign", "oss-cn-guangzhou", "id", "secret", "path"))
    data = make_pdf(1)
    key = hashlib.sha256(data).hexdigest()
    await blobs.write(key, data)
    ((method, path, headers, body),) = seen
    lowered = {k.lower(): v for k, v in headers.items()}
    assert (method, path, body) == ("PUT", f"/laborsign/{key[:2]}/{key}", data)
    assert lowered["content-length"] == str(len(data))
    assert lowered["x-amz-content-sha256"] == key, "signed payload, not STREAMING-* or UNSIGNED"
    assert "aws-chunked" not in lowered.get("content-encoding", "")
    assert not [h for h in lowered if h.startswith(("x-amz-checksum", "x-amz-sdk-checksum", "x-amz-trailer"))]
    assert lowered["authorization"].startswith("AWS4-HMAC-SHA256 Credential=id/")
    assert "/oss-cn-guangzhou/s3/aws4_request" in lowered["authorization"]
