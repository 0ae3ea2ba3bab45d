from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, utcnow


class Endorsement(Base):
    """A signed OB 3.0 EndorsementCredential by one issuer (the endorser) about another issuer's
    profile or one of its achievements. Credentials awarded while it stands embed it."""

    __tablename__ = "endorsements"
    __table_args__ = (
        # What an award looks up: the standing endorsements of one issuer and its achievements.
        Index("ix_endorsements_subject", "subject_issuer_id", "subject_achievement_id"),
        UniqueConstraint("revocation_list_id", "revocation_index"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    #: The endorser, whose key signs it.
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"), index=True)
    subject_kind: Mapped[str] = mapped_column(String(16))  # profile | achievement
    subject_issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    subject_achievement_id: Mapped[str | None] = mapped_column(ForeignKey("achievements.id", ondelete="CASCADE"))
    comment: Mapped[str | None] = mapped_column(Text)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    valid_until: Mapped[datetime | None]
    #: Its BitstringStatusListEntry, in the endorser's revocation list (shared with its awards).
    revocation_list_id: Mapped[str] = mapped_column(ForeignKey("status_lists.id"))
    revocation_index: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
