from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Achievement, AchievementVersion

__all__ = ["AchievementRepository", "PublishedVersion"]


@dataclass(frozen=True)
class PublishedVersion:
    """The current published version of an achievement, as an award needs it (read as plain
    columns: this is on the path of every award)."""

    id: str
    achievement_id: str
    version: int
    document: dict[str, Any]
    #: The achievement's status: ``retired`` ones are shown and verify, but award no more.
    status: str = "published"
    #: The same Achievement in other languages, by language code (None: written in one only).
    translations: dict[str, dict[str, Any]] | None = None

    @property
    def retired(self) -> bool:
        return self.status == "retired"

    def in_language(self, language: str) -> PublishedVersion:
        """The version as a credential written in ``language`` embeds it: its translation into
        that language when it has one, else as written (its ``inLanguage`` says which)."""
        translated = (self.translations or {}).get(language)
        return self if translated is None else dataclasses.replace(self, document=translated)


# Built once, so SQLAlchemy computes its cache key once rather than on every award.
_CURRENT_VERSION = (
    select(
        AchievementVersion.id, AchievementVersion.achievement_id, AchievementVersion.version, AchievementVersion.document,
        Achievement.status, AchievementVersion.translations,
    )
    .join(Achievement, Achievement.id == AchievementVersion.achievement_id)
    .where(
        Achievement.id == bindparam("achievement_id"),
        Achievement.issuer_id == bindparam("issuer_id"),
        AchievementVersion.version == Achievement.version,
    )
)


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

    async def versions(self, achievement_id: str) -> Sequence[AchievementVersion]:
        statement = select(AchievementVersion).where(AchievementVersion.achievement_id == achievement_id).order_by(AchievementVersion.version)
        return (await self.session.scalars(statement)).all()

    async def version(self, achievement_id: str, version: int) -> AchievementVersion | None:
        return await self.session.scalar(
            select(AchievementVersion).where(AchievementVersion.achievement_id == achievement_id, AchievementVersion.version == version)
        )

    async def current_version(self, issuer_id: str, achievement_id: str) -> PublishedVersion | None:
        """The latest published version of an issuer's achievement, in one query."""
        row = (await self.session.execute(_CURRENT_VERSION, {"issuer_id": issuer_id, "achievement_id": achievement_id})).first()
        return PublishedVersion(*row) if row is not None else None

    async def published(self, issuer_id: str, achievement_id: str, version: int) -> tuple[PublishedVersion, int] | None:
        """One published version of an issuer's achievement, and the number of its newest version."""
        row = (
            await self.session.execute(
                select(
                    AchievementVersion.id, AchievementVersion.achievement_id, AchievementVersion.version, AchievementVersion.document,
                    Achievement.version, AchievementVersion.translations,
                )
                .join(Achievement, Achievement.id == AchievementVersion.achievement_id)
                .where(Achievement.id == achievement_id, Achievement.issuer_id == issuer_id, AchievementVersion.version == version)
            )
        ).first()
        return (PublishedVersion(row[0], row[1], row[2], row[3], translations=row[5]), row[4]) if row is not None else None

    async def add(self, row: Achievement | AchievementVersion) -> None:
        self.session.add(row)
        await self.session.flush()
