from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, or_, select, update
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
    last_used_at: datetime | None


# Built once: the statement's cache key is then computed once, not per request.
_BY_PREFIX = select(
    ApiClient.id,
    ApiClient.issuer_id,
    ApiClient.scopes,
    ApiClient.key_hash,
    ApiClient.revoked_at.is_not(None),
    ApiClient.expires_at,
    ApiClient.last_used_at,
).where(ApiClient.key_prefix == bindparam("prefix"))


class ApiClientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def key_by_prefix(self, prefix: str) -> KeyRecord | None:
        row = (await self.session.execute(_BY_PREFIX, {"prefix": prefix})).first()
        return KeyRecord(*row) if row is not None else None

    async def mark_used(self, client_id: str, *, at: datetime, unless_since: datetime) -> None:
        """Set the key's last-used time to ``at``, unless it was used at or after ``unless_since``.
        A row another transaction holds (a concurrent request of the same key marking it, a
        rotation) is skipped, not waited for: the other one writes a time just as good."""
        stale = (
            select(ApiClient.id)
            .where(ApiClient.id == client_id, or_(ApiClient.last_used_at.is_(None), ApiClient.last_used_at < unless_since))
            .with_for_update(key_share=True, skip_locked=True)
        )
        await self.session.execute(
            update(ApiClient).where(ApiClient.id.in_(stale)).values(last_used_at=at).execution_options(synchronize_session=False)
        )

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
