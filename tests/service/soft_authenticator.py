"""A software WebAuthn authenticator (ES256, "none" attestation, discoverable credentials) for the
ASGI tests of passkeys: it answers the options the service sends exactly as a browser's
``navigator.credentials.create()`` / ``get()`` results are serialised by our console script
(``PublicKeyCredential.toJSON()`` shape), so the server's checks (challenge, origin, RP id,
signature, sign counter) are exercised for real, without a browser.

The browser tests use Chromium's own virtual authenticator instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["SoftAuthenticator", "b64url", "unb64url"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class _Credential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    """Keeps its credentials (one per RP and user) and counts signatures like a security key."""

    origin: str
    credentials: list[_Credential] = field(default_factory=list)
    #: Added to the counter on each signature (0: an authenticator that never counts, like many
    #: platform passkeys).
    counter_step: int = 1
    #: Whether it verifies the user (a PIN, a fingerprint) or only sees someone touch it.
    verifies_user: bool = True

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        """The answer to ``navigator.credentials.create({publicKey: options})``."""
        rp_id = options["rp"].get("id") or _host(self.origin)
        key = ec.generate_private_key(ec.SECP256R1())
        credential = _Credential(secrets.token_bytes(32), key, rp_id, unb64url(options["user"]["id"]))
        self.credentials.append(credential)
        numbers = key.public_key().public_numbers()
        cose_key = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        attested = bytes(16) + struct.pack(">H", len(credential.credential_id)) + credential.credential_id + cose_key
        auth_data = hashlib.sha256(rp_id.encode()).digest() + bytes([self._flags() | 0x40]) + struct.pack(">I", 0) + attested
        client_data = self._client_data("webauthn.create", options["challenge"])
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {"clientDataJSON": b64url(client_data), "attestationObject": b64url(attestation), "transports": ["internal"]},
        }

    def get(self, options: dict[str, Any], *, credential: _Credential | None = None) -> dict[str, Any]:
        """The answer to ``navigator.credentials.get({publicKey: options})`` with a discoverable
        credential for the RP (the newest, or ``credential``)."""
        rp_id = options.get("rpId") or _host(self.origin)
        chosen = credential or next(c for c in reversed(self.credentials) if c.rp_id == rp_id)
        chosen.sign_count += self.counter_step
        auth_data = hashlib.sha256(chosen.rp_id.encode()).digest() + bytes([self._flags()]) + struct.pack(">I", chosen.sign_count)
        client_data = self._client_data("webauthn.get", options["challenge"])
        signature = chosen.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(chosen.credential_id),
            "rawId": b64url(chosen.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(chosen.user_handle),
            },
        }

    def _flags(self) -> int:
        return 0x01 | (0x04 if self.verifies_user else 0)  # user present, user verified

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}).encode()


def _host(origin: str) -> str:
    return origin.split("://", 1)[1].split(":", 1)[0].split("/", 1)[0]
