from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, utcnow


class StatusList(Base):
    """One W3C Bitstring Status List of an issuer, for one purpose (revocation, suspension, or
    message: revocation and suspension in one two-bit entry, see status.combined).

    Indexes are handed out through a keyed permutation of ``next_slot`` (see
    credentials.status_index), so the counter is the only thing workers share. The signed list
    credential is kept with its ETag and re-signed whenever a bit changes, so serving it is a
    read."""

    __tablename__ = "status_lists"
    __table_args__ = (Index("ix_status_lists_issuer_purpose", "issuer_id", "purpose"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))  # revocation | suspension | message
    #: The indexes that can be handed out (a message list's upper half).
    length: Mapped[int]
    #: Counters below this were handed out (to credentials, or to a worker's block).
    next_slot: Mapped[int] = mapped_column(default=0)
    permutation_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    document: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the signed list credential
    etag: Mapped[str | None] = mapped_column(String(80))
    signed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
