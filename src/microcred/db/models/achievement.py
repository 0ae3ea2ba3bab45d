from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, TimestampMixin, utcnow


class Achievement(TimestampMixin, Base):
    """An achievement definition as the issuer edits it; what credentials embed is a version."""

    __tablename__ = "achievements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | published | retired (no new awards)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The latest published version (0: never published).
    version: Mapped[int] = mapped_column(default=0)


class AchievementVersion(Base):
    """A published, immutable snapshot: the OB 3.0 Achievement object credentials carry."""

    __tablename__ = "achievement_versions"
    __table_args__ = (UniqueConstraint("achievement_id", "version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    achievement_id: Mapped[str] = mapped_column(ForeignKey("achievements.id", ondelete="CASCADE"))
    version: Mapped[int]
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The same Achievement in each language it was translated into, by language code: what a
    #: credential written in that language carries. ``document`` is in the achievement's own.
    translations: Mapped[dict[str, dict[str, Any]] | None] = mapped_column(JSON)
    #: The course is individually assessed (a diploma) or not (a certificate of participation).
    assessed: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
