"""Signed callbacks cannot be replayed or forged on any channel: with an AES key, plaintext
is refused; a seen timestamp/nonce/signature is accepted again only with the identical body
(a platform's retry), in every process; good signatures over bodies that do not decrypt are
400, never 500."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from typing import Any

import pytest
import xmltodict

from laborsign.api.http import DEPS
from laborsign.bootstrap import create_app
from laborsign.config import load_config
from laborsign.core.clock import FakeClock
from tests.chat_helpers import Platforms, WechatUser, channel_env, dingtalk_bot_message, dingtalk_sign
from tests.conftest import Api
from tests.fakes.chat_platforms import wechat_signature


@pytest.fixture
def config_env(config_env: dict[str, str], platforms: Platforms) -> dict[str, str]:
    return {**config_env, **channel_env(platforms)}


def url_params(token: str, ts: str, nonce: str) -> dict[str, str]:
    return {"signature": wechat_signature(token, ts, nonce), "timestamp": ts, "nonce": nonce}


def msg_signature(token: str, ts: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, ts, nonce, encrypt])).encode()).hexdigest()


async def second_process(aiohttp_client: Any, config_env: dict[str, str], clock: FakeClock) -> Any:
    return await aiohttp_client(create_app(load_config(environ=config_env), clock=clock, migrate=False))


async def test_wechat_plaintext_is_refused_with_a_key_and_replays_with_another_body(
    client: Any, aiohttp_client: Any, config_env: dict[str, str], platforms: Platforms, clock: FakeClock
) -> None:
    fake = platforms.wechat
    user = WechatUser(client, fake, clock)
    ts, nonce = str(int(clock.now().timestamp())), "n" + secrets.token_hex(4)
    plain = await client.post(
        "/webhooks/wechat", params=url_params(fake.token, ts, nonce), data=user.text_xml("帮助").encode()
    )
    assert plain.status == 403 and (await plain.json())["error"] == "plaintext_refused"

    # Safe mode: WeChat's retry of one request (same query, same body) is answered again…
    encrypted = user.crypto.encrypt_message(user.text_xml("帮助"), nonce, ts)
    params = {
        **url_params(fake.token, ts, nonce), "encrypt_type": "aes",
        "msg_signature": xmltodict.parse(encrypted)["xml"]["MsgSignature"],
    }  # fmt: skip
    first = await client.post("/webhooks/wechat", params=params, data=encrypted.encode())
    assert first.status == 200
    other = await second_process(aiohttp_client, config_env, clock)
    retry = await other.post("/webhooks/wechat", params=params, data=encrypted.encode())
    assert retry.status == 200, "a platform retry reaching another process"
    # …but the same signatures over a re-encrypted body (another process) are refused.
    tampered = encrypted.replace("</xml>", "<Padding>x</Padding></xml>")
    refused = await other.post("/webhooks/wechat", params=params, data=tampered.encode())
    assert refused.status == 403 and (await refused.json())["error"] == "replayed"


async def test_wechat_good_signatures_over_undecryptable_bodies_are_400(
    client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    fake = platforms.wechat
    ts = str(int(clock.now().timestamp()))
    for encrypt in ("", "AAAA", "!!!not-base64", base64.b64encode(os.urandom(32)).decode(),
                    base64.b64encode(os.urandom(5)).decode()):  # fmt: skip
        nonce = secrets.token_hex(4)
        body = f"<xml><ToUserName>gh</ToUserName><Encrypt>{encrypt}</Encrypt></xml>".encode()
        params = {
            **url_params(fake.token, ts, nonce), "encrypt_type": "aes",
            "msg_signature": msg_signature(fake.token, ts, nonce, encrypt),
        }  # fmt: skip
        resp = await client.post("/webhooks/wechat", params=params, data=body)
        data = await resp.json()
        assert resp.status == 400 and data["error"] == "undecryptable", (encrypt, resp.status, data)


async def test_wechat_message_for_another_app_id_is_400(
    client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    """Signed with our token and our key, but the plaintext names another official account
    (what random ciphertext also decrypts to now and then): not a message for us."""
    from wechatpy.crypto import WeChatCrypto

    fake = platforms.wechat
    user = WechatUser(client, fake, clock)
    ts, nonce = str(int(clock.now().timestamp())), secrets.token_hex(4)
    encrypted = WeChatCrypto(fake.token, fake.aes_key, "wx-another-app").encrypt_message(
        user.text_xml("帮助"), nonce, ts
    )
    params = {
        **url_params(fake.token, ts, nonce), "encrypt_type": "aes",
        "msg_signature": xmltodict.parse(encrypted)["xml"]["MsgSignature"],
    }  # fmt: skip
    resp = await client.post("/webhooks/wechat", params=params, data=encrypted.encode())
    assert resp.status == 400 and (await resp.json())["error"] == "undecryptable"


async def test_wecom_plaintext_refused_and_undecryptable_is_400(
    client: Any, platforms: Platforms, clock: FakeClock
) -> None:
    fake = platforms.wecom
    ts = str(int(clock.now().timestamp()))
    nonce = secrets.token_hex(4)
    plain = b"<xml><ToUserName>c</ToUserName><FromUserName>u</FromUserName><MsgType>text</MsgType></xml>"
    params = {"msg_signature": msg_signature(fake.token, ts, nonce, ""), "timestamp": ts, "nonce": nonce}
    resp = await client.post("/webhooks/wecom", params=params, data=plain)
    assert resp.status == 403 and (await resp.json())["error"] == "plaintext_refused"
    for encrypt in ("AAAA", base64.b64encode(os.urandom(32)).decode(), "%%%"):
        nonce = secrets.token_hex(4)
        params = {"msg_signature": msg_signature(fake.token, ts, nonce, encrypt), "timestamp": ts, "nonce": nonce}
        body = f"<xml><ToUserName>c</ToUserName><Encrypt>{encrypt}</Encrypt></xml>".encode()
        resp = await client.post("/webhooks/wecom", params=params, data=body)
        assert resp.status == 400 and (await resp.json())["error"] == "undecryptable", encrypt


async def test_wecom_replay_with_another_body_is_refused(client: Any, platforms: Platforms, clock: FakeClock) -> None:
    from wechatpy.enterprise.crypto import WeChatCrypto

    fake = platforms.wecom
    crypto = WeChatCrypto(fake.token, fake.aes_key, fake.corp_id)
    ts, nonce = str(int(clock.now().timestamp())), secrets.token_hex(4)
    xml = (
        f"<xml><ToUserName>{fake.corp_id}</ToUserName><FromUserName>hr1</FromUserName><CreateTime>{ts}</CreateTime>"
        f"<MsgType>text</MsgType><Content>帮助</Content><MsgId>1</MsgId><AgentID>{fake.agent_id}</AgentID></xml>"
    )
    encrypted = crypto.encrypt_message(xml, nonce, ts)
    params = {"msg_signature": xmltodict.parse(encrypted)["xml"]["MsgSignature"], "timestamp": ts, "nonce": nonce}
    assert (await client.post("/webhooks/wecom", params=params, data=encrypted.encode())).status == 200
    assert (await client.post("/webhooks/wecom", params=params, data=encrypted.encode())).status == 200
    tampered = encrypted.replace("</xml>", "<AgentID>9</AgentID></xml>")
    resp = await client.post("/webhooks/wecom", params=params, data=tampered.encode())
    assert resp.status == 403 and (await resp.json())["error"] == "replayed"


async def test_dingtalk_sign_with_another_sender_or_body_is_refused(
    client: Any, aiohttp_client: Any, config_env: dict[str, str], platforms: Platforms, clock: FakeClock
) -> None:
    fake = platforms.dingtalk
    ts = str(int(clock.now().timestamp() * 1000))
    headers = {"timestamp": ts, "sign": dingtalk_sign(fake.client_secret, ts)}
    message = dingtalk_bot_message(fake, "staff-1", "帮助")
    assert (await client.post("/webhooks/dingtalk", json=message, headers=headers)).status == 200
    other = await second_process(aiohttp_client, config_env, clock)
    assert (await other.post("/webhooks/dingtalk", json=message, headers=headers)).status == 200
    for forged in (dingtalk_bot_message(fake, "staff-2", "帮助"), {**message, "text": {"content": "入职"}}):
        resp = await other.post("/webhooks/dingtalk", json=forged, headers=headers)
        assert resp.status == 403 and (await resp.json())["error"] == "replayed"


async def test_identity_provider_retry_is_accepted_once_recorded(api: Api, client: Any, clock: FakeClock) -> None:
    from sqlalchemy import func, select

    from laborsign.storage.guards import seen_once
    from tests.test_verification import person

    await api.login(clock, "13700137000", "worker")
    started = await api.post("/api/v1/me/verifications", person(method="face"), expect=201)
    ref = started["redirect_url"].split("/")[-1].split("?")[0]
    body, headers = client.app[DEPS].identity.sandbox.signed_callback(ref, True)
    for _ in range(2):  # the provider retries: same signature, same body
        resp = await client.post("/webhooks/identity/sandbox", data=body, headers=headers)
        assert resp.status == 200, await resp.text()
    assert (await api.get(f"/api/v1/me/verifications/{started['id']}"))["status"] == "verified"
    async with client.app[DEPS].uow() as uow:
        stored = await uow.session.scalar(
            select(func.count()).select_from(seen_once).where(seen_once.c.scope == "identity")
        )
    assert stored == 1


@pytest.fixture
def plain_env(config_env: dict[str, str]) -> dict[str, str]:
    return {**config_env, "LABORSIGN_WECHAT__ENCODING_AES_KEY": ""}


async def test_wechat_plain_mode_without_a_key(
    aiohttp_client: Any, plain_env: dict[str, str], platforms: Platforms, clock: FakeClock
) -> None:
    """Plain mode (no AES key): the body is not signed, so a seen URL signature carries
    exactly the body it came with and nothing else."""
    client = await aiohttp_client(create_app(load_config(environ=plain_env), clock=clock, migrate=False))
    fake = platforms.wechat
    user, intruder = WechatUser(client, fake, clock), WechatUser(client, fake, clock)
    ts, nonce = str(int(clock.now().timestamp())), secrets.token_hex(4)
    params = url_params(fake.token, ts, nonce)
    body = user.event_xml("weird_future_event").encode()
    first = await client.post("/webhooks/wechat", params=params, data=body)
    assert first.status == 200 and await first.text() == "success"
    assert (await client.post("/webhooks/wechat", params=params, data=body)).status == 200
    forged = await client.post("/webhooks/wechat", params=params, data=intruder.text_xml("待我签").encode())
    assert forged.status == 403 and (await forged.json())["error"] == "replayed"
