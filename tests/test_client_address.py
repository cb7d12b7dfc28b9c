"""Who the client is: the socket peer, or the forwarded address only from a trusted proxy —
and the development endpoints answer only this machine itself, never a forwarded request."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from laborsign.api.http import DEPS, client_ip, is_loopback
from laborsign.config import load_config
from tests.conftest import Api


def request_from(peer: str, trusted: list[str], *forwarded: str) -> web.Request:
    app = web.Application()
    app[DEPS] = mock.Mock(
        config=load_config(environ={"LABORSIGN_SERVER__TRUSTED_PROXIES": ",".join(trusted)})
    )
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (peer, 50000) if name == "peername" else default
    )
    headers = [("X-Forwarded-For", value) for value in forwarded]
    return make_mocked_request("GET", "/", headers=headers, app=app, transport=transport)


@pytest.mark.parametrize(
    ("peer", "trusted", "forwarded", "expected"),
    [
        ("203.0.113.7", [], ["1.2.3.4"], "203.0.113.7"),  # nobody trusted: the peer
        ("10.0.0.2", ["10.0.0.2"], ["1.2.3.4"], "1.2.3.4"),
        # The client wrote its own X-Forwarded-For; the proxy appended the real address.
        ("10.0.0.2", ["10.0.0.2"], ["6.6.6.6, 1.2.3.4"], "1.2.3.4"),
        # Two proxies of ours (a network) in front: the nearest address that is not one of them.
        ("10.0.0.2", ["10.0.0.0/8"], ["6.6.6.6, 1.2.3.4, 10.0.0.9"], "1.2.3.4"),
        ("10.0.0.2", ["10.0.0.2"], ["6.6.6.6", "1.2.3.4"], "1.2.3.4"),  # several headers
        ("10.0.0.2", ["10.0.0.2"], ["not-an-address"], "10.0.0.2"),
        ("10.0.0.2", ["10.0.0.2"], [], "10.0.0.2"),
        ("2001:db8::1", ["2001:db8::/32"], ["2400:cb00::5"], "2400:cb00::5"),
    ],
)
def test_client_address(peer: str, trusted: list[str], forwarded: list[str], expected: str) -> None:
    assert client_ip(request_from(peer, trusted, *forwarded)) == expected


def test_loopback_means_this_machine_not_a_forwarded_request() -> None:
    assert is_loopback(request_from("127.0.0.1", []))
    assert is_loopback(request_from("::1", []))
    assert not is_loopback(request_from("127.0.0.1", ["127.0.0.1"], "8.8.8.8"))
    assert not is_loopback(request_from("10.1.1.1", []))


def test_trusted_proxies_must_be_addresses() -> None:
    from laborsign.config import ConfigError

    with pytest.raises(ConfigError, match="trusted_proxies"):
        load_config(environ={"LABORSIGN_SERVER__TRUSTED_PROXIES": "proxy.example"})


@pytest.fixture
def config_env(config_env: dict[str, str]) -> dict[str, str]:
    return {**config_env, "LABORSIGN_SERVER__TRUSTED_PROXIES": "127.0.0.1"}


async def test_dev_inbox_refuses_forwarded_requests(api: Api, client: Any) -> None:
    """A reverse proxy on this machine forwards outside requests from loopback: the inbox
    must not answer them, whichever forwarding header the proxy uses."""
    await api.post("/api/v1/sms/codes", {"phone": "13800138000", "purpose": "login"}, expect=202)
    assert (await api.get("/api/v1/dev/sms?phone=13800138000"))["items"]
    for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded"):
        value = "for=8.8.8.8" if header == "Forwarded" else "8.8.8.8"
        resp = await client.get("/api/v1/dev/sms?phone=13800138000", headers={header: value})
        assert resp.status == 404, header
