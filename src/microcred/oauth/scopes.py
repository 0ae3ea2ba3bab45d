"""The OB 3.0 API's scopes: one per operation group, as the specification names them.
https://www.imsglobal.org/spec/ob/v3p0/#scopes"""

from __future__ import annotations

__all__ = [
    "CREDENTIAL_READONLY",
    "CREDENTIAL_UPSERT",
    "OB_SCOPES",
    "OFFLINE_ACCESS",
    "PROFILE_READONLY",
    "PROFILE_UPDATE",
    "SCOPES",
    "parse_scope",
]

_BASE = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"
CREDENTIAL_READONLY = _BASE + "credential.readonly"
CREDENTIAL_UPSERT = _BASE + "credential.upsert"
PROFILE_READONLY = _BASE + "profile.readonly"
PROFILE_UPDATE = _BASE + "profile.update"

#: Each OB scope and what it lets a host do, in the words of the specification.
OB_SCOPES: dict[str, str] = {
    CREDENTIAL_READONLY: "Permission to read OpenBadgeCredentials for the authenticated entity.",
    CREDENTIAL_UPSERT: "Permission to create or update OpenBadgeCredentials for the authenticated entity.",
    PROFILE_READONLY: "Permission to read the profile for the authenticated entity.",
    PROFILE_UPDATE: "Permission to update the profile for the authenticated entity.",
}
#: Sent by clients that want a refresh token (the specification's own examples ask for it).
#: Every grant here comes with a refresh token, so it changes nothing but is accepted.
OFFLINE_ACCESS = "offline_access"
SCOPES: tuple[str, ...] = (*OB_SCOPES, OFFLINE_ACCESS)


def parse_scope(value: str | None) -> list[str]:
    """A space-delimited scope string (RFC 6749 §3.3) as a list, in order, without repeats."""
    seen: list[str] = []
    for scope in (value or "").split(" "):
        if scope and scope not in seen:
            seen.append(scope)
    return seen
