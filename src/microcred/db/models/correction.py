from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, utcnow


class NameCorrection(Base):
    """A learner's request, from the backpack, that the issuer correct the name on a credential.

    The issuer's staff approve it (the credential is reissued with ``requested_name``: the
    replacement's id is kept) or decline it; the learner sees the outcome in the backpack. The
    request outlives the learner's account (``learner_id`` is then NULL): it is the issuer's record.
    """

    __tablename__ = "name_corrections"
    __table_args__ = (Index("ix_name_corrections_issuer_status", "issuer_id", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[str | None] = mapped_column(ForeignKey("learners.id", ondelete="SET NULL"), index=True)
    requested_name: Mapped[str] = mapped_column(String(512))
    note: Mapped[str | None] = mapped_column(String(1000))
    #: pending, approved or declined
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    #: the staff member, as the audit log names them (staff:<id>)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    replacement_id: Mapped[str | None] = mapped_column(String(36))
