"""What stays on disk: an SMS code is readable only while it is useful (the development
inbox of the outbox provider shows it until it expires), and everything the service writes
under data_dir is its own user's only (files 0600, folders 0700)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from laborsign.api.http import DEPS
from laborsign.bootstrap import create_app
from laborsign.config import load_config
from laborsign.core.clock import FakeClock
from laborsign.core.services.accounts import redact_old_codes
from tests.chat_helpers import deliver
from tests.conftest import Api


async def test_the_dev_inbox_shows_a_code_until_it_expires(api: Api, client: Any, clock: FakeClock) -> None:
    code = await api.sms_code("13800138000", "login")
    await deliver(client)  # the outbox provider "delivers" by keeping the message
    assert (await api.get("/api/v1/dev/sms?phone=13800138000"))["items"][0]["code"] == code
    assert await redact_old_codes(client.app[DEPS]) == 0
    clock.advance(minutes=5, seconds=1)
    assert await redact_old_codes(client.app[DEPS]) == 1
    (item,) = (await api.get("/api/v1/dev/sms?phone=13800138000"))["items"]
    assert item["code"] is None and code not in item["text"] and "******" in item["text"]
    assert await redact_old_codes(client.app[DEPS]) == 0


def modes(root: Path) -> dict[str, str]:
    out = {}
    for path in [root, *root.rglob("*")]:
        out[str(path.relative_to(root)) + ("/" if path.is_dir() else "")] = oct(stat.S_IMODE(path.stat().st_mode))
    return out


async def test_everything_under_data_dir_is_private(
    aiohttp_client: Any, tmp_path: Path, clock: FakeClock
) -> None:
    """A fresh data folder with the embedded SQLite database, under the usual umask 022."""
    previous = os.umask(0o022)
    try:
        data = tmp_path / "data"
        config = load_config(
            environ={"LABORSIGN_STORAGE__DATA_DIR": str(data), "LABORSIGN_JOBS__BACKGROUND": "false"}
        )
        client = await aiohttp_client(create_app(config, clock=clock))
        api = Api(client)
        await api.register_enterprise(clock)
        await api.post("/api/v1/seals", {"type": "contract"}, expect=201)  # a blob in files/
        await client.get("/api/v1/pki/root.pem")  # the CA's keys live in the database
    finally:
        os.umask(previous)
    found = modes(data)
    for name in ("laborsign.db", "laborsign.db-wal", "laborsign.db-shm", "secret.key", "files/"):
        assert name in found, (name, sorted(found))
    assert "pki/" not in found
    loose = {
        name: mode for name, mode in found.items() if mode != ("0o700" if name.endswith("/") else "0o600")
    }
    assert not loose, loose


async def test_an_old_world_readable_data_dir_is_closed(tmp_path: Path) -> None:
    from laborsign.bootstrap import private_data_dir

    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    private_data_dir(data)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
