"""What the console's credential search offers to filter on, besides the learner: the issuer's
achievements by name."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ..achievements.repository import AchievementRepository
from ..auth.principal import Principal
from ..issuers.service import get_issuer

__all__ = ["achievement_names"]


async def achievement_names(session: AsyncSession, *, principal: Principal, issuer_id: str) -> dict[str, str]:
    """achievement id -> its name (drafts included: their names are what staff know them by)."""
    await get_issuer(session, principal=principal, issuer_id=issuer_id)
    return {
        a.id: str(a.definition.get("name") or a.id) for a in await AchievementRepository(session).for_issuer(issuer_id)
    }
