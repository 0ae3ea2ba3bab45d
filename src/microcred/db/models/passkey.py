from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, utcnow


class PasskeyKey:
    """What is kept of a WebAuthn credential (a passkey), for staff and learners alike.

    ``credential_id`` is the authenticator's id for it (base64url); ``public_key`` its COSE key.
    ``sign_count`` is the authenticator's counter as last seen: a signature that does not move it
    forward (unless the authenticator never counts, when both stay 0) is refused as a clone.
    """

    #: What its owner calls it ("Work laptop", "YubiKey"), to tell them apart when removing one.
    name: Mapped[str] = mapped_column(String(100))
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    #: How the browser may reach the authenticator (``internal``, ``usb``, ``hybrid``...).
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class StaffPasskey(PasskeyKey, Base):
    """A passkey a staff member registered to sign in with."""

    __tablename__ = "staff_passkeys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"), index=True)


class PasskeyChallenge(Base):
    """A WebAuthn challenge the service handed out, waiting for its one answer.

    Kept as a SHA-256 of the challenge, which the answer's clientDataJSON carries: the row is
    deleted when answered (one statement, so a challenge is used once even across workers), and
    unanswered ones stop working at ``expires_at``. A registration challenge belongs to the
    member who asked for it; a sign-in challenge to nobody yet.
    """

    __tablename__ = "staff_passkey_challenges"

    challenge_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: "register" or "sign_in"
    purpose: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class PasskeyRequirement(Base):
    """An issuer whose owners require passkeys: its staff reach its console pages only once they
    have registered one (service admins included)."""

    __tablename__ = "issuer_passkey_requirements"

    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"), primary_key=True)
    #: Who turned it on (``staff:<id>``), as the audit log names them.
    required_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffSessionPasskey(Base):
    """A browser session in which the member used (or added) a passkey: what an issuer that
    requires passkeys asks of a session before its pages. A session opened by an emailed link
    has no row until the member confirms with a passkey; removing that passkey takes it away."""

    __tablename__ = "staff_session_passkeys"

    token_hash: Mapped[str] = mapped_column(ForeignKey("staff_sessions.token_hash", ondelete="CASCADE"), primary_key=True)
    passkey_id: Mapped[str] = mapped_column(ForeignKey("staff_passkeys.id", ondelete="CASCADE"), index=True)
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)


class LearnerPasskey(PasskeyKey, Base):
    """A passkey a learner registered from their backpack to sign in with; deleting the learner
    deletes their passkeys."""

    __tablename__ = "learner_passkeys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)


class LearnerPasskeyChallenge(Base):
    """A WebAuthn challenge handed out for a learner's passkey, as a SHA-256 of it.

    A registration challenge belongs to the learner who asked. A sign-in challenge belongs to the
    browser that asked (``browser_hash``: a SHA-256 of its pre-session cookie), so an answer made
    elsewhere cannot be posted from another site to sign a browser in as someone else; and it
    names the client (a keyed hash of its IP address) for the sign-in rate limit. Answering sets
    ``used_at`` (one UPDATE, so a challenge is used once even across workers); rows are kept for
    the rate limit's window, then pruned.
    """

    __tablename__ = "learner_passkey_challenges"
    __table_args__ = (Index("ix_learner_passkey_challenges_client_created", "client_hash", "created_at"),)

    challenge_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: "register" or "sign_in"
    purpose: Mapped[str] = mapped_column(String(16))
    learner_id: Mapped[str | None] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    browser_hash: Mapped[str | None] = mapped_column(String(64))
    client_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
