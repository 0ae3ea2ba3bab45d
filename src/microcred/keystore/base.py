"""The key custody seam: what the service may ask of a key store, and what it may not.

A store hands out :class:`~microcred.credentials.keys.Signer` objects and public keys, never
secret bytes, so no code outside the store can copy a private key (the shape of Digital Bazaar's
ed25519-multikey, which exports secrets only when asked explicitly; we offer no such switch).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from microcred.credentials.did import PublishedKey
from microcred.credentials.keys import Signer

__all__ = ["KeyStore", "KeyStoreError"]


class KeyStoreError(Exception):
    """A key cannot be created, found, read or decrypted. The message says which and why."""


class KeyStore(Protocol):
    def generate(self, issuer: str, *, now: datetime) -> PublishedKey:
        """Create the first key of ``issuer`` (a did:web); it becomes current at ``now``."""
        ...

    def generate_did_key(self, *, now: datetime) -> PublishedKey:
        """Create a key whose issuer is its own did:key (which can never rotate)."""
        ...

    def rotate(self, issuer: str, *, now: datetime) -> PublishedKey:
        """Make a new key current; the previous one is retired at ``now`` but stays published."""
        ...

    def signer(self, issuer: str) -> Signer:
        """The current key's signer; its ``id`` is the verification method id."""
        ...

    def signer_for(self, verification_method: str) -> Signer:
        """The signer of the key ``verification_method`` names (current or not)."""
        ...

    def current_key(self, issuer: str) -> PublishedKey:
        """The key that signs now."""
        ...

    def published_keys(self, issuer: str) -> list[PublishedKey]:
        """Every key of ``issuer``, oldest first, with the period each was current."""
        ...

    def did_document(self, issuer: str) -> dict[str, Any]:
        """The DID document to publish for ``issuer``."""
        ...

    def issuers(self) -> list[str]:
        """Every issuer DID with at least one key, sorted."""
        ...
