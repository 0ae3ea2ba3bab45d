from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Sequence, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base

#: Numbers the entries' places in the whole log (``AuditEntry.seq``) on PostgreSQL: taking a
#: number waits for no other transaction, where reading the highest ``seq`` would (SQLite, whose
#: writers take turns anyway, takes the highest plus one).
AUDIT_LOG_SEQ = Sequence("audit_log_seq", start=1, metadata=Base.metadata)


class AuditEntry(Base):
    """One thing that happened (an award, a revocation, a key rotation, an admin action): who,
    when and what. Entries form one hash chain per issuer, and one for the service's own
    actions (entries without an issuer): each ``hash`` covers the entry's fields and
    ``prev_hash``, the hash of the entry before it in its chain, so changing, removing or
    inserting an entry breaks every hash after it in that chain (``microcred audit verify``).
    One chain per issuer means awards of different issuers never wait for one another to append.

    Entries written before there were per-issuer chains stay, unchanged, in the one chain of the
    whole service they were written in (``chain`` "legacy", hashed without ``chain`` and
    ``chain_seq``); every later chain starts from that chain's last hash.

    No foreign keys: the log outlives what it tells of, and deleting an issuer must not delete
    (and so break) the chain.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        # A chain in order (verification) and a chain's next number, unique whatever races.
        UniqueConstraint("chain", "chain_seq"),
        Index("ix_audit_log_issuer_seq", "issuer_id", "seq"),
        # A credential's timeline: the entries about it, in order.
        Index("ix_audit_log_subject_seq", "subject", "seq"),
    )

    #: The entry's place in the whole log, which lists it newest first: increasing, and within
    #: a chain in the chain's order, but with gaps (a rolled-back append uses up its numbers).
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    #: Which hash chain it is in: ``issuer:<issuer id>``, ``service`` (entries without an
    #: issuer) or ``legacy`` (written before per-issuer chains).
    chain: Mapped[str] = mapped_column(String(80))
    #: 1, 2, 3... without gaps in its chain: a missing number is a removed entry.
    chain_seq: Mapped[int] = mapped_column(BigInteger)
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
    """A chain's last entry, in the row its appends lock (SELECT ... FOR UPDATE) to take their
    turn: every append reads it, links to it and moves it, so each chain stays one line however
    many workers append to it at once, while appends to other chains (other issuers) go on
    beside them. It also tells a truncated chain from a whole one."""

    __tablename__ = "audit_chain_heads"

    chain: Mapped[str] = mapped_column(String(80), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)  # the last entry's chain_seq
    hash: Mapped[str] = mapped_column(String(64))
