"""Ed25519 keys in Multikey form, and the Signer / Verifier seams that proofs use.

A key pair hands out a :class:`Signer` and a :class:`Verifier`; proof code only ever sees
those, never the secret bytes (the shape of Digital Bazaar's ed25519-multikey).
https://www.w3.org/TR/vc-di-eddsa/#multikey
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import multibase
from .errors import KeyFormatError

__all__ = [
    "Ed25519KeyPair",
    "Ed25519PublicKeyInfo",
    "Signer",
    "Verifier",
    "did_key_document",
    "did_key_from_public",
    "public_key_from_multikey",
]

ALGORITHM = "Ed25519"


@runtime_checkable
class Signer(Protocol):
    """Signs bytes for a verification method. Secrets stay behind this interface."""

    @property
    def id(self) -> str: ...

    @property
    def algorithm(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...


@runtime_checkable
class Verifier(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def algorithm(self) -> str: ...

    def verify(self, data: bytes, signature: bytes) -> bool: ...


def public_key_from_multikey(value: str) -> bytes:
    """Raw 32-byte Ed25519 public key from a ``z6Mk...`` publicKeyMultibase."""
    raw = multibase.decode(value)
    return multibase.strip_header(raw, multibase.ED25519_PUB_HEADER, what="Ed25519 publicKeyMultibase", length=32)


@dataclass(frozen=True)
class Ed25519PublicKeyInfo:
    """A public key with the id of the verification method that names it."""

    id: str
    public_key: bytes
    controller: str | None = None

    algorithm: str = ALGORITHM

    def __post_init__(self) -> None:
        if not isinstance(self.public_key, bytes) or len(self.public_key) != 32:
            raise KeyFormatError("an Ed25519 public key is 32 bytes")

    @property
    def public_key_multibase(self) -> str:
        return multibase.encode_base58btc(multibase.ED25519_PUB_HEADER + self.public_key)

    def verify(self, data: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, data)
        except InvalidSignature:
            return False
        return True

    def to_multikey(self) -> dict[str, str]:
        doc = {
            "id": self.id,
            "type": "Multikey",
            "publicKeyMultibase": self.public_key_multibase,
        }
        if self.controller:
            doc["controller"] = self.controller
        return doc


class Ed25519KeyPair:
    """An Ed25519 key pair bound to a verification method id."""

    algorithm = ALGORITHM

    def __init__(self, private_key: Ed25519PrivateKey, *, id: str | None = None, controller: str | None = None) -> None:
        self._private = private_key
        self.public_key = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        did = did_key_from_public(self.public_key)
        self.controller = controller or did
        self.id = id or f"{did}#{did.removeprefix('did:key:')}"

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def generate(cls, *, id: str | None = None, controller: str | None = None) -> Ed25519KeyPair:
        return cls(Ed25519PrivateKey.generate(), id=id, controller=controller)

    @classmethod
    def from_seed(cls, seed: bytes, *, id: str | None = None, controller: str | None = None) -> Ed25519KeyPair:
        if not isinstance(seed, bytes) or len(seed) != 32:
            raise KeyFormatError("an Ed25519 seed is 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(seed), id=id, controller=controller)

    @classmethod
    def from_multikey(
        cls, *, secret_key_multibase: str, public_key_multibase: str | None = None, id: str | None = None,
        controller: str | None = None,
    ) -> Ed25519KeyPair:
        raw = multibase.decode(secret_key_multibase)
        # 32-byte seed (W3C vectors) or seed || public key (Digital Bazaar's export); both occur.
        length = 64 if len(raw) == len(multibase.ED25519_PRIV_HEADER) + 64 else 32
        secret = multibase.strip_header(raw, multibase.ED25519_PRIV_HEADER, what="Ed25519 secretKeyMultibase", length=length)
        pair = cls.from_seed(secret[:32], id=id, controller=controller)
        if length == 64 and secret[32:] != pair.public_key:
            raise KeyFormatError("secretKeyMultibase carries a public key that does not match its seed")
        if public_key_multibase is not None and public_key_from_multikey(public_key_multibase) != pair.public_key:
            raise KeyFormatError("publicKeyMultibase does not belong to secretKeyMultibase")
        return pair

    # -- export -------------------------------------------------------------------------------
    @property
    def public_key_multibase(self) -> str:
        return multibase.encode_base58btc(multibase.ED25519_PUB_HEADER + self.public_key)

    def secret_key_multibase(self) -> str:
        """The seed in Multikey form. Only key stores should call this."""
        seed = self._private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return multibase.encode_base58btc(multibase.ED25519_PRIV_HEADER + seed)

    def public_info(self) -> Ed25519PublicKeyInfo:
        return Ed25519PublicKeyInfo(id=self.id, public_key=self.public_key, controller=self.controller)

    def to_multikey(self) -> dict[str, str]:
        return self.public_info().to_multikey()

    # -- seams --------------------------------------------------------------------------------
    def signer(self) -> Signer:
        return _Ed25519Signer(self.id, self._private)

    def verifier(self) -> Verifier:
        return self.public_info()

    def __repr__(self) -> str:  # never print secrets
        return f"Ed25519KeyPair(id={self.id!r})"


@dataclass(frozen=True)
class _Ed25519Signer:
    id: str
    _private: Ed25519PrivateKey
    algorithm: str = ALGORITHM

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)

    def __repr__(self) -> str:
        return f"Signer(id={self.id!r})"


def did_key_from_public(public_key: bytes) -> str:
    return "did:key:" + multibase.encode_base58btc(multibase.ED25519_PUB_HEADER + public_key)


def did_key_document(did: str) -> dict[str, object]:
    """Resolve an Ed25519 ``did:key`` to its DID document (Multikey form, as did-method-key does)."""
    if not did.startswith("did:key:z6Mk"):
        raise KeyFormatError(f"not an Ed25519 did:key: {did}")
    fingerprint = did.removeprefix("did:key:").split("#", 1)[0]
    public_key_from_multikey(fingerprint)  # validates
    did = "did:key:" + fingerprint
    vm_id = f"{did}#{fingerprint}"
    return {
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1",
        ],
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": fingerprint}
        ],
        "authentication": [vm_id],
        "assertionMethod": [vm_id],
        "capabilityDelegation": [vm_id],
        "capabilityInvocation": [vm_id],
    }
