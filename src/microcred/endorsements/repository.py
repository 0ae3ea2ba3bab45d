from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Endorsement

__all__ = ["EndorsementRepository"]

# Built once: it runs on every award.
_STANDING = (
    select(Endorsement.subject_achievement_id, Endorsement.document)
    .where(
        Endorsement.subject_issuer_id == bindparam("issuer_id"),
        Endorsement.revoked_at.is_(None),
        or_(Endorsement.valid_until.is_(None), Endorsement.valid_until > bindparam("now")),
    )
    .order_by(Endorsement.created_at, Endorsement.id)
)


class EndorsementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, issuer_id: str, endorsement_id: str, *, for_update: bool = False) -> Endorsement | None:
        statement = select(Endorsement).where(Endorsement.id == endorsement_id, Endorsement.issuer_id == issuer_id)
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def by_id(self, endorsement_id: str) -> Endorsement | None:
        return await self.session.get(Endorsement, endorsement_id)

    async def by_endorser(self, issuer_id: str) -> Sequence[Endorsement]:
        statement = select(Endorsement).where(Endorsement.issuer_id == issuer_id).order_by(Endorsement.created_at, Endorsement.id)
        return (await self.session.scalars(statement)).all()

    async def standing(self, subject_issuer_id: str, *, now: datetime) -> list[tuple[str | None, dict[str, Any]]]:
        """(achievement id or None for the profile, signed document) of every endorsement of the
        issuer and its achievements that is neither revoked nor lapsed, oldest first."""
        rows = await self.session.execute(_STANDING, {"issuer_id": subject_issuer_id, "now": now})
        return [(achievement_id, document) for achievement_id, document in rows]

    async def add(self, endorsement: Endorsement) -> None:
        self.session.add(endorsement)
        await self.session.flush()
