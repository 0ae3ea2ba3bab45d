from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Achievement, Issuer

__all__ = ["IssuerRepository"]


class IssuerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, issuer_id: str, *, for_update: bool = False, for_share: bool = False) -> Issuer | None:
        statement = select(Issuer).where(Issuer.id == issuer_id)
        if for_update:
            statement = statement.with_for_update()
        elif for_share:
            statement = statement.with_for_update(read=True)
        return await self.session.scalar(statement)

    async def published_achievement_names(self, issuer_id: str) -> list[str]:
        """The names of the issuer's published achievements (whose credentials carry the issuer)."""
        statement = (
            select(Achievement.definition)
            .where(Achievement.issuer_id == issuer_id, Achievement.status == "published")
            .order_by(Achievement.created_at, Achievement.id)
        )
        return [str(definition.get("name", "")) for definition in (await self.session.scalars(statement)).all()]

    async def all(self, *, only: str | None = None) -> Sequence[Issuer]:
        statement = select(Issuer).order_by(Issuer.id)
        if only is not None:
            statement = statement.where(Issuer.id == only)
        return (await self.session.scalars(statement)).all()

    async def add(self, issuer: Issuer) -> Issuer:
        self.session.add(issuer)
        await self.session.flush()
        return issuer
