from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import ApiClient

__all__ = ["ApiClientRepository", "KeyRecord"]


class KeyRecord(NamedTuple):
    """What authenticating a key needs, read as plain columns: it happens on every request."""

    id: str
    issuer_id: str | None
    scopes: str
    key_hash: str
    revoked: bool
    expires_at: datetime | None


# Built once: the statement's cache key is then computed once, not per request.
_BY_PREFIX = select(
    ApiClient.id,
    ApiClient.issuer_id,
    ApiClient.scopes,
    ApiClient.key_hash,
    ApiClient.revoked_at.is_not(None),
    ApiClient.expires_at,
).where(ApiClient.key_prefix == bindparam("prefix"))


class ApiClientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def key_by_prefix(self, prefix: str) -> KeyRecord | None:
        row = (await self.session.execute(_BY_PREFIX, {"prefix": prefix})).first()
        return KeyRecord(*row) if row is not None else None

    async def add(self, client: ApiClient) -> ApiClient:
        self.session.add(client)
        await self.session.flush()
        return client

    async def get(self, client_id: str, *, for_update: bool = False) -> ApiClient | None:
        """One client; ``for_update`` locks its row, so two rotations of one key take turns."""
        statement = select(ApiClient).where(ApiClient.id == client_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.scalars(statement)).one_or_none()

    async def listing(self, *, issuer_id: str | None = None) -> Sequence[ApiClient]:
        """Clients, oldest first: one issuer's if ``issuer_id`` is given, else all, admins too."""
        statement = select(ApiClient)
        if issuer_id is not None:
            statement = statement.where(ApiClient.issuer_id == issuer_id)
        return (await self.session.scalars(statement.order_by(ApiClient.created_at, ApiClient.id))).all()
