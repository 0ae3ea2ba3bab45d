"""Proof Key for Code Exchange with the S256 method only (RFC 7636; the OB 3.0 API requires PKCE,
and ``plain`` would show the verifier to whoever sees the authorization request).
https://www.rfc-editor.org/rfc/rfc7636#section-4.2"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

__all__ = ["is_challenge", "s256", "verifier_matches"]

#: code_verifier = 43*128unreserved (RFC 7636 §4.1)
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
#: BASE64URL(SHA256(...)) without padding: always 43 characters
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


def s256(verifier: str) -> str:
    """code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))"""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def is_challenge(value: str) -> bool:
    return _CHALLENGE.fullmatch(value) is not None


def verifier_matches(verifier: str, challenge: str) -> bool:
    """The verifier is well-formed and hashes to the challenge (compared in constant time)."""
    if _VERIFIER.fullmatch(verifier) is None:
        return False
    return hmac.compare_digest(s256(verifier), challenge)
