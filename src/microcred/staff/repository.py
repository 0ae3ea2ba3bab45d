from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Issuer, StaffMember, StaffRole, StaffSession, StaffSignInAttempt, StaffSignInLink

__all__ = ["StaffRepository"]

#: The first half of the two-part advisory lock key: "sign-in attempts" in this service's locks.
_ATTEMPTS_CLASS = 0x6D63_5301
_HOLD_ATTEMPTS = select(func.pg_advisory_xact_lock(_ATTEMPTS_CLASS, func.hashtext(bindparam("key"))))
_PRUNE_TURN = select(func.pg_try_advisory_xact_lock(_ATTEMPTS_CLASS + 1, 0))


class StaffRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: StaffMember | StaffRole | StaffSession | StaffSignInLink | StaffSignInAttempt) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def get(self, staff_id: str) -> StaffMember | None:
        return await self.session.get(StaffMember, staff_id)

    async def by_email(self, email: str) -> StaffMember | None:
        return await self.session.scalar(select(StaffMember).where(StaffMember.email == email))

    async def role(self, staff_id: str, issuer_id: str) -> StaffRole | None:
        return await self.session.get(StaffRole, (staff_id, issuer_id))

    async def issuers_of(self, member: StaffMember) -> Sequence[tuple[Issuer, str]]:
        """The issuers a member acts for, with their role (every issuer, as owner, for an admin)."""
        if member.is_admin:
            issuers = (await self.session.scalars(select(Issuer).order_by(Issuer.name, Issuer.id))).all()
            return [(issuer, "owner") for issuer in issuers]
        rows = await self.session.execute(
            select(Issuer, StaffRole.role).join(StaffRole, StaffRole.issuer_id == Issuer.id).where(StaffRole.staff_id == member.id).order_by(Issuer.name, Issuer.id)
        )
        return [(row[0], row[1]) for row in rows]

    async def attempts_for_address(self, address_hash: str, since: datetime) -> int:
        count = await self.session.scalar(
            select(func.count()).select_from(StaffSignInAttempt).where(StaffSignInAttempt.address_hash == address_hash, StaffSignInAttempt.at > since)
        )
        return int(count or 0)

    async def hold_attempts(self, key: str) -> None:
        """Count-then-add of sign-in attempts under ``key`` (a client's or an address's hash) is
        one step, across workers: on PostgreSQL a transaction-scoped advisory lock (two requests
        at the same moment would otherwise both see the count below the limit); on SQLite every
        write transaction is already exclusive."""
        if (await self.session.connection()).dialect.name == "postgresql":
            await self.session.execute(_HOLD_ATTEMPTS, {"key": key})

    async def prune_attempts(self, before: datetime) -> None:
        """Forget attempts older than the limits look back (the table holds one window's worth).
        On PostgreSQL one transaction at a time does it (the others skip it), so requests at the
        same moment do not wait on, or deadlock over, deleting the same old rows."""
        if (await self.session.connection()).dialect.name == "postgresql" and not await self.session.scalar(_PRUNE_TURN):
            return
        await self.session.execute(delete(StaffSignInAttempt).where(StaffSignInAttempt.at <= before).execution_options(synchronize_session=False))

    async def attempts_from_client(self, client_hash: str, since: datetime) -> int:
        count = await self.session.scalar(
            select(func.count()).select_from(StaffSignInAttempt).where(StaffSignInAttempt.client_hash == client_hash, StaffSignInAttempt.at > since)
        )
        return int(count or 0)

    async def usable_link(self, token_hash: str, now: datetime) -> StaffSignInLink | None:
        link = await self.session.get(StaffSignInLink, token_hash)
        return None if link is None or link.used_at is not None or link.expires_at <= now else link

    async def claim_link(self, token_hash: str, now: datetime) -> StaffSignInLink | None:
        """Use a link up if it still works; one statement, so a link opened twice signs in once."""
        link = await self.usable_link(token_hash, now)
        if link is None:
            return None
        claimed = await self.session.execute(
            update(StaffSignInLink)
            .where(StaffSignInLink.token_hash == token_hash, StaffSignInLink.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return link if getattr(claimed, "rowcount", 0) == 1 else None

    async def session_row(self, token_hash: str) -> tuple[StaffSession, StaffMember] | None:
        row = (
            await self.session.execute(
                select(StaffSession, StaffMember).join(StaffMember, StaffMember.id == StaffSession.staff_id).where(StaffSession.token_hash == token_hash)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def touch_session(self, token_hash: str, now: datetime) -> None:
        await self.session.execute(update(StaffSession).where(StaffSession.token_hash == token_hash).values(last_seen_at=now))

    async def end_session(self, token_hash: str) -> None:
        await self.session.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash))
