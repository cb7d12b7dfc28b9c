"""WeChat / WeCom "safe mode" callback crypto, on `cryptography` directly.

The format (the same for the Official Account and WeCom, only the trailing id differs):
AES-256-CBC under the 43-character EncodingAESKey (base64 of 32 bytes, IV = its first 16),
plaintext = 16 random bytes + the message's length (4 bytes, network order) + the message +
the app id (WeCom: the corp id), PKCS#7-padded to 32 bytes; the signature is the SHA1 of
token, timestamp, nonce and the base64 ciphertext, sorted and joined.

Ours rather than wechatpy's on the webhook path because that runs once per message: wechatpy
parses the envelope with xmltodict and builds its cipher objects per call (about twice the
time). There is no MAC in the format: the signature is what authenticates a body, the padding
and id checks only catch what does not decrypt to a message for us."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from functools import lru_cache
from xml.etree import ElementTree

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16

_ENVELOPE = """<xml>
<Encrypt><![CDATA[{encrypt}]]></Encrypt>
<MsgSignature><![CDATA[{signature}]]></MsgSignature>
<TimeStamp>{timestamp}</TimeStamp>
<Nonce><![CDATA[{nonce}]]></Nonce>
</xml>"""


class BadSignature(Exception):
    """The signature does not match: not from the platform (403)."""


class Undecryptable(Exception):
    """Signed, but not a message for us: bad base64 or padding, short, another app's (400)."""


def signature(token: str, timestamp: str, nonce: str, encrypt: str = "") -> str:
    parts = [token, timestamp, nonce, encrypt] if encrypt else [token, timestamp, nonce]
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def check_url_signature(token: str, given: str, timestamp: str, nonce: str) -> None:
    """The Official Account's URL signature (over token, timestamp, nonce; not the body)."""
    if not hmac.compare_digest(signature(token, timestamp, nonce), given):
        raise BadSignature()


class CallbackCrypto:
    """One app's crypto: `receive_id` is the app id (Official Account) or the corp id (WeCom)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error:
            raise Undecryptable("EncodingAESKey is not base64") from None
        if len(key) != 32:
            raise Undecryptable("EncodingAESKey is not 43 characters of base64")
        self.token = token
        self._id = receive_id.encode()
        self._cipher = Cipher(algorithms.AES(key), modes.CBC(key[:16]))

    # -- inbound ------------------------------------------------------------------------------

    def decrypt(self, encrypt: str, msg_signature: str, timestamp: str, nonce: str) -> str:
        """The message of a signed ciphertext (the WeCom URL check's echostr is one too)."""
        if not hmac.compare_digest(signature(self.token, timestamp, nonce, encrypt), msg_signature):
            raise BadSignature()
        try:
            raw = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError):
            raise Undecryptable("not base64") from None
        if not raw or len(raw) % 16:
            raise Undecryptable("not whole AES blocks")
        decryptor = self._cipher.decryptor()
        plain = decryptor.update(raw) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise Undecryptable("bad padding")
        content = plain[16:-pad]
        if len(content) < 4:
            raise Undecryptable("too short")
        (length,) = struct.unpack("!I", content[:4])
        if 4 + length > len(content):
            raise Undecryptable("length beyond the message")
        if content[4 + length :] != self._id:
            raise Undecryptable("addressed to another app")
        try:
            return content[4 : 4 + length].decode()
        except UnicodeDecodeError:
            raise Undecryptable("not UTF-8") from None

    def decrypt_message(self, body: bytes | str, msg_signature: str, timestamp: str, nonce: str) -> str:
        """The XML inside an encrypted callback body (`<xml><Encrypt>…</Encrypt>…</xml>`)."""
        return self.decrypt(envelope_encrypt(body), msg_signature, timestamp, nonce)

    # -- outbound -----------------------------------------------------------------------------

    def encrypt(self, message: str) -> str:
        text = message.encode()
        plain = os.urandom(16) + struct.pack("!I", len(text)) + text + self._id
        pad = BLOCK - len(plain) % BLOCK  # 1..32: a whole block when already aligned
        encryptor = self._cipher.encryptor()
        raw = encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()
        return base64.b64encode(raw).decode()

    def encrypt_message(self, message: str, nonce: str, timestamp: str) -> str:
        """A passive reply's encrypted envelope."""
        encrypt = self.encrypt(message)
        return _ENVELOPE.format(
            encrypt=encrypt,
            signature=signature(self.token, timestamp, nonce, encrypt),
            timestamp=timestamp,
            nonce=nonce,
        )


def envelope_encrypt(body: bytes | str) -> str:
    """The `Encrypt` element of a callback body (DTDs were refused before: see common.py)."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise Undecryptable("not XML") from None
    value = root.findtext("Encrypt")
    if not value:
        raise Undecryptable("no Encrypt element")
    return value.strip()


@lru_cache(maxsize=16)
def crypto_for(token: str, encoding_aes_key: str, receive_id: str) -> CallbackCrypto:
    """Built once per configuration (the key decode and cipher set-up are not per message)."""
    return CallbackCrypto(token, encoding_aes_key, receive_id)
