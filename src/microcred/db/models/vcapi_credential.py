from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, utcnow


class VcApiCredential(Base):
    """A credential signed through the W3C VC-API, kept so its status can change later.

    ``credential_id`` is how the caller refers to it (``options.credentialId``, else the
    credential's ``id``); it is not unique: a caller may issue the same credential more than
    once, and a status change then applies to every copy.
    """

    __tablename__ = "vcapi_credentials"
    __table_args__ = (
        Index("ix_vcapi_credentials_issuer_credential", "issuer_id", "credential_id"),
        # An index of a status list belongs to one credential.
        UniqueConstraint("revocation_list_id", "revocation_index"),
        UniqueConstraint("suspension_list_id", "suspension_index"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"))
    credential_id: Mapped[str | None] = mapped_column(String(1000))
    #: The issuer identifier the credential was signed as (the did:web, or a did:key).
    issued_as: Mapped[str] = mapped_column(String(512))
    cryptosuite: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revocation_list_id: Mapped[str | None] = mapped_column(ForeignKey("status_lists.id"))
    revocation_index: Mapped[int | None]
    suspension_list_id: Mapped[str | None] = mapped_column(ForeignKey("status_lists.id"))
    suspension_index: Mapped[int | None]
    revoked_at: Mapped[datetime | None]
    suspended_at: Mapped[datetime | None]
