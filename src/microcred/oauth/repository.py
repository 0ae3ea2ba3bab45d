from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import AuthorizationCode, OAuthClient, OAuthToken

__all__ = ["OAuthRepository"]


class OAuthRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: OAuthClient | AuthorizationCode | OAuthToken) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def client(self, client_id: str) -> OAuthClient | None:
        if "\x00" in client_id or len(client_id) > 64:  # no such id; PostgreSQL cannot even compare NUL
            return None
        return await self.session.get(OAuthClient, client_id)

    async def code(self, code_hash: str) -> AuthorizationCode | None:
        return await self.session.get(AuthorizationCode, code_hash)

    async def token(self, token_hash: str) -> OAuthToken | None:
        return await self.session.get(OAuthToken, token_hash)

    async def claim_code(self, code_hash: str, now: datetime) -> bool:
        """Mark the code used; False when another request used it first (one statement, so two
        racing exchanges cannot both succeed)."""
        statement = (
            update(AuthorizationCode)
            .where(AuthorizationCode.code_hash == code_hash, AuthorizationCode.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return _one_row(await self.session.execute(statement))

    async def claim_refresh_token(self, token_hash: str, now: datetime) -> bool:
        """Mark the refresh token used (rotated); False when it already was, or was revoked."""
        statement = (
            update(OAuthToken)
            .where(OAuthToken.token_hash == token_hash, OAuthToken.used_at.is_(None), OAuthToken.revoked_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return _one_row(await self.session.execute(statement))

    async def revoke_family(self, family_id: str, now: datetime) -> None:
        """Revoke every token of one grant."""
        await self.session.execute(
            update(OAuthToken)
            .where(OAuthToken.family_id == family_id, OAuthToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )

    async def revoke_token(self, token_hash: str, now: datetime) -> None:
        await self.session.execute(
            update(OAuthToken)
            .where(OAuthToken.token_hash == token_hash, OAuthToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )


def _one_row(result: Any) -> bool:
    return bool(getattr(result, "rowcount", 0) == 1)
