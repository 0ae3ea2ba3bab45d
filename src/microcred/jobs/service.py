"""Bulk-award jobs: submit a file (rows stored at once, answered 202), then workers award the
rows in chunks. Each chunk is one transaction that writes the credentials and the rows' outcomes
together, so a crash loses at most the chunk in flight, which the next lease holder redoes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..awards.document import credential_url
from ..awards.service import RowOutcome, Signing, award_many
from ..db.base import new_id
from ..db.models import Job
from ..events import Event, record
from ..issuers.service import get_issuer
from ..pathways.completion import LearnerOutcome, evaluate_learners
from ..problems import NotFound
from .parsing import parse_batch
from .repository import JobRepository
from .schemas import JobOut, JobRowOut

__all__ = ["LEASE", "claim_job", "fail_next_row", "get_job", "hand_back", "job_out", "process_chunk", "submit_job", "submit_rows"]

#: How long a worker holds a job between chunks; a job whose worker died resumes after this.
LEASE = timedelta(seconds=60)


async def submit_job(
    session: AsyncSession, *, principal: Principal, issuer_id: str, body: bytes, content_type: str, max_rows: int, now: datetime
) -> Job:
    principal.require(issuer_id, "award")
    await get_issuer(session, principal=principal, issuer_id=issuer_id)
    source_format, payloads = parse_batch(body, content_type=content_type, max_rows=max_rows)
    return await submit_rows(session, principal=principal, issuer_id=issuer_id, source_format=source_format, payloads=payloads, now=now)


async def submit_rows(
    session: AsyncSession, *, principal: Principal, issuer_id: str, source_format: str, payloads: Sequence[dict[str, Any]], now: datetime
) -> Job:
    """Store a job of award bodies (a row the reader could not shape is ``{"_invalid": why}``,
    failed with that reason) for the workers; the caller has checked the principal and issuer."""
    principal.require(issuer_id, "award")
    job = Job(id=new_id(), issuer_id=issuer_id, status="queued", source_format=source_format, total=len(payloads), created_at=now)
    await JobRepository(session).add(job, payloads)
    await record(session, Event("job.submitted", issuer_id, principal.client_id, job.id, now, {"rows": job.total, "format": source_format}))
    return job


async def get_job(session: AsyncSession, *, principal: Principal, job_id: str) -> Job:
    job = await JobRepository(session).get(job_id)
    if job is None or (not principal.is_admin and principal.issuer_id != job.issuer_id):
        raise NotFound(f"no job {job_id!r}")
    return job


async def job_out(
    session: AsyncSession, job: Job, *, base_url: str, rows_after: int = 0, rows_limit: int = 100, row_status: str | None = None
) -> JobOut:
    rows = await JobRepository(session).rows(job.id, after=rows_after, limit=rows_limit + 1, status=row_status)
    page = rows[:rows_limit]
    return JobOut(
        id=job.id,
        issuer_id=job.issuer_id,
        kind=job.kind,  # type: ignore[arg-type]
        pathway_id=job.pathway_id,
        status=job.status,  # type: ignore[arg-type]
        format=job.source_format,
        total=job.total,
        processed=job.processed,
        awarded=job.awarded,
        duplicates=job.duplicates,
        failed=job.failed,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        rows=[
            JobRowOut(
                row=r.row_number,
                status=r.status,  # type: ignore[arg-type]
                credential_id=r.credential_id,
                credential_url=credential_url(base_url, r.credential_id) if r.credential_id and r.status != "failed" else None,
                error=r.error,
            )
            for r in page
        ],
        next_rows_after=page[-1].row_number if len(rows) > rows_limit and page else None,
    )


async def claim_job(session: AsyncSession, *, owner: str, now: datetime, lease: timedelta = LEASE) -> str | None:
    """Take the lease of one job that needs work, or None."""
    repository = JobRepository(session)
    job_id = await repository.claimable(now)
    if job_id is None or not await repository.take_lease(job_id, owner=owner, now=now, until=now + lease):
        return None
    return job_id


async def hand_back(session: AsyncSession, *, job_id: str, owner: str, now: datetime) -> None:
    """Give up our lease of ``job_id`` (a worker stopping): the next worker may take it at once
    rather than when the lease would have lapsed. What we awarded is committed chunk by chunk."""
    await JobRepository(session).release(job_id, owner=owner, now=now)


async def process_chunk(
    session: AsyncSession, *, signing: Signing, job_id: str, owner: str, size: int, now: datetime, lease: timedelta = LEASE
) -> bool:
    """Award the next ``size`` pending rows; False when the job is done or no longer ours."""
    repository = JobRepository(session)
    job = await repository.locked_for(job_id, owner)
    if job is None or job.status == "completed":
        return False
    if job.started_at is None:
        job.started_at = now
    rows = await repository.pending_rows(job_id, after=job.processed, limit=size)
    if rows:
        payloads = [row.payload for row in rows]
        if job.kind == "pathway" and job.pathway_id is not None:  # rows are learners a new pathway evaluates
            outcomes: Sequence[RowOutcome | LearnerOutcome] = await evaluate_learners(
                session, signing=signing, pathway_id=job.pathway_id, learners=payloads, job_id=job.id, now=now
            )
        else:
            outcomes = await award_many(session, signing=signing, issuer_id=job.issuer_id, payloads=payloads, job_id=job.id, now=now)
        for row, outcome in zip(rows, outcomes, strict=True):
            row.status, row.credential_id, row.error = outcome.status, outcome.credential_id, outcome.error
            job.awarded += outcome.status == "awarded"
            job.duplicates += outcome.status == "duplicate"
            job.failed += outcome.status == "failed"
        job.processed += len(rows)
    job.lease_until = now + lease
    if len(rows) < size:
        job.status, job.finished_at, job.lease_owner, job.lease_until = "completed", now, None, None
    await session.flush()
    return job.status != "completed"


async def fail_next_row(
    session: AsyncSession, *, job_id: str, owner: str, error: dict[str, Any], now: datetime, lease: timedelta = LEASE
) -> bool:
    """Mark the next pending row failed with ``error``: the row the worker could not award even
    alone. False when the job is done or no longer ours."""
    repository = JobRepository(session)
    job = await repository.locked_for(job_id, owner)
    if job is None or job.status == "completed":
        return False
    rows = await repository.pending_rows(job_id, after=job.processed, limit=1)
    for row in rows:
        row.status, row.error = "failed", error
        job.failed += 1
        job.processed += 1
    job.lease_until = now + lease
    if not rows:
        job.status, job.finished_at, job.lease_owner, job.lease_until = "completed", now, None, None
    await session.flush()
    return job.status != "completed"
