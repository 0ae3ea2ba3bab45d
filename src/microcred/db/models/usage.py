from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base


class CredentialUsage(Base):
    """How often a credential was used on one day, by kind: its public page viewed, its LinkedIn
    link followed, a download (one kind per format), a verification of it on /verify.

    Counts only, counted by the service itself: no address, no user agent, no cookie, nothing
    that tells who looked. One row per credential, day and kind, bumped by one upsert per use.
    ``issuer_id`` is copied from the credential so an issuer's figures read one index range.
    """

    __tablename__ = "credential_usage"
    # The dashboard sums an issuer's recent days (issuer, day) without touching the credentials.
    __table_args__ = (Index("ix_credential_usage_issuer_day", "issuer_id", "day"),)

    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    #: view | linkedin | verification | download_json | download_jwt | download_png | download_svg | download_pdf
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    count: Mapped[int] = mapped_column(default=0)
