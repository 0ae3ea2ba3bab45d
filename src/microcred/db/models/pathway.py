from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, TimestampMixin, utcnow


class Pathway(TimestampMixin, Base):
    """A learning pathway: completing its component achievements (all of them, or at least
    ``min_count``) earns the pathway's own achievement, issued automatically."""

    __tablename__ = "pathways"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(512))
    #: The issuer's own published achievement that completing the pathway earns.
    achievement_id: Mapped[str] = mapped_column(ForeignKey("achievements.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(16))  # all | at_least
    #: With rule "at_least": how many components complete the pathway.
    min_count: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | archived


class PathwayComponent(Base):
    """One achievement of a pathway: the pathway issuer's own, or another issuer's on this service."""

    __tablename__ = "pathway_components"
    # Every award looks up the pathways its achievement belongs to: this index answers it.
    __table_args__ = (Index("ix_pathway_components_achievement", "achievement_id"),)

    pathway_id: Mapped[str] = mapped_column(ForeignKey("pathways.id", ondelete="CASCADE"), primary_key=True)
    achievement_id: Mapped[str] = mapped_column(ForeignKey("achievements.id", ondelete="CASCADE"), primary_key=True)
    #: The issuer of the component achievement (not necessarily the pathway's).
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)


class PathwayCompletion(Base):
    """A learner completed a pathway: recorded once, with the credential it earned them.

    ``recipient_key`` is the SHA-256 (hex) of the learner's identity: the lower-cased email of
    the awards, or their DID when they carry no email.
    """

    __tablename__ = "pathway_completions"

    pathway_id: Mapped[str] = mapped_column(ForeignKey("pathways.id", ondelete="CASCADE"), primary_key=True)
    recipient_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id", ondelete="CASCADE"), index=True)
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
