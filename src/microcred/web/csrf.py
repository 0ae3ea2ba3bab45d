"""CSRF tokens for the service's forms, derived from the browser's session (or pre-session) token.

Only the browser that holds the cookie can know the token: the cookie is HttpOnly, and a page of
another site can make the browser send it but cannot read it, so it cannot fill in the form."""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = ["csrf_matches", "csrf_token"]


def csrf_token(session_token: str) -> str:
    digest = hashlib.sha256(b"microcred csrf\x00" + session_token.encode("utf-8", "surrogatepass")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def csrf_matches(session_token: str, candidate: str | None) -> bool:
    return bool(candidate) and hmac.compare_digest(csrf_token(session_token).encode(), (candidate or "").encode("utf-8", "surrogatepass"))
