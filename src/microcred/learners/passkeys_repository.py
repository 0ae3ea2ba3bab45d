"""Queries for learners' passkeys and their WebAuthn challenges."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import LearnerPasskey, LearnerPasskeyChallenge

__all__ = ["LearnerPasskeyRepository"]

#: Advisory locks of learners' passkey sign-in counts (PostgreSQL), one per client.
_SIGN_IN_CLASS = 0x6D63_5310
_HOLD_CLIENT = select(func.pg_advisory_xact_lock(_SIGN_IN_CLASS, func.hashtext(bindparam("key"))))


class LearnerPasskeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: LearnerPasskey | LearnerPasskeyChallenge) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def of_learner(self, learner_id: str) -> Sequence[LearnerPasskey]:
        found = await self.session.scalars(select(LearnerPasskey).where(LearnerPasskey.learner_id == learner_id).order_by(LearnerPasskey.created_at))
        return found.all()

    async def count_of_learner(self, learner_id: str) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(LearnerPasskey).where(LearnerPasskey.learner_id == learner_id)) or 0)

    async def by_credential_id(self, credential_id: str) -> LearnerPasskey | None:
        return await self.session.scalar(select(LearnerPasskey).where(LearnerPasskey.credential_id == credential_id))

    async def get(self, passkey_id: str) -> LearnerPasskey | None:
        return await self.session.get(LearnerPasskey, passkey_id)

    async def remove(self, passkey: LearnerPasskey) -> None:
        await self.session.delete(passkey)
        await self.session.flush()

    async def take_challenge(
        self, challenge_hash: str, *, purpose: str, learner_id: str | None = None, browser_hash: str | None = None, now: datetime
    ) -> bool:
        """Use a challenge up: True when it was handed out for this purpose, to this learner (a
        registration) or this browser (a sign-in), not used yet and not expired. One UPDATE, so
        two answers racing on two workers cannot both use it."""
        taken = await self.session.execute(
            update(LearnerPasskeyChallenge)
            .where(
                LearnerPasskeyChallenge.challenge_hash == challenge_hash,
                LearnerPasskeyChallenge.purpose == purpose,
                LearnerPasskeyChallenge.learner_id.is_(None) if learner_id is None else LearnerPasskeyChallenge.learner_id == learner_id,
                LearnerPasskeyChallenge.browser_hash.is_(None) if browser_hash is None else LearnerPasskeyChallenge.browser_hash == browser_hash,
                LearnerPasskeyChallenge.used_at.is_(None),
                LearnerPasskeyChallenge.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return getattr(taken, "rowcount", 0) == 1

    async def hold_client(self, client_hash: str) -> None:
        """Count-then-add of a client's sign-ins is one step across workers (on PostgreSQL; on
        SQLite every write transaction is exclusive already)."""
        if (await self.session.connection()).dialect.name == "postgresql":
            await self.session.execute(_HOLD_CLIENT, {"key": client_hash})

    async def prune_challenges(self, before: datetime) -> None:
        """Forget challenges made before ``before`` (kept that long for the sign-in count)."""
        await self.session.execute(
            delete(LearnerPasskeyChallenge).where(LearnerPasskeyChallenge.created_at <= before).execution_options(synchronize_session=False)
        )

    async def sign_ins_from_client(self, client_hash: str, since: datetime) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(LearnerPasskeyChallenge)
            .where(LearnerPasskeyChallenge.client_hash == client_hash, LearnerPasskeyChallenge.purpose == "sign_in", LearnerPasskeyChallenge.created_at > since)
        )
        return int(count or 0)
