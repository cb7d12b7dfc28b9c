"""Two hosts: two real `laborsign serve` processes with data folders of their own, one
PostgreSQL database and one S3 bucket (SeaweedFS), their background jobs running in both.
A contract launched on one is signed on the other, downloads identically from either and
verifies; every SMS reaches the operator's bridge once; the data folders hold no files."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import BACKENDS, Api, _pg_create, _pg_drop, _pg_url
from tests.fakes.sms_bridge import FakeSmsBridge
from tests.pdfs import make_pdf
from tests.test_contracts import signature_png
from tests.test_onboarding import FORM
from tests.test_templates import CONTROLS

HR = "13800138000"
WORKER = FORM["phone"]
READY_WITHIN = 90.0  # seconds for a host to answer /healthz (migrations, CA, worker pool)
DELIVERED_WITHIN = 30.0  # seconds for an SMS to reach the bridge through either host's outbox


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Host:
    """One `laborsign serve` process."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data_dir = workdir / name
        self.log = workdir / f"{name}.log"
        self.env = {**env, "LABORSIGN_STORAGE__DATA_DIR": str(self.data_dir)}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "laborsign", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    async def wait_ready(self, http: aiohttp.ClientSession) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_WITHIN
        while loop.time() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited: {self.log.read_text()[-3000:]}")
            try:
                async with http.get(f"{self.base}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        pytest.fail(f"{self.name} not ready: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Browser:
    """A person's browser: one cookie jar, pointed at whichever host the balancer picks."""

    def __init__(self, session: aiohttp.ClientSession, host: Host) -> None:
        self.session = session
        self.host = host

    def request(self, method: str, path: str, **kw: Any) -> Any:
        return self.session.request(method, f"{self.host.base}{path}", **kw)


def person(session: aiohttp.ClientSession, host: Host) -> tuple[Api, Browser]:
    browser = Browser(session, host)
    return Api(browser), browser


@pytest.fixture
def pg_url() -> Iterator[str]:
    """An empty database: the two hosts migrate it as they start, at the same moment."""
    if "postgresql" not in BACKENDS:
        pytest.skip("several hosts share PostgreSQL")
    name = f"laborsign_hosts_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(_pg_create(name))
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    yield _pg_url(name)
    asyncio.run(_pg_drop(name))


@pytest.fixture
async def hosts(
    pg_url: str, s3_env: dict[str, str], tmp_path: Path, aiohttp_server: Any, bridge: FakeSmsBridge
) -> AsyncIterator[tuple[Host, Host]]:
    server = await aiohttp_server(bridge.app())
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LABORSIGN_")},
        **s3_env,
        "LABORSIGN_DATABASE__URL": pg_url,
        "LABORSIGN_DATABASE__POOL_SIZE": "4",
        "LABORSIGN_SECURITY__SECRET_KEY": "two-hosts-secret-0123456789abcdef",
        "LABORSIGN_SMS__PROVIDER": "http",
        "LABORSIGN_SMS__HTTP_URL": str(server.make_url("/sms")),
        "LABORSIGN_SMS__HTTP_SECRET": bridge.secret,
        "LABORSIGN_PKI__WORKERS": "1",
    }
    a, b = Host("host-a", env, tmp_path), Host("host-b", env, tmp_path)
    a.env["LABORSIGN_SERVER__PUBLIC_URL"] = b.env["LABORSIGN_SERVER__PUBLIC_URL"] = a.base
    a.start()
    b.start()  # at the same moment: one migration, one CA
    try:
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(a.wait_ready(http), b.wait_ready(http))
        yield a, b
    finally:
        a.stop()
        b.stop()


@pytest.fixture
def bridge() -> Iterator[FakeSmsBridge]:
    yield FakeSmsBridge()


async def code(bridge: FakeSmsBridge, phone: str, purpose: str) -> str:
    """The code the bridge got for `phone` and `purpose` (each is asked for once here)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DELIVERED_WITHIN
    while loop.time() < deadline:
        for message in reversed(bridge.accepted):
            if message["phone"] == phone and message.get("purpose") == purpose and message.get("code"):
                return str(message["code"])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {purpose} code for {phone}: {bridge.accepted}")


async def delivered(bridge: FakeSmsBridge, phone: str, words: str) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DELIVERED_WITHIN
    while loop.time() < deadline:
        found = [m for m in bridge.accepted if m["phone"] == phone and words in m["text"]]
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"no message with {words!r} for {phone}")


async def verify_person(api: Api, bridge: FakeSmsBridge, phone: str, name: str, id_number: str) -> None:
    body = {"method": "carrier3", "consent": True, "name": name, "id_type": "resident_id",
            "id_number": id_number, "phone": phone}  # fmt: skip
    started = await api.post("/api/v1/me/verifications", body, expect=201)
    assert started["status"] == "code_sent"
    sms = await code(bridge, phone, "verify")
    done = await api.post(f"/api/v1/me/verifications/{started['id']}/confirm", {"code": sms}, expect=200)
    assert done["status"] == "verified"


async def test_a_contract_launched_on_one_host_is_signed_on_the_other(
    hosts: tuple[Host, Host], bridge: FakeSmsBridge, s3_env: dict[str, str], s3_server: Any
) -> None:
    a, b = hosts
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as hr_session,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as worker_session,
    ):
        hr, hr_at = person(hr_session, a)
        worker, worker_at = person(worker_session, b)

        # The enterprise registers on A and is verified through B and A.
        await hr.post("/api/v1/sms/codes", {"phone": HR, "purpose": "register"}, expect=202)
        registered = await hr.post(
            "/api/v1/enterprises",
            {"name": "广州测试科技有限公司", "credit_code": "91350100M000100Y43", "org_type": "enterprise",
             "admin_name": "张管理", "admin_phone": HR, "code": await code(bridge, HR, "register"),
             "agree_terms": True},
            expect=201,
        )  # fmt: skip
        enterprise_id = registered["enterprise"]["id"]
        hr_at.host = b
        await hr.post("/api/v1/enterprise/verification/info", expect=200)
        await verify_person(hr, bridge, HR, "张管理", "11010519491231002X")
        await hr.post(
            "/api/v1/enterprise/verification",
            {"method": "corporate_payment", "bank_name": "中国工商银行广州分行",
             "bank_account": "3602000109000012345", "account_name": "广州测试科技有限公司"},
            expect=201,
        )  # fmt: skip
        amount = (await hr.get(f"/api/v1/dev/payments?enterprise_id={enterprise_id}"))["items"][0]["amount"]
        hr_at.host = a
        await hr.post("/api/v1/enterprise/verification/confirm", {"amount": amount}, expect=200)

        # A template on A, a seal on B.
        form = aiohttp.FormData(default_to_multipart=True)
        form.add_field("name", "标准劳动合同")
        form.add_field("type", "labor_contract")
        form.add_field("files", make_pdf(2), filename="合同.pdf", content_type="application/pdf")
        template = await hr.call("POST", "/api/v1/templates", data=form, expect=201)
        await hr.call("PUT", f"/api/v1/templates/{template['id']}/controls", {"controls": CONTROLS}, expect=200)
        await hr.post(f"/api/v1/templates/{template['id']}/enable", expect=200)
        hr_at.host = b
        seal = await hr.post("/api/v1/seals", {"type": "contract"}, expect=201)

        # The worker logs in and onboards on B; HR approves on A; the worker real-names on A.
        link = await hr.get("/api/v1/invite-link")
        await worker.post("/api/v1/sms/codes", {"phone": WORKER, "purpose": "login"}, expect=202)
        await worker.post(
            "/api/v1/auth/login",
            {"side": "worker", "phone": WORKER, "code": await code(bridge, WORKER, "login"), "agree_terms": True},
            expect=200,
        )
        record = await worker.post(f"/api/v1/join/{link['token']}/onboarding", FORM, expect=201)
        hr_at.host = a
        approved = await hr.post(f"/api/v1/onboarding/{record['id']}/approve", {}, expect=200)
        worker_at.host = a
        await verify_person(worker, bridge, WORKER, FORM["name"], FORM["id_number"])

        # Launched on A ...
        launched = await hr.post(
            "/api/v1/contracts",
            {"template_ids": [template["id"]], "employee_ids": [approved["employee_id"]],
             "enterprise_party": {"seal_type": "contract"}, "fields": {"salary": "6000", "position": "技工"}},
            expect=201,
        )  # fmt: skip
        (contract,) = launched["contracts"]
        cid = contract["id"]

        # ... signed on B by both parties.
        worker_at.host = b
        started = await worker.post(
            f"/api/v1/me/contracts/{cid}/signature", {"signature_png": signature_png()}, expect=201
        )
        signed = await worker.post(
            f"/api/v1/signing-sessions/{started['id']}/confirm",
            {"code": await code(bridge, WORKER, "intent")},
            expect=200,
        )
        assert signed == {"signed": [cid], "failed": []}
        hr_at.host = b
        session = await hr.post(
            "/api/v1/signing-sessions", {"contract_ids": [cid], "seal_id": seal["id"], "intent_method": "sms"},
            expect=201,
        )  # fmt: skip
        done = await hr.post(
            f"/api/v1/signing-sessions/{session['id']}/confirm", {"code": await code(bridge, HR, "intent")}, expect=200
        )
        assert done == {"signed": [cid], "failed": []}

        # Downloaded from either host: the same bytes, and they verify on both.
        from_b = await worker.get(f"/api/v1/contracts/{cid}/document.pdf")
        worker_at.host = a
        from_a = await worker.get(f"/api/v1/contracts/{cid}/document.pdf")
        assert from_a == from_b and from_a.startswith(b"%PDF")
        for host in (a, b):
            hr_at.host = host
            form = aiohttp.FormData(default_to_multipart=True)
            form.add_field("file", from_a, filename="合同.pdf", content_type="application/pdf")
            report = await hr.call("POST", "/api/v1/verify", data=form, expect=200)
            assert [s["signer"] for s in report["signatures"]] == ["王五", "广州测试科技有限公司"]
            assert all(s["intact"] and s["trusted"] for s in report["signatures"]), report
            assert report["known_to_platform"] is True
        evidence = await hr.get(f"/api/v1/contracts/{cid}/evidence.pdf")
        assert evidence.startswith(b"%PDF")
        hr_at.host = a
        assert await hr.get("/api/v1/pki/root.pem") == await worker.get("/api/v1/pki/root.pem")
        final = await hr.get(f"/api/v1/contracts/{cid}")
        assert final["status"] == "completed"

    # Both hosts' outbox deliverers ran all along: each message reached the bridge once.
    completed = await delivered(bridge, WORKER, "签署完成")
    assert len(completed) == 1
    ids = [m["id"] for m in bridge.accepted]
    assert len(ids) == len(set(ids)), "no SMS sent twice"

    # The contract lives in the bucket, and neither host kept a file of its own.
    key = hashlib.sha256(from_a).hexdigest()
    assert f"{key[:2]}/{key}" in s3_server.keys(s3_env["LABORSIGN_STORAGE__S3_BUCKET"])
    for host in (a, b):
        kept = [p for p in host.data_dir.rglob("*") if p.is_file()] if host.data_dir.exists() else []
        assert kept == [], f"{host.name} kept {kept}"
