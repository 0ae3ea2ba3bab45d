from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, utcnow


class ApiClient(Base):
    """An API key holder: an admin (no issuer) or a client scoped to one issuer.

    Only a SHA-256 of the key is kept (the key is 32 random bytes, so a slow hash adds nothing);
    ``key_prefix`` finds the row without scanning.
    """

    __tablename__ = "api_clients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer_id: Mapped[str | None] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[str] = mapped_column(String(200))  # space-separated
    key_prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
