"""Who is calling, and what they may do. Issuer-scoped callers see their own issuer only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..problems import Forbidden, NotFound

__all__ = ["SCOPES", "Principal", "Scope"]

Scope = Literal["award", "revoke", "manage"]
#: award: award credentials (one or in bulk) and follow jobs; revoke: revoke and suspend;
#: manage: edit the issuer profile and achievements, rotate keys. Every key may read its issuer.
SCOPES: tuple[Scope, ...] = ("award", "revoke", "manage")


@dataclass(frozen=True)
class Principal:
    client_id: str
    issuer_id: str | None  # None: an admin, who manages every issuer
    scopes: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return self.issuer_id is None

    def check_issuer(self, issuer_id: str) -> None:
        """Refuse another issuer's resources as if they did not exist (404, never 403), so a
        client cannot even learn which issuers there are."""
        if not self.is_admin and self.issuer_id != issuer_id:
            raise NotFound(f"no issuer {issuer_id!r}")

    def require(self, issuer_id: str, scope: Scope) -> None:
        self.check_issuer(issuer_id)
        if not self.is_admin and scope not in self.scopes:
            raise Forbidden(f"this API key lacks the {scope!r} scope")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("only an admin API key may do this")
