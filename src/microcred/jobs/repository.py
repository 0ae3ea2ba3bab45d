from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Job, JobRow

__all__ = ["JobRepository"]


class JobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, job: Job, payloads: Sequence[dict[str, Any]]) -> None:
        self.session.add(job)
        await self.session.flush()
        for start in range(0, len(payloads), 5000):
            await self.session.execute(
                insert(JobRow),
                [{"job_id": job.id, "row_number": start + i + 1, "payload": p, "status": "pending"} for i, p in enumerate(payloads[start : start + 5000])],
            )

    async def get(self, job_id: str) -> Job | None:
        return await self.session.get(Job, job_id)

    async def rows(self, job_id: str, *, after: int, limit: int, status: str | None) -> Sequence[JobRow]:
        statement = select(JobRow).where(JobRow.job_id == job_id, JobRow.row_number > after)
        if status is not None:
            statement = statement.where(JobRow.status == status)
        return (await self.session.scalars(statement.order_by(JobRow.row_number).limit(limit))).all()

    async def pending_rows(self, job_id: str, *, after: int, limit: int) -> Sequence[JobRow]:
        """The next rows to award. Chunks are awarded in row order and each commits whole, so
        they are the rows after the ``after`` first: a range on the primary key, which never
        walks the index entries that updated rows left behind (the status index did, slower
        with every chunk when nothing vacuums; bench/README.md)."""
        statement = (
            select(JobRow)
            .where(JobRow.job_id == job_id, JobRow.row_number > after, JobRow.status == "pending")
            .order_by(JobRow.row_number)
            .limit(limit)
        )
        return (await self.session.scalars(statement)).all()

    async def claimable(self, now: datetime) -> str | None:
        """The oldest unfinished job whose lease is free or has lapsed (its worker died)."""
        return await self.session.scalar(
            select(Job.id)
            .where(Job.status != "completed", or_(Job.lease_until.is_(None), Job.lease_until < now))
            .order_by(Job.created_at)
            .limit(1)
        )

    async def take_lease(self, job_id: str, *, owner: str, now: datetime, until: datetime) -> bool:
        """Compare-and-set: only one worker wins a job whose lease is free."""
        result = await self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status != "completed", or_(Job.lease_until.is_(None), Job.lease_until < now))
            .values(lease_owner=owner, lease_until=until, status="running")
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def release(self, job_id: str, *, owner: str, now: datetime) -> None:
        """End ``owner``'s lease of a job still running: any worker may take it from ``now``."""
        await self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_owner == owner, Job.status != "completed")
            .values(lease_until=now)
            .execution_options(synchronize_session=False)
        )

    async def locked_for(self, job_id: str, owner: str) -> Job | None:
        statement = select(Job).where(and_(Job.id == job_id, Job.lease_owner == owner)).with_for_update()
        return await self.session.scalar(statement)
