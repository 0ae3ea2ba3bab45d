from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, utcnow


class StoredImage(Base):
    """An image the service serves from its own origin (an achievement's badge image copied from
    the host its owner named), so pages and credentials never hot-link another host.

    Keyed by its content hash: the same image given twice is stored once, and its URL never
    changes meaning (it can be cached for a year). Rows are never edited.
    """

    __tablename__ = "stored_images"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(32))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    #: where it was copied from, for staff who wonder (never fetched again)
    source_url: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
