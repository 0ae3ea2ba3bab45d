from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import ApiClient

__all__ = ["ApiClientRepository"]


class ApiClientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_prefix(self, prefix: str) -> ApiClient | None:
        return await self.session.scalar(select(ApiClient).where(ApiClient.key_prefix == prefix))

    async def add(self, client: ApiClient) -> ApiClient:
        self.session.add(client)
        await self.session.flush()
        return client
