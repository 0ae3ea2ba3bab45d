"""Appending to the audit chain, checking it, and reading it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal, Scope
from ..db.models import AuditEntry
from ..events import Event
from ..issuers.repository import IssuerRepository
from ..problems import NotFound
from .chain import GENESIS, entry_hash
from .repository import AuditFilter, AuditRepository
from .schemas import AuditEntryOut, AuditPage


__all__ = ["AuditFilter", "ChainBreak", "ChainReport", "actor_names", "append", "entry_out", "list_entries", "staff_actor", "verify_chain"]

#: The safe integer range of JSON numbers (RFC 8785 refuses larger integers).
_SAFE_INTEGER = 2**53 - 1
#: Entries read at a time while checking the chain.
_VERIFY_BATCH = 2000


def _json_value(value: Any) -> Any:
    """``value`` as the JSON the audit log stores and hashes: datetimes as ISO text, integers
    beyond JSON's safe range as text; anything else that is not JSON is a programming error."""
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if -_SAFE_INTEGER <= value <= _SAFE_INTEGER else str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("audit data cannot hold NaN or infinity")
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"audit data must be JSON values, not {type(value).__name__}")


def _stored(data: dict[str, Any]) -> dict[str, Any]:
    # Through JSON once, so what is hashed is exactly what the database will hand back.
    stored: dict[str, Any] = json.loads(json.dumps(_json_value(data)))
    return stored


async def append(session: AsyncSession, events: Sequence[Event]) -> None:
    """Add ``events`` to the end of the chain, in order, as one append (see AuditChainHead)."""
    if not events:
        return
    repository = AuditRepository(session)
    seq, prev_hash = await repository.lock_head()
    rows = []
    for event in events:
        seq += 1
        fields: dict[str, Any] = {
            "seq": seq,
            "event_id": event.id,
            "at": event.at,
            "issuer_id": event.issuer_id,
            "actor": event.actor,
            "action": event.type,
            "subject": event.subject,
            "data": _stored({**event.data, **event.private}),
        }
        digest = entry_hash(**fields, prev_hash=prev_hash)
        rows.append({**fields, "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    await repository.append(rows, head=(seq, prev_hash))


@dataclass(frozen=True)
class ChainBreak:
    """The first entry at which the chain no longer holds, and how."""

    seq: int
    reason: str
    entry: AuditEntry | None = None

    def describe(self, *, for_issuer: str | None = None) -> str:
        """In words; ``for_issuer``: for that issuer's staff, who learn nothing of another
        issuer's entry but its number."""
        if self.entry is None or (for_issuer is not None and self.entry.issuer_id != for_issuer):
            return f"entry {self.seq}: {self.reason}"
        e = self.entry
        return f"entry {self.seq} ({e.action} of {e.subject} by {e.actor} at {e.at.isoformat()}, event {e.event_id}): {self.reason}"


@dataclass(frozen=True)
class ChainReport:
    checked: int
    head_hash: str
    broken: ChainBreak | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None


def _recomputed(entry: AuditEntry) -> str:
    return entry_hash(
        seq=entry.seq,
        event_id=entry.event_id,
        at=entry.at,
        issuer_id=entry.issuer_id,
        actor=entry.actor,
        action=entry.action,
        subject=entry.subject,
        data=entry.data,
        prev_hash=entry.prev_hash,
    )


async def verify_chain(session: AsyncSession) -> ChainReport:
    """Walk the whole chain from the first entry: numbers without gaps, each entry linked to the
    one before, each hash matching the entry's contents, and the last entry being the head."""
    repository = AuditRepository(session)
    expected, prev_hash, checked = 1, GENESIS, 0
    while True:
        batch = await repository.after(expected - 1, limit=_VERIFY_BATCH)
        for entry in batch:
            if entry.seq != expected:
                missing = f"entry {expected}" if entry.seq == expected + 1 else f"entries {expected} to {entry.seq - 1}"
                return ChainReport(checked, prev_hash, ChainBreak(expected, f"{missing} missing (removed); the chain resumes at entry {entry.seq}"))
            if entry.prev_hash != prev_hash:
                return ChainReport(
                    checked, prev_hash, ChainBreak(entry.seq, "not linked to the entry before it (an entry was inserted, removed or moved)", entry)
                )
            if _recomputed(entry) != entry.hash:
                return ChainReport(checked, prev_hash, ChainBreak(entry.seq, "its contents were changed after it was written (hash mismatch)", entry))
            prev_hash, expected, checked = entry.hash, expected + 1, checked + 1
        if len(batch) < _VERIFY_BATCH:
            break
    head = await repository.head()
    last = expected - 1
    if head is None and last > 0:
        return ChainReport(checked, prev_hash, ChainBreak(last, "the chain head is missing"))
    if head is not None and head != (last, prev_hash):
        if head[0] > last:
            reason = f"entries {last + 1} to {head[0]} missing (removed from the end)"
            return ChainReport(checked, prev_hash, ChainBreak(last + 1, reason))
        return ChainReport(checked, prev_hash, ChainBreak(head[0], f"the chain head names entry {head[0]}, not the last entry {last}"))
    return ChainReport(checked, prev_hash)


def entry_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        seq=entry.seq,
        event_id=entry.event_id,
        at=entry.at,
        issuer_id=entry.issuer_id,
        actor=entry.actor,
        action=entry.action,
        subject=entry.subject,
        data=entry.data,
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )


async def list_entries(
    session: AsyncSession,
    *,
    principal: Principal,
    issuer_id: str | None,
    before: int | None = None,
    limit: int = 100,
    admin_view: bool = False,
    where: AuditFilter | None = None,
    scope: Scope | None = "manage",
) -> AuditPage:
    """Newest first, those ``where`` lets through (all without it), a page of ``limit`` at a
    time (``next_before`` gives the next). The admin view reads the whole log (or one issuer's
    part, ``issuer_id``); otherwise ``issuer_id``'s entries, for a caller with ``scope`` on it
    (None: any caller of the issuer, as a console viewer).

    A filter reads the issuer's entries from ``before`` downwards (the index is on issuer and
    seq) until it has a page of matches: one that few entries match reads far."""
    if admin_view:
        principal.require_admin()
    elif issuer_id is None:
        raise ValueError("an issuer's view of the log needs issuer_id")
    else:
        if scope is None:
            principal.check_issuer(issuer_id)
        else:
            principal.require(issuer_id, scope)
        if await IssuerRepository(session).get(issuer_id) is None:
            raise NotFound(f"no issuer {issuer_id!r}")
    entries = await AuditRepository(session).before(before, limit=limit + 1, issuer_id=issuer_id, where=where)
    page = entries[:limit]
    return AuditPage(items=[entry_out(e) for e in page], next_before=page[-1].seq if len(entries) > limit and page else None)


async def actor_names(session: AsyncSession, actors: Sequence[str]) -> dict[str, str]:
    """What to call each actor on a page: a staff member's email, an API key's name."""
    return await AuditRepository(session).actor_names(sorted(set(actors)))


async def staff_actor(session: AsyncSession, email: str) -> str | None:
    """The ``actor`` of the entries a staff member made (``staff:<id>``), by their email."""
    return await AuditRepository(session).staff_actor(email)
