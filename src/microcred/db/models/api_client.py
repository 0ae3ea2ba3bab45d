from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, utcnow


class ApiClient(Base):
    """An API key holder: an admin (no issuer) or a client scoped to one issuer.

    Only a SHA-256 of the key is kept (the key is 32 random bytes, so a slow hash adds nothing);
    ``key_prefix`` finds the row without scanning. Rotating a key replaces its prefix and hash
    in place, so the client keeps its id (the audit log's actor) and the old key stops at once.
    A key past ``expires_at`` or with ``revoked_at`` set is refused. ``last_used_at`` is when
    the key last authenticated, to the minute (written at most once a minute per key).
    """

    __tablename__ = "api_clients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer_id: Mapped[str | None] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[str] = mapped_column(String(200))  # space-separated
    key_prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    rotated_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
