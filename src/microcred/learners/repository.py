from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Learner, LearnerSession, SignInLink

__all__ = ["LearnerRepository"]


class LearnerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: Learner | SignInLink | LearnerSession) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def get(self, learner_id: str) -> Learner | None:
        return await self.session.get(Learner, learner_id)

    async def by_email(self, email: str) -> Learner | None:
        return await self.session.scalar(select(Learner).where(Learner.email == email))

    async def pending_links(self, email: str, now: datetime) -> int:
        """Sign-in links sent to ``email`` that still work."""
        count = await self.session.scalar(
            select(func.count()).select_from(SignInLink).where(SignInLink.email == email, SignInLink.used_at.is_(None), SignInLink.expires_at > now)
        )
        return int(count or 0)

    async def usable_link(self, token_hash: str, now: datetime) -> SignInLink | None:
        """A sign-in link that still works, left unused."""
        link = await self.session.get(SignInLink, token_hash)
        return None if link is None or link.used_at is not None or link.expires_at <= now else link

    async def claim_link(self, token_hash: str, now: datetime) -> SignInLink | None:
        """Use a sign-in link up, if it still works; None otherwise (unknown, used or expired).
        One statement, so a link opened twice at once signs in once."""
        link = await self.session.get(SignInLink, token_hash)
        if link is None or link.used_at is not None or link.expires_at <= now:
            return None
        claimed = await self.session.execute(
            update(SignInLink)
            .where(SignInLink.token_hash == token_hash, SignInLink.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return link if getattr(claimed, "rowcount", 0) == 1 else None

    async def session_learner(self, token_hash: str, now: datetime) -> Learner | None:
        return await self.session.scalar(
            select(Learner)
            .join(LearnerSession, LearnerSession.learner_id == Learner.id)
            .where(LearnerSession.token_hash == token_hash, LearnerSession.expires_at > now)
        )

    async def end_session(self, token_hash: str) -> None:
        await self.session.execute(delete(LearnerSession).where(LearnerSession.token_hash == token_hash))
