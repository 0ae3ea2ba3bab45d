"""Handing out status list indexes: random (a keyed permutation of a counter), never twice.

On PostgreSQL each worker reserves a block of counters in a short transaction of its own and
hands them out from memory, so concurrent awards on many workers meet on the list row once per
block, not once per award. Counters reserved by a worker that stops are simply never used. On
SQLite every write transaction is exclusive anyway, so indexes are reserved in the award's own
transaction, one by one.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..credentials.status_index import IndexPermutation
from ..credentials.status_list import MIN_LENGTH
from ..db.base import new_id
from ..db.models import Issuer, StatusList
from . import combined

__all__ = ["Slot", "StatusAllocator", "StatusSlots"]


@dataclass(frozen=True)
class Slot:
    list_id: str
    index: int
    #: The list's statusPurpose: revocation, suspension, or message (both in one entry, see status.combined).
    purpose: str = "revocation"


#: A credential's status list slots: revocation (or the combined message entry), and a separate
#: suspension entry for credentials that carry two.
StatusSlots = tuple[Slot, Slot | None]


async def _reserve(session: AsyncSession, issuer_id: str, purpose: str, count: int, length: int) -> list[Slot]:
    """``count`` unused slots of the issuer's open list for ``purpose``, opening lists as they fill."""
    slots: list[Slot] = []
    while len(slots) < count:
        status_list = await session.scalar(
            select(StatusList)
            .where(StatusList.issuer_id == issuer_id, StatusList.purpose == purpose, StatusList.next_slot < StatusList.length)
            .order_by(StatusList.created_at, StatusList.id)
            .limit(1)
            .with_for_update(key_share=True)  # FOR NO KEY UPDATE: awards' foreign keys to it go on
        )
        if status_list is None:
            combined_list = purpose == combined.PURPOSE
            status_list = StatusList(
                id=new_id(),
                issuer_id=issuer_id,
                purpose=purpose,
                # A combined list holds ``length`` two-bit entries, of which the upper half is handed out.
                length=length // 2 if combined_list else length,
                next_slot=0,
                permutation_key=os.urandom(32),
                bits=bytes(combined.list_bytes(length) if combined_list else length // 8),
            )
            session.add(status_list)
        start = status_list.next_slot
        taken = min(count - len(slots), status_list.length - start)
        status_list.next_slot = start + taken
        permutation = IndexPermutation(status_list.permutation_key, status_list.length)
        # Combined lists hand out the upper half (status.combined); ``length`` is their half.
        offset = status_list.length if purpose == combined.PURPOSE else 0
        slots.extend(
            Slot(status_list.id, offset + permutation.index(counter), purpose) for counter in range(start, start + taken)
        )
        await session.flush()
    return slots


class StatusAllocator:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, block: int = 64, length: int = MIN_LENGTH) -> None:
        self.sessions, self.block, self.length = sessions, block, length
        self._free: dict[tuple[str, str], deque[Slot]] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def take(self, session: AsyncSession, issuer_id: str, purpose: str, count: int = 1) -> list[Slot]:
        """``count`` slots for credentials being awarded in ``session``'s transaction."""
        if count <= 0:
            return []
        if (await session.connection()).dialect.name != "postgresql":
            return await _reserve(session, issuer_id, purpose, count, self.length)
        key = (issuer_id, purpose)
        async with self._locks.setdefault(key, asyncio.Lock()):
            free = self._free.setdefault(key, deque())
            if len(free) < count:
                async with self.sessions() as own, own.begin():
                    free.extend(await _reserve(own, issuer_id, purpose, max(self.block, count - len(free)), self.length))
            return [free.popleft() for _ in range(count)]

    async def slots_for(
        self, session: AsyncSession, issuer: Issuer, count: int = 1, *, separate_suspension: bool = False
    ) -> list[StatusSlots]:
        """Each of ``count`` credentials' slots: revocation alone, or, when ``issuer`` offers
        suspension, one combined slot for both (an OB 3.0 credential may carry one status
        entry), or with ``separate_suspension`` a revocation and a suspension slot (VC-API
        credentials, which VC 2.0 lets carry several)."""
        if issuer.offers_suspension and not separate_suspension:
            return [(slot, None) for slot in await self.take(session, issuer.id, combined.PURPOSE, count)]
        revocations = await self.take(session, issuer.id, "revocation", count)
        if not issuer.offers_suspension:
            return [(slot, None) for slot in revocations]
        suspensions = await self.take(session, issuer.id, "suspension", count)
        return list(zip(revocations, suspensions, strict=True))
