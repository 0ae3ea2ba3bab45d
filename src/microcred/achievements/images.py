"""An achievement's image, made ours before the achievement is saved (see microcred.images.service)."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from ..fetch import SafeFetcher
from ..images.service import keep_copy
from .schemas import AchievementCreate, AchievementUpdate

__all__ = ["with_own_image"]

Data = TypeVar("Data", AchievementCreate, AchievementUpdate)


async def with_own_image(session: AsyncSession, fetcher: SafeFetcher, data: Data, *, base_url: str) -> Data:
    """``data`` with its image replaced by our stored copy (unchanged when it names none)."""
    if data.image is None:
        return data
    own = await keep_copy(session, fetcher, str(data.image), base_url=base_url, pointer="/image")
    return data.model_copy(update={"image": own})  # the field holds the URL as text
