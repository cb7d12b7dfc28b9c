"""What several hosts share through the database: the platform CA made once even when hosts
start together (and taken over from an older single-host data folder), refused under another
secret; decisions that were guarded by a per-process lock; and `laborsign storage-migrate`
copying a local store into a real S3 bucket with every hash checked."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import pytest

from laborsign.bootstrap import build_deps
from laborsign.cli import main
from laborsign.config import ConfigError, load_config
from laborsign.core.clock import FakeClock
from laborsign.core.pdf.ca import PlatformCA
from tests.conftest import Api
from tests.pdfs import make_pdf
from tests.test_onboarding import onboard
from tests.test_templates import upload


def host_env(config_env: dict[str, str], tmp_path: Path, name: str) -> dict[str, str]:
    """Another host: the same database, a data folder of its own."""
    return {**config_env, "LABORSIGN_STORAGE__DATA_DIR": str(tmp_path / name)}


async def started(env: dict[str, str]) -> Any:
    deps = build_deps(load_config(environ=env))
    await deps.start(migrate=False)
    return deps


async def test_hosts_starting_together_make_one_ca(config_env: dict[str, str], tmp_path: Path) -> None:
    hosts = await asyncio.gather(*(started(host_env(config_env, tmp_path, f"h{i}")) for i in range(3)))
    try:
        roots = {deps.pdf.root_der() for deps in hosts}
        assert len(roots) == 1, "every host signs under the same root"
        assert not any((tmp_path / f"h{i}" / "pki").exists() for i in range(3))
        crl = hosts[1].pdf.crl_der()
        from cryptography import x509

        parsed = x509.load_der_x509_crl(crl)
        issuing = x509.load_der_x509_certificate(hosts[0].pdf._ca.chain_der()[0])
        assert parsed.is_signature_valid(issuing.public_key()), "another host's CRL, the same CA"
    finally:
        for deps in hosts:
            await deps.stop()

    other_secret = {**host_env(config_env, tmp_path, "h9"), "LABORSIGN_SECURITY__SECRET_KEY": "another-secret-0123456789"}
    deps = build_deps(load_config(environ=other_secret))
    try:
        with pytest.raises(RuntimeError, match="same secret_key"):
            await deps.start(migrate=False)
    finally:
        await deps.stop()


async def test_an_older_single_host_ca_is_taken_over(config_env: dict[str, str], tmp_path: Path) -> None:
    data_dir = tmp_path / "old-host"
    secret = config_env["LABORSIGN_SECURITY__SECRET_KEY"].encode()
    old = PlatformCA.load_or_create(data_dir / "pki", secret, "http://127.0.0.1:8080/api/v1/pki/crl")
    first = await started({**config_env, "LABORSIGN_STORAGE__DATA_DIR": str(data_dir)})
    second = await started(host_env(config_env, tmp_path, "new-host"))
    try:
        assert first.pdf.root_der() == old.root_der(), "contracts signed before stay trusted"
        assert second.pdf.root_der() == old.root_der()
    finally:
        await first.stop()
        await second.stop()


async def test_approve_and_reject_at_once_decide_once(
    api: Api, make_api: Any, client: Any, clock: FakeClock
) -> None:
    await api.register_enterprise(clock)
    worker = await make_api()
    record = await onboard(api, worker, clock)
    approve, reject = await asyncio.gather(
        api.call("POST", f"/api/v1/onboarding/{record['id']}/approve", {}),
        api.call("POST", f"/api/v1/onboarding/{record['id']}/reject", {"reason": "资料不全"}),
    )
    outcomes = sorted(a.get("status", a.get("error")) for a in (approve, reject))
    assert outcomes in (["approved", "not_pending"], ["not_pending", "rejected"]), outcomes
    final = await api.get(f"/api/v1/onboarding/{record['id']}")
    employees = await api.get("/api/v1/employees")
    assert (final["status"] == "approved") == (employees["total"] == 1)


def test_s3_needs_a_configured_secret_and_every_key() -> None:
    base = {
        "LABORSIGN_STORAGE__BACKEND": "s3",
        "LABORSIGN_STORAGE__S3_ENDPOINT": "https://oss-cn-guangzhou.aliyuncs.com",
        "LABORSIGN_STORAGE__S3_BUCKET": "laborsign",
        "LABORSIGN_STORAGE__S3_REGION": "oss-cn-guangzhou",
        "LABORSIGN_STORAGE__S3_ACCESS_KEY_ID": "id",
        "LABORSIGN_STORAGE__S3_SECRET_ACCESS_KEY": "secret",
    }
    with pytest.raises(ConfigError, match=r"security\.secret_key is required"):
        load_config(environ=base)
    with pytest.raises(ConfigError, match=r"storage.*s3_bucket, s3_region"):
        load_config(
            environ={
                **base,
                "LABORSIGN_SECURITY__SECRET_KEY": "k" * 32,
                "LABORSIGN_STORAGE__S3_BUCKET": "",
                "LABORSIGN_STORAGE__S3_REGION": "",
            }
        )
    assert load_config(environ={**base, "LABORSIGN_SECURITY__SECRET_KEY": "k" * 32}).storage.backend == "s3"


async def test_storage_migrate_copies_and_checks_every_file(
    api: Api, client: Any, clock: FakeClock, config_env: dict[str, str], s3_env: dict[str, str],
    s3_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    await api.register_enterprise(clock)
    pdfs = [make_pdf(1), make_pdf(3)]
    template = await upload(api, files=pdfs)
    seal = await api.post("/api/v1/seals", {"type": "hr"}, expect=201)
    seal_png = await api.get(f"/api/v1/seals/{seal['id']}.png")
    local = Path(config_env["LABORSIGN_STORAGE__DATA_DIR"]) / "files"
    keys = sorted(p.name for p in local.glob("??/*"))
    assert len(keys) == 3
    for name, value in {**config_env, **s3_env}.items():
        monkeypatch.setenv(name, value)

    assert await asyncio.to_thread(main, ["storage-migrate"]) == 0
    assert "已复制 3 个文件" in capsys.readouterr().out
    bucket = s3_env["LABORSIGN_STORAGE__S3_BUCKET"]
    assert [k for k in s3_server.keys(bucket) if "/" in k] == sorted(f"{k[:2]}/{k}" for k in keys)

    assert await asyncio.to_thread(main, ["storage-migrate"]) == 0, "run again: nothing to do"
    assert "已复制 0 个文件，3 个已在存储桶中且校验一致" in capsys.readouterr().out

    damaged = local / keys[0][:2] / keys[0]
    damaged.write_bytes(damaged.read_bytes() + b"x")
    assert await asyncio.to_thread(main, ["storage-migrate"]) == 1
    err = capsys.readouterr().err
    assert "本地文件已损坏" in err and keys[0] in err

    # The same database on the bucket serves what was copied.
    on_s3 = await started({**config_env, **s3_env})
    try:
        seal_key = hashlib.sha256(seal_png).hexdigest()
        assert await on_s3.blobs.get(seal_key) == seal_png
        for pdf in pdfs:
            assert await on_s3.blobs.get(hashlib.sha256(pdf).hexdigest()) == pdf
        assert template["status"] == "closed"
    finally:
        await on_s3.stop()
