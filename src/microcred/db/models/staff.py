from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, utcnow


class StaffMember(Base):
    """A person of the certifying body's office who uses the console.

    ``email`` is lower-cased and is how they sign in (an emailed link, or a passkey). A service
    admin (``is_admin``, made with ``microcred staff create --admin``) is an owner of every
    issuer; anyone else acts only for the issuers they hold a :class:`StaffRole` in.
    """

    __tablename__ = "staff_members"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: A removed member keeps the row (the audit log names them) but can no longer sign in.
    disabled_at: Mapped[datetime | None]


class StaffRole(Base):
    """What one staff member may do for one issuer: viewer, awarder, manager or owner."""

    __tablename__ = "staff_roles"

    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffSignInLink(Base):
    """A one-time sign-in link emailed to a staff member (or printed by the CLI). Only a SHA-256
    of its token is kept; it works once, before ``expires_at``."""

    __tablename__ = "staff_sign_in_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class StaffSession(Base):
    """A signed-in browser: its cookie holds a random token, of which only a SHA-256 is kept. It
    ends at ``expires_at``, or earlier when unused for the idle timeout (``last_seen_at``)."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class StaffSignInAttempt(Base):
    """One request for a sign-in link (or one sign-in try), for rate limits per address and per
    client that hold across workers. Only keyed hashes are kept, never the address or the IP."""

    __tablename__ = "staff_sign_in_attempts"
    __table_args__ = (
        Index("ix_staff_sign_in_attempts_address_at", "address_hash", "at"),
        Index("ix_staff_sign_in_attempts_client_at", "client_hash", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    address_hash: Mapped[str] = mapped_column(String(64))
    client_hash: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime]
