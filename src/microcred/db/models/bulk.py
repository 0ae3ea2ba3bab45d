from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, utcnow


class BulkUpload(Base):
    """A spreadsheet uploaded in the staff console, kept from upload through the column
    mapping and the dry run to the job it becomes (and its results file)."""

    __tablename__ = "bulk_uploads"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    source_format: Mapped[str] = mapped_column(String(8))  # csv | xlsx
    #: The file as uploaded, until it is submitted (then emptied: the job's rows hold what is
    #: needed, and the learners' data is not kept twice). Unsubmitted files are dropped after
    #: ``bulk.service.KEEP_UNSUBMITTED``.
    content: Mapped[bytes] = mapped_column(LargeBinary)
    #: CSV only: its delimiter, to write the results file the way the office's Excel reads it.
    csv_delimiter: Mapped[str | None] = mapped_column(String(1))
    #: field key (``bulk.mapping.FIELDS``) -> 0-based column index
    mapping: Mapped[dict[str, int]] = mapped_column(JSON)
    date_order: Mapped[str] = mapped_column(String(8))  # dmy | mdy
    #: The achievement of rows whose file has no achievement column.
    default_achievement: Mapped[str | None] = mapped_column(String(100))
    #: Once submitted: the job, and per job row (in order) the row number the file shows.
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), index=True)
    row_numbers: Mapped[list[int] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BulkMapping(Base):
    """The column mapping an issuer's staff chose last, offered again for the next file."""

    __tablename__ = "bulk_mappings"

    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"), primary_key=True)
    #: field key -> the header name of the column chosen
    columns: Mapped[dict[str, Any]] = mapped_column(JSON)
    date_order: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
