from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base


class AuditEntry(Base):
    """One thing that happened (an award, a revocation, a key rotation, an admin action): who,
    when and what. Entries form one hash chain for the whole service: each ``hash`` covers the
    entry's fields and ``prev_hash``, the hash of the entry before it, so changing, removing or
    inserting an entry breaks every hash after it (``microcred audit verify``).

    No foreign keys: the log outlives what it tells of, and deleting an issuer must not delete
    (and so break) the chain.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_issuer_seq", "issuer_id", "seq"),
        # A credential's timeline: the entries about it, in order.
        Index("ix_audit_log_subject_seq", "subject", "seq"),
    )

    #: 1, 2, 3... without gaps: a missing number is a removed entry.
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    at: Mapped[datetime]
    issuer_id: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(512))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The chain's last entry, in the one row appends lock (SELECT ... FOR UPDATE) to take their
    turn: every append reads it, links to it and moves it, so the chain stays one line however
    many workers append at once. It also tells a truncated chain from a whole one."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # always 1
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
