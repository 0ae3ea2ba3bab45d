"""API key format: ``mc_<prefix>_<secret>``. The prefix finds the client; only a SHA-256 of the
whole key is stored, and keys are compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

__all__ = ["new_api_key", "parse_api_key", "hash_api_key", "matches"]

_KEY = re.compile(r"^mc_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


def new_api_key() -> tuple[str, str]:
    """A fresh key and its prefix."""
    prefix = secrets.token_hex(8)
    return f"mc_{prefix}_{secrets.token_urlsafe(32)}", prefix


def parse_api_key(key: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    match = _KEY.match(key)
    return match.group(1) if match else None


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(key), stored_hash)
