from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import ApiClient, AuditChainHead, AuditEntry, StaffMember
from .chain import GENESIS

__all__ = ["AuditFilter", "AuditRepository"]

_HEAD_ID = 1
_LOCK_HEAD = select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == _HEAD_ID).with_for_update()
_FIRST_HEAD = {
    name: dialect_insert(AuditChainHead).values(id=_HEAD_ID, seq=0, hash=GENESIS).on_conflict_do_nothing(index_elements=["id"])
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
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

    async def lock_head(self) -> tuple[int, str]:
        """The chain's last (seq, hash), locked until the transaction ends: appends take turns
        here. On SQLite every write transaction is already exclusive (BEGIN IMMEDIATE)."""
        head = (await self.session.execute(_LOCK_HEAD)).first()
        if head is None:
            # The first append ever (or after the table was emptied): two first appends racing
            # meet at the primary key, and the loser then waits on the winner's row lock.
            dialect = (await self.session.connection()).dialect.name
            await self.session.execute(_FIRST_HEAD[dialect])
            head = (await self.session.execute(_LOCK_HEAD)).one()
        return int(head.seq), str(head.hash)

    async def head(self) -> tuple[int, str] | None:
        row = (await self.session.execute(select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == _HEAD_ID))).first()
        return (int(row.seq), str(row.hash)) if row is not None else None

    async def append(self, rows: Sequence[dict[str, Any]], *, head: tuple[int, str]) -> None:
        for start in range(0, len(rows), _INSERT_BATCH):
            await self.session.execute(insert(AuditEntry), list(rows[start : start + _INSERT_BATCH]))
        seq, hash_ = head
        await self.session.execute(update(AuditChainHead).where(AuditChainHead.id == _HEAD_ID).values(seq=seq, hash=hash_))

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

    async def after(self, seq: int, *, limit: int, issuer_id: str | None = None) -> Sequence[AuditEntry]:
        """Entries after ``seq`` in chain order (of one issuer, if given)."""
        statement = select(AuditEntry).where(AuditEntry.seq > seq)
        if issuer_id is not None:
            statement = statement.where(AuditEntry.issuer_id == issuer_id)
        return (await self.session.scalars(statement.order_by(AuditEntry.seq).limit(limit))).all()

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
