"""The backlogs, counted in the database when /metrics is scraped: they are the same whichever
process or host is asked, and right after a restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from ..db.models import EmailDelivery, Job, WebhookDelivery

__all__ = ["Backlog", "BacklogRepository"]


@dataclass(frozen=True)
class Backlog:
    #: Unfinished bulk jobs by status (queued, running).
    jobs: dict[str, int]
    #: When the oldest unfinished job was submitted (None: no job waits).
    oldest_job_at: datetime | None
    #: Rows the unfinished jobs have still to award.
    job_rows_remaining: int
    #: Webhook deliveries still to be made (pending) and given up on (failed).
    webhook_deliveries: dict[str, int]
    #: Learner emails still to be sent (queued, retrying) and given up on (failed).
    email_deliveries: dict[str, int]


class BacklogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def backlog(self) -> Backlog:
        """Each count reads an index that starts with the status: completed jobs, delivered
        webhooks and sent emails (nearly every row, in time) are never walked."""
        jobs = {"queued": 0, "running": 0}
        oldest: datetime | None = None
        remaining = 0
        rows = await self.session.execute(
            select(Job.status, func.count(), func.min(Job.created_at), func.sum(Job.total - Job.processed))
            .where(Job.status.in_(tuple(jobs)))
            .group_by(Job.status)
        )
        for status, count, created_at, left in rows:
            jobs[status] = count
            oldest = created_at if oldest is None or (created_at is not None and created_at < oldest) else oldest
            remaining += left or 0
        webhooks = await self._by_status(WebhookDelivery.status, ("pending", "failed"))
        emails = await self._by_status(EmailDelivery.status, ("queued", "retrying", "failed"))
        return Backlog(jobs, oldest, remaining, webhooks, emails)

    async def _by_status(self, column: InstrumentedAttribute[str], statuses: tuple[str, ...]) -> dict[str, int]:
        counts = dict.fromkeys(statuses, 0)
        rows = await self.session.execute(select(column, func.count()).where(column.in_(statuses)).group_by(column))
        counts.update({status: count for status, count in rows})
        return counts
