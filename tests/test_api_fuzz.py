"""Property-based: schemathesis drives every operation of /api/v1/openapi.json against a real
`laborsign serve` with generated inputs — valid ones and, in its negative and coverage modes,
hostile ones (wrong types, missing and extra fields, boundary and huge values, odd
strings) — as a logged-in enterprise admin. No answer may be a 5xx, and every answer must be
one the document describes (status, content type and schema).

Bounded for CI: a few examples per operation and mode (FUZZ_EXAMPLES, derandomized so a
run is repeatable), one server for the module. (schemathesis's own pytest loader does not
run under pytest 9 yet: it sets Function._nodeid; its strategies are used directly.)"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import BACKENDS, _pg_create, _pg_drop, _pg_url
from tests.openapi_check import DOCUMENT
from tests.processes import free_port

CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
PHONE = "13800138000"
# Ending the session would leave the rest of the run logged out.
SKIP = {("POST", "/api/v1/auth/logout")}

CONFIG = f"""
[generation]
max-examples = {EXAMPLES}
mode = "all"
"""


@dataclass
class Target:
    base: str
    headers: dict[str, str]
    document: dict[str, Any]
    log: Path
    statuses: Counter[int] = field(default_factory=Counter)


def _wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise AssertionError(log.read_text(errors="replace")[-3000:])
        try:
            if requests.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError("laborsign serve never became healthy")


def _admin(base: str) -> dict[str, str]:
    http = requests.Session()
    http.post(f"{base}/api/v1/sms/codes", json={"phone": PHONE, "purpose": "register"}, timeout=10)
    code = http.get(f"{base}/api/v1/dev/sms", params={"phone": PHONE}, timeout=10).json()["items"][0]["code"]
    created = http.post(
        f"{base}/api/v1/enterprises",
        json={"name": "广州测试科技有限公司", "credit_code": "91350100M000100Y43", "org_type": "enterprise",
              "admin_name": "张管理", "admin_phone": PHONE, "code": code, "agree_terms": True},
        timeout=10,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    return {
        "Cookie": f"laborsign_session={http.cookies['laborsign_session']}",
        "X-CSRF-Token": created.json()["csrf"],
    }


@pytest.fixture(scope="module", params=BACKENDS)
def database(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """SQLite: the embedded file in the data folder. PostgreSQL: a database of its own."""
    if request.param == "sqlite":
        yield {}
        return
    name = f"laborsign_fuzz_{os.getpid()}"
    try:
        asyncio.run(_pg_create(name))
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    yield {"LABORSIGN_DATABASE__URL": _pg_url(name)}
    asyncio.run(_pg_drop(name))


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, database: dict[str, str]) -> Iterator[Target]:
    root = tmp_path_factory.mktemp("fuzz")
    log = root / "serve.log"
    port = free_port()
    env = {
        **os.environ,
        "LABORSIGN_STORAGE__DATA_DIR": str(root / "data"),
        "LABORSIGN_SERVER__PORT": str(port),
        "LABORSIGN_SECURITY__SECRET_KEY": "fuzz-secret-key-0123456789abcdef",
        "LABORSIGN_JOBS__BACKGROUND": "false",
        "LABORSIGN_PKI__WORKERS": "1",
        # One address asks for everything here; the budgets are tested elsewhere.
        "LABORSIGN_SECURITY__SMS_CODES_PER_IP_BEFORE_CAPTCHA": "100000",
        "LABORSIGN_SECURITY__SMS_CODES_PER_IP_HOUR": "1000000",
        "LABORSIGN_SECURITY__SMS_CODES_GLOBAL_HOUR": "10000000",
        "LABORSIGN_SECURITY__SMS_CODES_PER_USER_HOUR": "100000",
        **database,
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "laborsign", "serve"], env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process, log)
        document = requests.get(base + "/api/v1/openapi.json", timeout=10).json()
        yield Target(base, _admin(base), document, log)
    finally:
        process.kill()
        process.wait(timeout=30)


SCHEMA = schemathesis.openapi.from_dict(DOCUMENT, config=SchemathesisConfig.from_str(CONFIG))
OPERATIONS = sorted(
    (method.upper(), path) for path, ops in DOCUMENT["paths"].items() for method in ops
    if (method.upper(), path) not in SKIP
)  # fmt: skip


def test_the_server_publishes_the_document_fuzzed(target: Target) -> None:
    assert target.document == DOCUMENT


def _check(case: Any, target: Target, phase: str) -> None:
    headers = {**(case.headers or {}), **target.headers}
    response = case.call(base_url=target.base, headers=headers, timeout=60)
    target.statuses[response.status_code] += 1
    assert response.status_code < 500, (
        f"{phase}: {case.method} {case.formatted_path} → {response.status_code} {response.text[:300]}\n"
        f"{case.as_curl_command()}\n{target.log.read_text(errors='replace')[-2000:]}"
    )
    # Every answer, error or not, is one the document describes, in the shape it describes.
    case.validate_response(response, checks=CONFORMANCE, headers=headers)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_input_makes_a_server_error(method: str, path: str, target: Target) -> None:
    operation = SCHEMA[path][method]
    # Coverage: schemathesis's deterministic boundary and hostile values for every parameter
    # and body field (missing, wrong type, out of range, 2^63 for an int64, unknown fields).
    coverage = CoverageGenerator(
        operation=operation, generation_modes=list(GenerationMode),
        generation_config=SCHEMA.config.generation_for(operation=operation, phase="coverage"),
        auth_storage=None, override=Override(), feedback=FeedbackSources(),
    )  # fmt: skip
    for case in coverage:
        _check(case, target, "coverage")
    # Fuzzing: generated values, valid and invalid.
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        try:
            _fuzz(operation, mode, target)()
        except Unsatisfiable:
            # Negative mode with nothing to make invalid (no parameters, or only free text).
            assert mode is GenerationMode.NEGATIVE, f"{method} {path}: no valid input could be generated"


def _fuzz(operation: Any, mode: GenerationMode, target: Target) -> Any:
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case: Any) -> None:
        _check(case, target, f"fuzzing ({mode.value})")

    return fuzz


def test_the_run_reached_the_handlers(target: Target) -> None:
    """Runs last: the calls were made logged in and mostly got past authentication."""
    total = sum(target.statuses.values())
    print(f"fuzzed {total} requests: {dict(sorted(target.statuses.items()))}")
    assert total > 2000
    assert target.statuses[401] < total * 0.2, target.statuses
    # Some valid inputs got all the way through (most routes need state a generator cannot
    # invent — an existing contract, a pending review — and rightly answer 404 or 409).
    assert sum(n for status, n in target.statuses.items() if status < 300) > total * 0.05, target.statuses
