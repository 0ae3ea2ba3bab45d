from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import ApiClient, AuditChainHead, AuditEntry, StaffMember
from ..db.models.audit import AUDIT_LOG_SEQ
from .chain import GENESIS, LEGACY

__all__ = ["AuditFilter", "AuditRepository"]

_LOCK_HEAD = select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.chain == bindparam("chain")).with_for_update()
_OPEN_CHAIN = {
    name: dialect_insert(AuditChainHead)
    .values(chain=bindparam("chain"), seq=0, hash=bindparam("hash"))
    .on_conflict_do_nothing(index_elements=["chain"])
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
_LEGACY_HEAD = select(AuditChainHead.hash).where(AuditChainHead.chain == LEGACY)
#: Places in the log for a whole append at once (nextval never waits for another transaction).
_NEXT_SEQS = select(AUDIT_LOG_SEQ.next_value()).select_from(func.generate_series(1, bindparam("count")))
#: Rows per INSERT statement when a bulk chunk appends many entries.
_INSERT_BATCH = 1000


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to read. ``action`` matches exactly, or as a family when it ends in ``.*``
    (``credential.*``); ``since`` is inclusive and ``until`` exclusive."""

    action: str | None = None
    actor: str | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_heads(self, chains: Iterable[str]) -> dict[str, tuple[int, str]]:
        """Each chain's last (chain_seq, hash), locked until the transaction ends: appends to a
        chain take turns here, appends to other chains do not wait. Locked in one order (by
        name), so two transactions appending to the same two chains cannot wait for each other
        in a circle. On SQLite every write transaction is already exclusive (BEGIN IMMEDIATE)."""
        heads: dict[str, tuple[int, str]] = {}
        for chain in sorted(set(chains)):
            head = (await self.session.execute(_LOCK_HEAD, {"chain": chain})).first()
            if head is None:
                # The chain's first append (or the first after its head was removed): two first
                # appends racing meet at the primary key, and the loser then waits on the winner's
                # row lock. A new chain starts where the legacy chain ends.
                dialect = (await self.session.connection()).dialect.name
                anchor = await self.session.scalar(_LEGACY_HEAD)
                await self.session.execute(_OPEN_CHAIN[dialect], {"chain": chain, "hash": anchor or GENESIS})
                head = (await self.session.execute(_LOCK_HEAD, {"chain": chain})).one()
            heads[chain] = (int(head.seq), str(head.hash))
        return heads

    async def heads(self) -> dict[str, tuple[int, str]]:
        """Every chain's last (chain_seq, hash), as the head rows say."""
        rows = await self.session.execute(select(AuditChainHead.chain, AuditChainHead.seq, AuditChainHead.hash))
        return {str(chain): (int(seq), str(hash_)) for chain, seq, hash_ in rows}

    async def next_seqs(self, count: int) -> list[int]:
        """``count`` increasing places in the log for entries about to be appended."""
        if (await self.session.connection()).dialect.name == "postgresql":
            return [int(n) for n in await self.session.scalars(_NEXT_SEQS, {"count": count})]
        last = int(await self.session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0))) or 0)
        return list(range(last + 1, last + count + 1))

    async def append(self, rows: Sequence[dict[str, Any]], *, heads: dict[str, tuple[int, str]]) -> None:
        for start in range(0, len(rows), _INSERT_BATCH):
            await self.session.execute(insert(AuditEntry), list(rows[start : start + _INSERT_BATCH]))
        for chain, (seq, hash_) in heads.items():
            await self.session.execute(update(AuditChainHead).where(AuditChainHead.chain == chain).values(seq=seq, hash=hash_))

    async def actor_names(self, actors: Sequence[str]) -> dict[str, str]:
        """Words for actors: a staff member (``staff:<id>``) by email, an API key by its name."""
        staff = {a.removeprefix("staff:") for a in actors if a.startswith("staff:")}
        keys = {a for a in actors if not a.startswith("staff:")}
        names: dict[str, str] = {}
        if staff:
            for member_id, email in await self.session.execute(select(StaffMember.id, StaffMember.email).where(StaffMember.id.in_(staff))):
                names[f"staff:{member_id}"] = str(email)
        if keys:
            for client_id, name in await self.session.execute(select(ApiClient.id, ApiClient.name).where(ApiClient.id.in_(keys))):
                names[str(client_id)] = f"API key “{name}”"
        return names

    async def staff_actor(self, email: str) -> str | None:
        """The actor a staff member's entries carry, found by their email."""
        member_id = await self.session.scalar(select(StaffMember.id).where(StaffMember.email == email.strip().lower()))
        return f"staff:{member_id}" if member_id is not None else None

    async def in_chain_order(self, after: tuple[str, int] | None, *, limit: int) -> Sequence[AuditEntry]:
        """Entries chain by chain, each chain in its order, from after (chain, chain_seq)."""
        statement = select(AuditEntry)
        if after is not None:
            statement = statement.where(tuple_(AuditEntry.chain, AuditEntry.chain_seq) > tuple_(*after))
        return (await self.session.scalars(statement.order_by(AuditEntry.chain, AuditEntry.chain_seq).limit(limit))).all()

    async def before(
        self, seq: int | None, *, limit: int, issuer_id: str | None = None, where: AuditFilter | None = None
    ) -> Sequence[AuditEntry]:
        """Entries before ``seq`` (or the newest), newest first (of one issuer, if given; those
        ``where`` lets through, if given)."""
        where = where or AuditFilter()
        statement = select(AuditEntry)
        if seq is not None:
            statement = statement.where(AuditEntry.seq < seq)
        if issuer_id is not None:
            statement = statement.where(AuditEntry.issuer_id == issuer_id)
        if where.action is not None:
            if where.action.endswith(".*"):
                statement = statement.where(AuditEntry.action.startswith(where.action[:-1], autoescape=True))
            else:
                statement = statement.where(AuditEntry.action == where.action)
        if where.actor is not None:
            statement = statement.where(AuditEntry.actor == where.actor)
        if where.subject is not None:
            statement = statement.where(AuditEntry.subject == where.subject)
        if where.since is not None:
            statement = statement.where(AuditEntry.at >= where.since)
        if where.until is not None:
            statement = statement.where(AuditEntry.at < where.until)
        return (await self.session.scalars(statement.order_by(AuditEntry.seq.desc()).limit(limit))).all()
