from __future__ import annotations

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


# Built once: the statement's cache key is then computed once, not per request.
_BY_PREFIX = select(
    ApiClient.id, ApiClient.issuer_id, ApiClient.scopes, ApiClient.key_hash, ApiClient.revoked_at.is_not(None)
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
