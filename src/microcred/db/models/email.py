from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base


class EmailDelivery(Base):
    """The learner email outbox: one email about one credential (issued, or revoked when the
    issuer asks for that), written in the transaction that made the credential, and sent by the
    email sender at the issuer's rate until the SMTP server takes it or the attempts run out."""

    __tablename__ = "email_deliveries"
    __table_args__ = (
        # One email per credential and kind, however often an event is recorded again.
        UniqueConstraint("credential_id", "kind"),
        Index("ix_email_deliveries_due", "status", "next_attempt_at"),
        Index("ix_email_deliveries_issuer_created", "issuer_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # issued | revoked
    recipient: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16))  # queued | retrying | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    #: When a sender may (re)try it; while one is sending it, the end of its lease.
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    #: What the SMTP server (or the connection to it) said, in words, after a failed attempt.
    last_error: Mapped[str | None] = mapped_column(String(1000))


class EmailPace(Base):
    """When an issuer's next email may go out, shared by every email sender of the service (on
    every host), so the issuer's rate holds however many senders run. A sender locks the row
    only while it claims, moving it past the emails it took."""

    __tablename__ = "email_paces"

    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"), primary_key=True)
    next_slot_at: Mapped[datetime]
