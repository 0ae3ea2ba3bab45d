from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, utcnow


class Job(Base):
    """A bulk award: rows are stored on submission and awarded in chunks by whichever worker
    holds the lease, so a job outlives a restart (the lease expires and another run resumes it)."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_lease", "status", "lease_until"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"), index=True)
    #: awards: rows are awards; pathway: rows are learners whose credentials a new pathway evaluates.
    kind: Mapped[str] = mapped_column(String(16), default="awards", server_default="awards")
    pathway_id: Mapped[str | None] = mapped_column(ForeignKey("pathways.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | completed
    source_format: Mapped[str] = mapped_column(String(8))  # csv | json | pathway
    total: Mapped[int] = mapped_column(default=0)
    processed: Mapped[int] = mapped_column(default=0)
    awarded: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]


class JobRow(Base):
    """One row of a bulk award and its outcome (the credential, or why it was not awarded)."""

    __tablename__ = "job_rows"
    __table_args__ = (Index("ix_job_rows_job_status", "job_id", "status", "row_number"),)

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    row_number: Mapped[int] = mapped_column(primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: pending | awarded | duplicate | failed, and for pathway jobs incomplete (not completed yet)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    credential_id: Mapped[str | None] = mapped_column(String(36))
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
