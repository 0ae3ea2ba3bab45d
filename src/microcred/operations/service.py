"""What a scrape of /metrics reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.errors import is_unavailable
from .metrics import exposition
from .repository import Backlog, BacklogRepository

__all__ = ["scrape"]


async def scrape(session: AsyncSession, *, now: datetime) -> bytes:
    """The Prometheus text: the counted metrics and the backlogs as they stand at ``now``. With
    the database out of reach the counted metrics still go out (the 503s of an outage are what
    an operator wants to see then), with ``microcred_database_up`` 0 and no backlog."""
    backlog: Backlog | None
    try:
        backlog = await BacklogRepository(session).backlog()
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        await session.rollback()
        backlog = None
    return exposition(backlog, now=now)
