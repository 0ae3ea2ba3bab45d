"""Webhook secrets and signatures, in the manner of Standard Webhooks (standardwebhooks.com).

A secret is ``whsec_`` and the base64 of 32 random bytes; those bytes are the HMAC key. Every
delivery carries three headers:

- ``webhook-id``: the event's id, the same on every retry (receivers drop duplicates by it);
- ``webhook-timestamp``: the attempt's time, in seconds since the Unix epoch (receivers refuse
  stale ones, so a captured request cannot be replayed later);
- ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}``.

Secrets are kept sealed with AES-256-GCM under a key that scrypt derives from the key
passphrase (the one that protects the signing keys) and a salt of the secret's own; the
endpoint's id is the associated data, so a sealed secret copied to another endpoint does not open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

__all__ = ["SECRET_PREFIX", "SecretBox", "SecretError", "new_secret", "signature", "signed_headers"]

SECRET_PREFIX = "whsec_"
_SEALED_PREFIX = "v1."
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1


class SecretError(Exception):
    """A sealed secret does not open (another passphrase, or a damaged value)."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def signature(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one attempt."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode("ascii")


def signed_headers(secret: str, *, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id=message_id, timestamp=timestamp, body=body),
    }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SecretBox:
    """Seals and opens endpoint secrets under the key passphrase. Derived keys are cached per
    salt for the life of the instance (scrypt is meant to be slow; a dispatcher opens the same
    endpoints' secrets again and again). Sealing and opening are CPU work: call them in a thread."""

    def __init__(self, passphrase: str) -> None:
        if not passphrase:
            raise ValueError("a passphrase is needed to seal webhook secrets")
        self._passphrase = passphrase.encode()
        self._keys: dict[bytes, bytes] = {}
        self._lock = threading.Lock()

    def _derived(self, salt: bytes) -> bytes:
        with self._lock:
            key = self._keys.get(salt)
        if key is None:
            key = Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P).derive(self._passphrase)
            with self._lock:
                self._keys[salt] = key
        return key

    def seal(self, secret: str, *, endpoint_id: str) -> str:
        salt, nonce = os.urandom(16), os.urandom(12)
        ciphertext = AESGCM(self._derived(salt)).encrypt(nonce, secret.encode(), endpoint_id.encode())
        return _SEALED_PREFIX + ".".join(_b64(part) for part in (salt, nonce, ciphertext))

    def open(self, sealed: str, *, endpoint_id: str) -> str:
        try:
            salt, nonce, ciphertext = (_unb64(part) for part in sealed.removeprefix(_SEALED_PREFIX).split("."))
            return AESGCM(self._derived(salt)).decrypt(nonce, ciphertext, endpoint_id.encode()).decode()
        except (ValueError, InvalidTag) as exc:
            raise SecretError(
                "the endpoint's secret does not open: was MICROCRED_KEY_PASSPHRASE changed? Delete the endpoint and register it again"
            ) from exc
