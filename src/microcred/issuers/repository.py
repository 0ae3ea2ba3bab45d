from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Issuer

__all__ = ["IssuerRepository"]


class IssuerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, issuer_id: str, *, for_update: bool = False) -> Issuer | None:
        statement = select(Issuer).where(Issuer.id == issuer_id)
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def all(self, *, only: str | None = None) -> Sequence[Issuer]:
        statement = select(Issuer).order_by(Issuer.id)
        if only is not None:
            statement = statement.where(Issuer.id == only)
        return (await self.session.scalars(statement)).all()

    async def add(self, issuer: Issuer) -> Issuer:
        self.session.add(issuer)
        await self.session.flush()
        return issuer
