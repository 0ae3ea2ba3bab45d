from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, utcnow


class Credential(Base):
    """A signed credential awarded to one learner, and the request that awarded it.

    ``dedup_key`` (the Idempotency-Key, the caller's external id, or the award's natural key) is
    unique per issuer, and so is ``external_id`` whatever key came with it, so a retried award
    finds the credential instead of making a second one, however many workers race.
    """

    __tablename__ = "credentials"
    __table_args__ = (
        # dedup_key leads, so looking keys up (bulk awards, before signing) can use no other
        # index, whatever the planner guesses about how many rows an issuer has. The id and
        # request hash ride along (PostgreSQL), so the look-up reads the index alone.
        UniqueConstraint("dedup_key", "issuer_id", postgresql_include=["id", "request_hash"]),
        # The caller's own id for a completion awards once, whatever Idempotency-Key comes with
        # it (NULLs are distinct: awards without one are many). external_id leads, for the same
        # reason as dedup_key; looked up from the index alone too.
        UniqueConstraint("external_id", "issuer_id", postgresql_include=["id", "request_hash"]),
        Index("ix_credentials_issuer_issued", "issuer_id", "issued_at"),
        Index("ix_credentials_issuer_email", "issuer_id", "recipient_email"),
        # The console's search (awards.repository.page): an achievement's newest first.
        Index("ix_credentials_issuer_achievement_issued", "issuer_id", "achievement_id", "issued_at"),
        # ... and the revoked or suspended, newest first, and the dashboard's count of revoked,
        # without reading the (many) credentials in good standing.
        Index(
            "ix_credentials_issuer_revoked", "issuer_id", "issued_at",
            postgresql_where=text("revoked_at IS NOT NULL"), sqlite_where=text("revoked_at IS NOT NULL"),
        ),
        Index(
            "ix_credentials_issuer_suspended", "issuer_id", "issued_at",
            postgresql_where=text("suspended_at IS NOT NULL"), sqlite_where=text("suspended_at IS NOT NULL"),
        ),
        # Learner search by any part of a name or address (ILIKE '%jans%'): trigram GIN indexes on
        # PostgreSQL (pg_trgm), plain ones on SQLite, where the search scans one issuer's rows.
        Index("ix_credentials_recipient_name_trgm", "recipient_name", postgresql_using="gin", postgresql_ops={"recipient_name": "gin_trgm_ops"}),
        Index("ix_credentials_recipient_email_trgm", "recipient_email", postgresql_using="gin", postgresql_ops={"recipient_email": "gin_trgm_ops"}),
        # A learner's credentials from every issuer (the OB 3.0 API's getCredentials).
        Index("ix_credentials_recipient_email_issued", "recipient_email", "issued_at"),
        # Learners identified by a DID alone, looked up when their awards complete a pathway.
        Index("ix_credentials_issuer_did", "issuer_id", "recipient_did"),
        # An index of a status list belongs to one credential, whatever races between workers.
        UniqueConstraint("revocation_list_id", "revocation_index"),
        UniqueConstraint("suspension_list_id", "suspension_index"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    achievement_id: Mapped[str] = mapped_column(ForeignKey("achievements.id", ondelete="CASCADE"))
    achievement_version_id: Mapped[str] = mapped_column(ForeignKey("achievement_versions.id"))
    dedup_key: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(200))
    recipient_email: Mapped[str | None] = mapped_column(String(320))
    recipient_name: Mapped[str | None] = mapped_column(String(512))
    recipient_did: Mapped[str | None] = mapped_column(String(512))
    completed_at: Mapped[datetime]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_until: Mapped[datetime | None]
    cryptosuite: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), index=True)
    #: Where the credential's BitstringStatusListEntry entries point (suspension only when the
    #: issuer offers it).
    revocation_list_id: Mapped[str | None] = mapped_column(ForeignKey("status_lists.id"))
    revocation_index: Mapped[int | None]
    suspension_list_id: Mapped[str | None] = mapped_column(ForeignKey("status_lists.id"))
    suspension_index: Mapped[int | None]
    revoked_at: Mapped[datetime | None]
    #: Kept for the issuer's records only: never published, never in a status list.
    revocation_reason: Mapped[str | None] = mapped_column(String(1000))
    suspended_at: Mapped[datetime | None]
    #: Who may see the credential's page, as its learner chose in the backpack: ``listed`` (the
    #: default: served, never indexed), ``public`` (indexable) or ``unlisted`` (the page answers
    #: only with ``?k=<page_secret>``; LinkedIn and the catalogue never show it).
    visibility: Mapped[str] = mapped_column(String(16), default="listed", server_default="listed")
    page_secret: Mapped[str | None] = mapped_column(String(64))
