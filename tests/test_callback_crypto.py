"""Our safe-mode callback crypto against wechatpy's, both ways, and what it refuses."""

from __future__ import annotations

import base64
import os
import re

import pytest
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto
from wechatpy.exceptions import InvalidSignatureException

from laborsign.webhooks.callback_crypto import (
    BadSignature,
    CallbackCrypto,
    Undecryptable,
    check_url_signature,
    signature,
)

TOKEN = "tok-abc"
APP_ID = "wx1234567890abcdef"
CORP_ID = "ww0987654321fedcba"
TS, NONCE = "1700000000", "n0nce42"

MESSAGES = [
    "<xml><Content><![CDATA[你好，绑定 13800138000]]></Content></xml>",
    "",  # pads to a whole block of 32
    "x" * 12,  # 16 + 4 + 12 + 18 = 50: a partial block
    "长" * 1000,
]


def aes_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()[:-1]


def encrypt_of(envelope: str) -> str:
    found = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]></Encrypt>", envelope)
    assert found is not None
    return found.group(1)


def msg_signature_of(envelope: str) -> str:
    found = re.search(r"<MsgSignature><!\[CDATA\[(.*?)\]\]></MsgSignature>", envelope)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("message", MESSAGES)
def test_wechatpy_encrypts_we_decrypt(message: str) -> None:
    key = aes_key()
    body = WeChatCrypto(TOKEN, key, APP_ID).encrypt_message(message, NONCE, TS)
    ours = CallbackCrypto(TOKEN, key, APP_ID)
    assert ours.decrypt_message(body.encode(), msg_signature_of(body), TS, NONCE) == message


@pytest.mark.parametrize("message", MESSAGES)
def test_we_encrypt_wechatpy_decrypts(message: str) -> None:
    key = aes_key()
    body = CallbackCrypto(TOKEN, key, APP_ID).encrypt_message(message, NONCE, TS)
    assert (
        WeChatCrypto(TOKEN, key, APP_ID).decrypt_message(body, msg_signature_of(body), TS, NONCE) == message
    )


def test_wecom_both_ways_and_the_url_check_echostr() -> None:
    key = aes_key()
    theirs, ours = WeComCrypto(TOKEN, key, CORP_ID), CallbackCrypto(TOKEN, key, CORP_ID)
    body = theirs.encrypt_message("<xml><Content>hi</Content></xml>", NONCE, TS)
    assert ours.decrypt_message(body, msg_signature_of(body), TS, NONCE) == "<xml><Content>hi</Content></xml>"
    reply = ours.encrypt_message("<xml><Content>答</Content></xml>", NONCE, TS)
    assert (
        theirs.decrypt_message(reply, msg_signature_of(reply), TS, NONCE)
        == "<xml><Content>答</Content></xml>"
    )
    # The URL check's echostr is a bare ciphertext signed the same way.
    echostr = encrypt_of(theirs.encrypt_message("1234567890", NONCE, TS))
    assert ours.decrypt(echostr, signature(TOKEN, TS, NONCE, echostr), TS, NONCE) == "1234567890"


def test_signatures_agree_with_wechatpy() -> None:
    from wechatpy.utils import check_signature

    sig = signature(TOKEN, TS, NONCE)
    check_signature(TOKEN, sig, TS, NONCE)  # wechatpy accepts ours
    check_url_signature(TOKEN, sig, TS, NONCE)
    with pytest.raises(BadSignature):
        check_url_signature(TOKEN, sig, TS, NONCE + "x")
    with pytest.raises(InvalidSignatureException):
        check_signature(TOKEN, signature("other", TS, NONCE), TS, NONCE)


def test_bad_signature_refused() -> None:
    key = aes_key()
    body = WeChatCrypto(TOKEN, key, APP_ID).encrypt_message("<xml/>", NONCE, TS)
    ours = CallbackCrypto(TOKEN, key, APP_ID)
    with pytest.raises(BadSignature):
        ours.decrypt_message(body, "0" * 40, TS, NONCE)
    with pytest.raises(BadSignature):  # signed for another timestamp
        ours.decrypt_message(body, msg_signature_of(body), "1700000001", NONCE)
    with pytest.raises(BadSignature):  # another token signed it
        CallbackCrypto("other", key, APP_ID).decrypt_message(body, msg_signature_of(body), TS, NONCE)


@pytest.mark.parametrize("theirs", [WeChatCrypto, WeComCrypto])
def test_another_app_or_corp_refused(theirs: type) -> None:
    key = aes_key()
    body = theirs(TOKEN, key, "wx-another-app").encrypt_message("<xml/>", NONCE, TS)
    with pytest.raises(Undecryptable):
        CallbackCrypto(TOKEN, key, APP_ID).decrypt_message(body, msg_signature_of(body), TS, NONCE)
    # A prefix of ours is not ours either.
    body = theirs(TOKEN, key, APP_ID + "x").encrypt_message("<xml/>", NONCE, TS)
    with pytest.raises(Undecryptable):
        CallbackCrypto(TOKEN, key, APP_ID).decrypt_message(body, msg_signature_of(body), TS, NONCE)


def test_tampered_ciphertext_refused() -> None:
    key = aes_key()
    ours = CallbackCrypto(TOKEN, key, APP_ID)
    encrypt = encrypt_of(
        WeChatCrypto(TOKEN, key, APP_ID).encrypt_message("<xml>" + "y" * 40 + "</xml>", NONCE, TS)
    )
    raw = bytearray(base64.b64decode(encrypt))
    raw[-20] ^= 0x01  # the second-to-last block: the last one (padding, app id) decrypts to garbage
    tampered = base64.b64encode(bytes(raw)).decode()
    # Under the original signature: the signature covers the ciphertext.
    with pytest.raises(BadSignature):
        ours.decrypt(tampered, signature(TOKEN, TS, NONCE, encrypt), TS, NONCE)
    # Re-signed (someone holding the token but not the key): does not decrypt to a message for us.
    with pytest.raises(Undecryptable):
        ours.decrypt(tampered, signature(TOKEN, TS, NONCE, tampered), TS, NONCE)
    for broken in ("not base64!!", encrypt[:-8], base64.b64encode(bytes(raw[:-16])).decode(), ""):
        with pytest.raises((Undecryptable, BadSignature)):
            ours.decrypt(broken, signature(TOKEN, TS, NONCE, broken), TS, NONCE)
    with pytest.raises(Undecryptable):
        ours.decrypt_message(b"<xml><ToUserName>x</ToUserName></xml>", "0" * 40, TS, NONCE)


def test_wrong_key_refused() -> None:
    body = WeChatCrypto(TOKEN, aes_key(), APP_ID).encrypt_message("<xml/>", NONCE, TS)
    with pytest.raises(Undecryptable):
        CallbackCrypto(TOKEN, aes_key(), APP_ID).decrypt_message(body, msg_signature_of(body), TS, NONCE)
    with pytest.raises(Undecryptable):
        CallbackCrypto(TOKEN, "short", APP_ID)
