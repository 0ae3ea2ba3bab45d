"""Opaque bearer secrets (sign-in links, browser sessions, OAuth codes and tokens): 32 random
bytes, shown once, stored only as a SHA-256. A slow hash would add nothing to 256 random bits,
and a digest lets the row be found by the secret without keeping it."""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["new_token", "token_digest"]


def new_token() -> str:
    """A fresh secret, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What is stored and looked up: the SHA-256 of the secret, in hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
