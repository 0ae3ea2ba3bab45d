"""Queries for staff passkeys, their WebAuthn challenges, and issuers that require passkeys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import PasskeyChallenge, PasskeyRequirement, StaffPasskey, StaffSessionPasskey

__all__ = ["PasskeyRepository"]


class PasskeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: StaffPasskey | PasskeyChallenge | PasskeyRequirement | StaffSessionPasskey) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def of_member(self, staff_id: str) -> Sequence[StaffPasskey]:
        return (await self.session.scalars(select(StaffPasskey).where(StaffPasskey.staff_id == staff_id).order_by(StaffPasskey.created_at))).all()

    async def count_of_member(self, staff_id: str) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(StaffPasskey).where(StaffPasskey.staff_id == staff_id)) or 0)

    async def by_credential_id(self, credential_id: str) -> StaffPasskey | None:
        return await self.session.scalar(select(StaffPasskey).where(StaffPasskey.credential_id == credential_id))

    async def get(self, passkey_id: str) -> StaffPasskey | None:
        return await self.session.get(StaffPasskey, passkey_id)

    async def remove(self, passkey: StaffPasskey) -> None:
        await self.session.delete(passkey)
        await self.session.flush()

    async def take_challenge(self, challenge_hash: str, *, purpose: str, staff_id: str | None, now: datetime) -> bool:
        """Use a challenge up: True when it was handed out for this purpose (and member) and had
        not expired. One DELETE, so two answers racing on two workers cannot both use it."""
        taken = await self.session.execute(
            delete(PasskeyChallenge)
            .where(
                PasskeyChallenge.challenge_hash == challenge_hash,
                PasskeyChallenge.purpose == purpose,
                PasskeyChallenge.staff_id.is_(None) if staff_id is None else PasskeyChallenge.staff_id == staff_id,
                PasskeyChallenge.expires_at > now,
            )
            .execution_options(synchronize_session=False)
        )
        return getattr(taken, "rowcount", 0) == 1

    async def drop_expired_challenges(self, now: datetime) -> None:
        await self.session.execute(delete(PasskeyChallenge).where(PasskeyChallenge.expires_at <= now).execution_options(synchronize_session=False))

    async def requirement(self, issuer_id: str) -> PasskeyRequirement | None:
        return await self.session.get(PasskeyRequirement, issuer_id)

    async def drop_requirement(self, requirement: PasskeyRequirement) -> None:
        await self.session.delete(requirement)
        await self.session.flush()

    async def confirm_session(self, token_hash: str, passkey_id: str, now: datetime) -> None:
        await self.session.execute(delete(StaffSessionPasskey).where(StaffSessionPasskey.token_hash == token_hash))
        await self.add(StaffSessionPasskey(token_hash=token_hash, passkey_id=passkey_id, verified_at=now))

    async def session_confirmed(self, token_hash: str) -> bool:
        return await self.session.get(StaffSessionPasskey, token_hash) is not None
