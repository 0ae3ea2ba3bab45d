"""The four console roles, each with every right of the roles below it, and the API scopes each
one acts with (so the console calls the same services, under the same checks, as the API)."""

from __future__ import annotations

from typing import Literal

from ..auth.principal import Principal, Scope

__all__ = ["ROLES", "Role", "principal_for", "role_allows"]

Role = Literal["viewer", "awarder", "manager", "owner"]
#: Lowest first. viewer: reads everything of the issuer; awarder: awards, bulk uploads, revokes
#: and suspends; manager: also achievements, pathways, endorsements, webhooks; owner: also the
#: issuer's profile, key, staff and API keys.
ROLES: tuple[Role, ...] = ("viewer", "awarder", "manager", "owner")

_SCOPES: dict[str, frozenset[Scope]] = {
    "viewer": frozenset(),
    "awarder": frozenset({"award", "revoke"}),
    "manager": frozenset({"award", "revoke", "manage"}),
    "owner": frozenset({"award", "revoke", "manage"}),
}


def role_allows(have: str, need: str) -> bool:
    return have in ROLES and need in ROLES and ROLES.index(have) >= ROLES.index(need)


def principal_for(staff_id: str, issuer_id: str, role: str) -> Principal:
    """The API principal a staff member acts as for one issuer: the audit log names them as
    ``staff:<id>``."""
    return Principal(client_id=f"staff:{staff_id}", issuer_id=issuer_id, scopes=_SCOPES.get(role, frozenset()))
