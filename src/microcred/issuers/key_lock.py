"""Awards and key rotation agree on which key is current.

An award reads the issuer's current key, signs with it, and dates the proof with the time the
request began. Were a rotation to commit between the read and the signature, the proof would be
dated after its key's retirement and fail verification. So awards hold a shared lock on the
issuer's keys for their transaction, and a rotation takes it exclusively: it waits for awards in
flight and new awards wait for it.

On PostgreSQL these are transaction-scoped advisory locks, not a FOR SHARE lock on the issuer
row: every concurrent sharer of a row lock rewrites the row's lock word (a new MultiXact), and
under load the awards queued behind one another on that (bench/README.md). On SQLite every
write transaction is already exclusive (BEGIN IMMEDIATE), so there is nothing more to do.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["hold_for_rotation", "hold_for_signing"]

#: The first half of the two-part advisory lock key: "issuer keys" in this service's locks.
_CLASS = 0x6D63_6B01

_SHARED = select(func.pg_advisory_xact_lock_shared(_CLASS, func.hashtext(bindparam("issuer_id"))))
_EXCLUSIVE = select(func.pg_advisory_xact_lock(_CLASS, func.hashtext(bindparam("issuer_id"))))


async def hold_for_signing(session: AsyncSession, issuer_id: str) -> None:
    """Before reading the issuer's current key to sign with it."""
    if (await session.connection()).dialect.name == "postgresql":
        await session.execute(_SHARED, {"issuer_id": issuer_id})


async def hold_for_rotation(session: AsyncSession, issuer_id: str) -> None:
    """Before changing the issuer's current key."""
    if (await session.connection()).dialect.name == "postgresql":
        await session.execute(_EXCLUSIVE, {"issuer_id": issuer_id})
