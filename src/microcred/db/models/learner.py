from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, utcnow


class Learner(Base):
    """A person who proved they read an email address: the account the OB 3.0 API acts for.

    ``email`` is lower-cased; the credentials this service awarded to exactly that address are
    the learner's. ``profile`` keeps what ``PUT /ims/ob/v3p0/profile`` set (never the id or the
    email, which the service decides).
    """

    __tablename__ = "learners"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    verified_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the language the learner chose for pages, emails and new credentials (None: not chosen)
    language: Mapped[str | None] = mapped_column(String(8))


class SignInLink(Base):
    """A one-time sign-in link sent by email. Only a SHA-256 of its token is kept (32 random
    bytes, so a slow hash adds nothing); it works once, before ``expires_at``."""

    __tablename__ = "learner_sign_in_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    #: Where the learner goes once signed in (a path on this service, e.g. the consent page).
    next_path: Mapped[str] = mapped_column(String(4096))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LearnerSession(Base):
    """A signed-in browser: its cookie holds a random token, of which only a SHA-256 is kept."""

    __tablename__ = "learner_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class LearnerCredential(Base):
    """A credential a host put in the learner's collection (upsertCredential), verified first.

    Keyed per learner by a SHA-256 of the credential's ``id`` (ids are URLs of any length); a
    credential signed as a VC-JWT is kept as its compact JWS, any other as its JSON.
    """

    __tablename__ = "learner_credentials"
    __table_args__ = (
        UniqueConstraint("learner_id", "credential_key"),
        Index("ix_learner_credentials_learner_issued", "learner_id", "issued_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    credential_key: Mapped[str] = mapped_column(String(64))
    credential_id: Mapped[str] = mapped_column(Text)
    document: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    compact_jws: Mapped[str | None] = mapped_column(Text)
    #: The credential's validFrom: what getCredentials' ``since`` compares.
    issued_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LearnerAddress(Base):
    """Another address a learner proved they read (by a link sent to it): the credentials
    awarded to it are theirs too. An address belongs to one learner; the account's own ``email``
    is never repeated here."""

    __tablename__ = "learner_addresses"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    verified_at: Mapped[datetime]


class AddressLink(Base):
    """A one-time link that adds ``email`` to a learner's addresses once opened (SHA-256 kept)."""

    __tablename__ = "learner_address_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ShareLink(Base):
    """A learner's "share all" link: whoever holds ``/share/{token}`` sees the learner's
    credentials (the unlisted ones only when ``include_unlisted``). The token is kept as it is, so
    the backpack can show the link again; revoking deletes the row."""

    __tablename__ = "learner_share_links"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    include_unlisted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
