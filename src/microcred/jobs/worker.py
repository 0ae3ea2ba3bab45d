"""The loop that works through bulk-award jobs, in the service process (and in `microcred
import`). Several processes may run it against one database: leases keep them off each other's
jobs, and a job whose worker died is picked up when its lease lapses."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..awards.service import Signing
from ..db.errors import is_unavailable
from .service import LEASE, claim_job, fail_next_row, hand_back, process_chunk

__all__ = ["JobRunner"]

log = logging.getLogger("microcred.jobs")


class JobRunner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        signing: Signing,
        *,
        chunk_rows: int = 250,
        poll_seconds: float = 1.0,
        lease: timedelta = LEASE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sessions, self.signing = sessions, signing
        self.chunk_rows, self.poll_seconds, self.lease, self.clock = chunk_rows, poll_seconds, lease, clock
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.wake = asyncio.Event()

    async def run_job(self, job_id: str, *, max_chunks: int | None = None) -> bool:
        """Work on a job we hold until it is done (True) or ``max_chunks`` ran (False). Stopped
        (cancelled), we hand the job back so that another worker goes on with it at once."""
        try:
            return await self._run_job(job_id, max_chunks=max_chunks)
        except asyncio.CancelledError:
            await asyncio.shield(self._hand_back(job_id))
            raise

    async def _hand_back(self, job_id: str) -> None:
        try:
            async with self.sessions() as session, session.begin():
                await hand_back(session, job_id=job_id, owner=self.owner, now=self.clock())
        except Exception:  # the database is gone too: the lease lapses on its own
            log.warning("could not hand job %s back; another worker takes it when its lease lapses", job_id)

    async def _run_job(self, job_id: str, *, max_chunks: int | None) -> bool:
        chunks = 0
        while max_chunks is None or chunks < max_chunks:
            try:
                more = await self._chunk(job_id, self.chunk_rows)
            except Exception as exc:
                if is_unavailable(exc):  # no fault of a row: the job waits for its lease and retries
                    raise
                log.exception("a chunk of job %s failed; awarding its rows one by one", job_id)
                more = await self._one_by_one(job_id, self.chunk_rows)
            chunks += 1
            if not more:
                return True
            await asyncio.sleep(0)  # let requests in this process through between chunks
        return False

    async def _chunk(self, job_id: str, size: int) -> bool:
        async with self.sessions() as session, session.begin():
            return await process_chunk(
                session, signing=self.signing, job_id=job_id, owner=self.owner, size=size, now=self.clock(), lease=self.lease
            )

    async def _one_by_one(self, job_id: str, rows: int) -> bool:
        """Award ``rows`` rows alone, each in its own transaction, so the one that breaks its
        chunk fails alone (with its error) and the others are awarded. Without this, a row
        nobody foresaw would fail its chunk on every lease, for ever, and the job with it."""
        more = True
        for _ in range(rows):
            try:
                more = await self._chunk(job_id, 1)
            except Exception as exc:
                if is_unavailable(exc):  # no fault of a row: the job waits for its lease and retries
                    raise
                log.exception("a row of job %s cannot be awarded; it is marked failed", job_id)
                error = {"status": 500, "detail": f"this row could not be awarded ({type(exc).__name__}); the other rows were not held up"}
                async with self.sessions() as session, session.begin():
                    more = await fail_next_row(session, job_id=job_id, owner=self.owner, error=error, now=self.clock(), lease=self.lease)
            if not more:
                break
        return more

    async def run_once(self) -> str | None:
        """Claim one job that needs work and finish it; the job's id, or None if there was none."""
        async with self.sessions() as session, session.begin():
            job_id = await claim_job(session, owner=self.owner, now=self.clock(), lease=self.lease)
        if job_id is not None:
            await self.run_job(job_id)
        return job_id

    async def run_forever(self) -> None:
        while True:
            try:
                while await self.run_once() is not None:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not stop the loop; the lease lets us retry
                log.exception("bulk-award worker failed; retrying")
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass

