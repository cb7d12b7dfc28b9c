"""Malformed input on every door answers a 4xx with a Chinese message, never a 500: deep
JSON, control characters, bytes that are not UTF-8 (sent raw, as an attacker's socket
would), bodies larger than allowed however they are framed, compression that does not
decode, multipart that lies, huge numbers in the query. Pages and /metrics record the
status the client received."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest

from laborsign.api.system import OPENAPI_DOCS
from laborsign.core.clock import FakeClock
from tests.conftest import Api

CHINESE = re.compile(r"[\u4e00-\u9fff]")
DEEP = b"[" * 100_000 + b"]" * 100_000


async def raw(client: Any, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Sends bytes exactly as given (no client library to clean them up)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(head + body)
    await writer.drain()
    data = await reader.read()
    writer.close()
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split(b" ")[1]), rest.partition(b"\r\n\r\n")[2]


def request_head(method: str, path: str, *headers: bytes, length: int | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: localhost", b"Connection: close", *headers]
    if length is not None:
        lines.append(f"Content-Length: {length}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n"


def refused(status: int, data: Any, expected: int | tuple[int, ...] | None = None) -> None:
    assert 400 <= status < 500, (status, data)
    if expected is not None:
        assert status in (expected if isinstance(expected, tuple) else (expected,)), (status, data)
    assert isinstance(data, dict) and CHINESE.search(data.get("message", "")), data


def fill(path: str) -> str:
    return re.sub(r"\{(\w+)(:[^}]*)?\}", "1", path)


async def test_deep_json_everywhere_is_400(api: Api, client: Any, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    docs = [d for d in client.app[OPENAPI_DOCS] if d.body is not None]
    assert len(docs) > 30
    for doc in docs:
        resp = await client.request(
            doc.method, fill(doc.path), data=DEEP,
            headers={"Content-Type": "application/json", "X-CSRF-Token": api.csrf},
        )  # fmt: skip
        data = await resp.json()
        assert resp.status < 500, (doc.method, doc.path, resp.status, data)
    client.session.cookie_jar.clear()  # the public routes, as a stranger
    for path in ("/api/v1/auth/login", "/api/v1/enterprises", "/api/v1/sms/codes"):
        resp = await client.post(path, data=DEEP, headers={"Content-Type": "application/json"})
        data = await resp.json()
        refused(resp.status, data, 400)
        assert data["error"] == "json_too_deep"


async def test_text_that_cannot_be_stored_is_400(api: Api, client: Any) -> None:
    for text in ("a\u0000b", "\ud800", "x\x07"):
        data = await api.post("/api/v1/auth/login", {"side": "worker", "phone": text, "code": "1"})
        refused(api.last_status, data, 400)
        assert data["error"] == "control_characters"
    # A key is text too; a lone surrogate written as a JSON escape is still one.
    resp = await client.post(
        "/api/v1/sms/codes", data=b'{"phone\\u0000": 1, "purpose": "\\udc00"}',
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    refused(resp.status, await resp.json(), 400)
    for path in ("/api/v1/join/%00", "/api/v1/dev/sms?phone=%00", "/api/v1/contracts?q=a%00b"):
        resp = await client.get(path)
        refused(resp.status, await resp.json(), 400)


async def test_json_bodies_are_limited_while_they_arrive(client: Any) -> None:
    async def chunks() -> Any:
        piece = b" " * (256 * 1024)
        yield b'{"phone": "13800138000", "purpose": "login", "pad": "'
        for _ in range(40):  # 10 MB, no Content-Length (chunked)
            yield piece
        yield b'"}'

    resp = await client.post("/api/v1/sms/codes", data=chunks(), headers={"Content-Type": "application/json"})
    refused(resp.status, await resp.json(), 413)
    declared = await client.post(
        "/api/v1/sms/codes",
        data=b"{}" + b" " * (2 * 1024 * 1024),
        headers={"Content-Type": "application/json"},
    )
    refused(declared.status, await declared.json(), 413)


async def test_content_encoding_that_does_not_decode_is_400(client: Any) -> None:
    import gzip

    for path in ("/api/v1/sms/codes", "/api/v1/auth/login", "/webhooks/identity/sandbox"):
        resp = await client.post(
            path, data=b"this is not gzip at all" * 10,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip", "Connection": "close"},
        )  # fmt: skip
        refused(resp.status, await resp.json(), 400)
    # Real gzip decodes, and its decoded size is what the limit counts.
    bomb = gzip.compress(b'{"phone": "' + b"1" * (4 * 1024 * 1024) + b'"}')
    resp = await client.post(
        "/api/v1/sms/codes",
        data=bomb,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    refused(resp.status, await resp.json(), 413)


async def test_cookie_and_headers_that_are_not_utf8(api: Api, client: Any, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    bad_cookie = b"Cookie: laborsign_session=\xff\xfe\xc3\x28abc"
    status, body = await raw(client, request_head("GET", "/api/v1/me", bad_cookie))
    assert status == 401, body
    # The person can still log in with that cookie in the jar (it is replaced).
    code = await api.sms_code("13800138000", "login")
    login = (
        b'{"side": "employer", "phone": "13800138000", "code": "' + code.encode() + b'", "agree_terms": true}'
    )
    head = request_head(
        "POST", "/api/v1/auth/login", bad_cookie, b"User-Agent: Mozilla\xff\xfe/5.0",
        b"X-Request-Id: \xff\xff", b"Content-Type: application/json", length=len(login),
    )  # fmt: skip
    status, body = await raw(client, head, login)
    assert status == 200, body
    status, body = await raw(client, request_head("GET", "/login", bad_cookie))
    assert status == 200
    events = await api.get("/api/v1/me")
    assert events["user"]["phone_masked"] == "138****8000"


async def test_huge_numbers_in_the_query_are_422(api: Api, client: Any, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    lists = sorted(
        {d.path for d in client.app[OPENAPI_DOCS] if d.method == "GET" and "{" not in d.path}
        - {"/api/v1/dev/sms", "/api/v1/dev/payments"}
    )
    for path in lists:
        for query in ("page=9223372036854775807", "per_page=99999999999999999999", "page=-0x10"):
            resp = await client.get(f"{path}?{query}")
            assert resp.status < 500, (path, query, resp.status, await resp.text())
    resp = await client.get("/api/v1/contracts?page=9223372036854775807")
    refused(resp.status, await resp.json(), 422)
    resp = await client.get("/api/v1/templates/x/files/99999999999999999999/pages/1.png")
    assert resp.status in (404, 422)


def multipart(parts: list[bytes], boundary: bytes = b"XyZ") -> tuple[bytes, str]:
    body = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts) + b"--" + boundary + b"--\r\n"
    return body, f"multipart/form-data; boundary={boundary.decode()}"


UPLOADS = [
    ("POST", "/api/v1/templates"),
    ("POST", "/api/v1/contracts/upload"),
    ("POST", "/api/v1/contracts/upload/inspect"),
    ("POST", "/api/v1/seals"),
    ("POST", "/api/v1/invitations/batch"),
    ("POST", "/api/v1/enterprise/verification"),
    ("POST", "/api/v1/verify"),
]


async def test_every_upload_route_refuses_hostile_multipart(api: Api, client: Any, clock: FakeClock) -> None:
    await api.register_enterprise(clock)
    documented = {(d.method, d.path) for d in client.app[OPENAPI_DOCS] if d.multipart}
    assert documented <= set(UPLOADS), f"new upload routes to cover here: {documented - set(UPLOADS)}"
    hostile = [
        b'Content-Disposition: form-data; name="fi\x00le"; filename="a.pdf"\r\n\r\n%PDF-1.4',
        b'Content-Disposition: form-data; name="file"; filename="a\x01.pdf"\r\nX-Bad: \x7f\x00\r\n\r\n%PDF',
        b'Content-Disposition: form-data; name="name"\r\n\r\n\x00\x01\x02',
        b"Content-Type: multipart/mixed; boundary=inner\r\n\r\n--inner\r\n\r\nx\r\n--inner--",
    ]
    for method, path in UPLOADS:
        for part in hostile:
            body, ctype = multipart([part])
            resp = await client.request(
                method, path, data=body, headers={"Content-Type": ctype, "X-CSRF-Token": api.csrf}
            )
            refused(resp.status, await resp.json())
        unterminated = b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc'
        resp = await client.request(
            method, path, data=unterminated,
            headers={"Content-Type": "multipart/form-data; boundary=XyZ", "X-CSRF-Token": api.csrf},
        )  # fmt: skip
        refused(resp.status, await resp.json())


async def test_multipart_limits_hold_before_reading(client: Any) -> None:
    # 5,000 fields of 60 KB (the attack of the issue): refused after the parts cap, long before
    # the 300 MB are read.
    field = b'Content-Disposition: form-data; name="f"\r\n\r\n' + b"x" * 60_000

    async def many_fields() -> Any:
        for _ in range(5000):
            yield b"--XyZ\r\n" + field + b"\r\n"
        yield b"--XyZ--\r\n"

    started = time.monotonic()
    resp = await client.post(
        "/api/v1/verify", data=many_fields(), headers={"Content-Type": "multipart/form-data; boundary=XyZ"}
    )
    data = await resp.json()
    refused(resp.status, data, 413)
    assert data["error"] == "too_many_parts"
    # A declared length above the route's total is refused before a byte of it is read.
    head = request_head(
        "POST", "/api/v1/verify", b"Content-Type: multipart/form-data; boundary=XyZ", length=60 * 1024 * 1024
    )
    status, body = await raw(client, head)
    assert status == 413, body
    assert time.monotonic() - started < 60  # not a timed assertion of speed: it did not read 300 MB


async def test_pages_answer_their_own_errors_in_chinese_and_metrics_count_them(client: Any) -> None:
    missing = await client.get("/no/such/page")
    assert missing.status == 404 and "页面不存在" in await missing.text()
    wrong = await client.post("/login")
    assert wrong.status == 405 and "GET" in wrong.headers.get("Allow", "")
    moved = await client.get("/", allow_redirects=False)
    assert moved.status == 302
    api_missing = await client.get("/api/v1/no-such-thing")
    assert api_missing.status == 404 and (await api_missing.json())["error"] == "not_found"
    metrics = await (await client.get("/metrics")).text()
    counted = {
        (m.group(1), m.group(2), m.group(3))
        for m in re.finditer(r'requests_total\{method="(\w+)",route="([^"]*)",status="(\d+)"\}', metrics)
    }
    assert ("GET", "unmatched", "404") in counted
    assert ("POST", "unmatched", "405") in counted  # aiohttp names no route for a wrong method
    assert ("GET", "/", "302") in counted
    assert not any(status == "500" for *_, status in counted), counted


@pytest.mark.parametrize("path", ["/webhooks/identity/sandbox", "/webhooks/identity/tencent"])
async def test_identity_callbacks_refuse_junk(client: Any, path: str) -> None:
    for body in (DEEP[:60_000], b"\xff\xfe", b"{}" + b" " * 70_000):
        resp = await client.post(path, data=body, headers={"Content-Type": "application/json"})
        refused(resp.status, await resp.json())


async def test_a_hostile_pdf_makes_one_log_line(
    api: Api, client: Any, clock: FakeClock, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """pypdf writes a warning per broken object (3,000 here) from the worker processes: they
    are counted there and reported as one line by the service."""
    import logging

    from tests.pdfs import hostile_pdf

    await api.register_enterprise(clock)
    capfd.readouterr()
    caplog.set_level(logging.INFO)
    for path in ("/api/v1/verify", "/api/v1/contracts/upload/inspect"):
        caplog.clear()
        body, ctype = multipart(
            [b'Content-Disposition: form-data; name="file"; filename="x.pdf"\r\n'
             b"Content-Type: application/pdf\r\n\r\n" + hostile_pdf()]
        )  # fmt: skip
        resp = await client.post(path, data=body, headers={"Content-Type": ctype, "X-CSRF-Token": api.csrf})
        assert 400 <= resp.status < 500, (path, resp.status, await resp.text())
        about_the_file = [r for r in caplog.records if r.name.startswith("laborsign.pdf")]
        others = [r for r in caplog.records if not r.name.startswith(("laborsign.pdf", "laborsign.http"))]
        assert len(about_the_file) <= 1 and not others, [r.getMessage() for r in caplog.records]
    assert len(about_the_file) == 1 and about_the_file[0].complaints >= 3000  # type: ignore[attr-defined]
    err = capfd.readouterr().err
    assert err.count("\n") < 5, err[:2000]
