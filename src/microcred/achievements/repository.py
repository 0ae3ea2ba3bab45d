from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Achievement, AchievementVersion

__all__ = ["AchievementRepository"]


class AchievementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, issuer_id: str, achievement_id: str, *, for_update: bool = False) -> Achievement | None:
        statement = select(Achievement).where(Achievement.id == achievement_id, Achievement.issuer_id == issuer_id)
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def for_issuer(self, issuer_id: str) -> Sequence[Achievement]:
        statement = select(Achievement).where(Achievement.issuer_id == issuer_id).order_by(Achievement.created_at, Achievement.id)
        return (await self.session.scalars(statement)).all()

    async def version(self, achievement_id: str, version: int) -> AchievementVersion | None:
        return await self.session.scalar(
            select(AchievementVersion).where(AchievementVersion.achievement_id == achievement_id, AchievementVersion.version == version)
        )

    async def current_version(self, issuer_id: str, achievement_id: str) -> AchievementVersion | None:
        """The latest published version of an issuer's achievement, in one query."""
        return await self.session.scalar(
            select(AchievementVersion)
            .join(Achievement, Achievement.id == AchievementVersion.achievement_id)
            .where(
                Achievement.id == achievement_id,
                Achievement.issuer_id == issuer_id,
                AchievementVersion.version == Achievement.version,
            )
        )

    async def add(self, row: Achievement | AchievementVersion) -> None:
        self.session.add(row)
        await self.session.flush()
