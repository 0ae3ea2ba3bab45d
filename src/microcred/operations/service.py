"""What a scrape of /metrics reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from .metrics import exposition
from .repository import BacklogRepository

__all__ = ["scrape"]


async def scrape(session: AsyncSession, *, now: datetime) -> bytes:
    """The Prometheus text: the counted metrics and the backlogs as they stand at ``now``."""
    return exposition(await BacklogRepository(session).backlog(), now=now)
