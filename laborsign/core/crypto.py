"""Field encryption for sensitive personal data (ID numbers, bank cards, face results).

Values are sealed with AES-256-GCM under a key derived from the platform secret; equality
lookups use a keyed hash (blind index), never the plaintext."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1"


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=b"laborsign", info=purpose).derive(secret)


class FieldCipher:
    def __init__(self, secret: bytes) -> None:
        self._aead = AESGCM(_derive(secret, b"field-encryption"))
        self._index_key = _derive(secret, b"blind-index")

    def encrypt(self, plaintext: str, context: str = "") -> str:
        """`context` binds the ciphertext to its column so values cannot be swapped."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, context: str = "") -> str:
        version, _, body = token.partition(":")
        if version != _VERSION:
            raise ValueError("unknown ciphertext version")
        raw = base64.urlsafe_b64decode(body)
        return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()

    def blind_index(self, value: str, context: str = "") -> str:
        return hmac.new(self._index_key, f"{context}:{value}".encode(), hashlib.sha256).hexdigest()
