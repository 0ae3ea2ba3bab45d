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
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..awards.service import Signing
from .service import claim_job, process_chunk

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
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sessions, self.signing = sessions, signing
        self.chunk_rows, self.poll_seconds, self.clock = chunk_rows, poll_seconds, clock
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.wake = asyncio.Event()

    async def run_job(self, job_id: str, *, max_chunks: int | None = None) -> bool:
        """Work on a job we hold until it is done (True) or ``max_chunks`` ran (False)."""
        chunks = 0
        while max_chunks is None or chunks < max_chunks:
            async with self.sessions() as session, session.begin():
                more = await process_chunk(
                    session, signing=self.signing, job_id=job_id, owner=self.owner, size=self.chunk_rows, now=self.clock()
                )
            chunks += 1
            if not more:
                return True
            await asyncio.sleep(0)  # let requests in this process through between chunks
        return False

    async def run_once(self) -> str | None:
        """Claim one job that needs work and finish it; the job's id, or None if there was none."""
        async with self.sessions() as session, session.begin():
            job_id = await claim_job(session, owner=self.owner, now=self.clock())
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
