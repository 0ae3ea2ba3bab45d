"""Appending to the audit chains, checking them, and reading the log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal, Scope
from ..db.models import AuditEntry
from ..events import Event
from ..issuers.repository import IssuerRepository
from ..problems import NotFound
from .chain import GENESIS, LEGACY, chain_of, entry_hash, issuer_of
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
    """Add ``events`` to the ends of their chains (their issuers'; the service's for events of no
    issuer), in order, as one append (see AuditChainHead)."""
    if not events:
        return
    repository = AuditRepository(session)
    chains = [chain_of(event.issuer_id) for event in events]
    heads = await repository.lock_heads(chains)
    # Numbered after the heads are locked, so a chain's entries are in the log in chain order.
    seqs = await repository.next_seqs(len(events))
    rows = []
    for event, chain, seq in zip(events, chains, seqs, strict=True):
        chain_seq, prev_hash = heads[chain]
        fields: dict[str, Any] = {
            "seq": seq,
            "chain": chain,
            "chain_seq": chain_seq + 1,
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
        heads[chain] = (chain_seq + 1, digest)
    await repository.append(rows, heads=heads)


def _chain_words(chain: str, *, for_issuer: str | None) -> str:
    if chain == LEGACY:
        return "the service's chain from before per-issuer chains"
    issuer_id = issuer_of(chain)
    if issuer_id is None:
        return "the service's own chain"
    if for_issuer is not None and issuer_id != for_issuer:
        return "a different issuer's chain"
    return f"issuer {issuer_id}'s chain"


@dataclass(frozen=True)
class ChainBreak:
    """The first entry of a chain at which it no longer holds, and how."""

    chain: str
    #: The entry's number in its chain (``chain_seq``).
    seq: int
    reason: str
    entry: AuditEntry | None = None

    def describe(self, *, for_issuer: str | None = None) -> str:
        """In words; ``for_issuer``: for that issuer's staff, who learn nothing of another
        issuer's entry but its number."""
        where = f"entry {self.seq} of {_chain_words(self.chain, for_issuer=for_issuer)}"
        if self.entry is None or (for_issuer is not None and self.entry.issuer_id != for_issuer):
            return f"{where}: {self.reason}"
        e = self.entry
        return f"{where} ({e.action} of {e.subject} by {e.actor} at {e.at.isoformat()}, event {e.event_id}): {self.reason}"


@dataclass(frozen=True)
class ChainReport:
    #: Entries found whole and in place (in chains up to their first break).
    checked: int
    chains: int
    #: The first break of each broken chain.
    breaks: tuple[ChainBreak, ...] = ()
    #: Each chain's head as its row says, (chain_seq, hash): worth a copy kept elsewhere.
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def intact(self) -> bool:
        return not self.breaks

    @property
    def broken(self) -> ChainBreak | None:
        return self.breaks[0] if self.breaks else None


def _recomputed(entry: AuditEntry) -> str:
    return entry_hash(
        seq=entry.seq,
        chain=entry.chain,
        chain_seq=entry.chain_seq,
        event_id=entry.event_id,
        at=entry.at,
        issuer_id=entry.issuer_id,
        actor=entry.actor,
        action=entry.action,
        subject=entry.subject,
        data=entry.data,
        prev_hash=entry.prev_hash,
    )


@dataclass
class _Walk:
    """One chain being checked, entry by entry."""

    chain: str
    prev_hash: str
    expected: int = 1
    checked: int = 0
    broken: ChainBreak | None = None

    def step(self, entry: AuditEntry) -> None:
        if self.broken is not None:
            return
        if entry.chain_seq != self.expected:
            missing = f"entry {self.expected}" if entry.chain_seq == self.expected + 1 else f"entries {self.expected} to {entry.chain_seq - 1}"
            self.broken = ChainBreak(self.chain, self.expected, f"{missing} missing (removed); the chain resumes at entry {entry.chain_seq}")
        elif entry.prev_hash != self.prev_hash:
            self.broken = ChainBreak(self.chain, entry.chain_seq, "not linked to the entry before it (an entry was inserted, removed or moved)", entry)
        elif _recomputed(entry) != entry.hash or (entry.chain != LEGACY and entry.chain != chain_of(entry.issuer_id)):
            self.broken = ChainBreak(self.chain, entry.chain_seq, "its contents were changed after it was written (hash mismatch)", entry)
        else:
            self.prev_hash, self.expected, self.checked = entry.hash, self.expected + 1, self.checked + 1

    def end(self, head: tuple[int, str] | None) -> ChainBreak | None:
        """The break, if any, once the chain's last entry was read; ``head``: its head row."""
        if self.broken is not None:
            return self.broken
        last = self.expected - 1
        if head is None:
            return ChainBreak(self.chain, last, "the chain head is missing") if last > 0 else None
        if head != (last, self.prev_hash):
            if head[0] > last:
                missing = f"entry {last + 1}" if head[0] == last + 1 else f"entries {last + 1} to {head[0]}"
                return ChainBreak(self.chain, last + 1, f"{missing} missing (removed from the end)")
            return ChainBreak(self.chain, head[0], f"the chain head names entry {head[0]}, not the last entry {last}")
        return None


async def verify_chain(session: AsyncSession) -> ChainReport:
    """Walk every chain from its first entry: numbers without gaps, each entry linked to the one
    before (a chain's first to where the legacy chain ends), each hash matching the entry's
    contents and chain, and the last entry being the chain's head."""
    repository = AuditRepository(session)
    heads = await repository.heads()
    # Every chain but the legacy one starts from the legacy chain's last hash (its head row,
    # written once by the migration that ended it; checked against the legacy entries below).
    anchor = heads[LEGACY][1] if LEGACY in heads else GENESIS
    walks: dict[str, _Walk] = {}
    after: tuple[str, int] | None = None
    while True:
        batch = await repository.in_chain_order(after, limit=_VERIFY_BATCH)
        for entry in batch:
            walk = walks.get(entry.chain)
            if walk is None:
                walk = walks[entry.chain] = _Walk(entry.chain, GENESIS if entry.chain == LEGACY else anchor)
            walk.step(entry)
        if len(batch) < _VERIFY_BATCH:
            break
        after = (batch[-1].chain, batch[-1].chain_seq)
    for chain in heads.keys() - walks.keys():  # a head whose entries are all gone
        walks[chain] = _Walk(chain, GENESIS if chain == LEGACY else anchor)
    breaks = tuple(broken for chain in sorted(walks) if (broken := walks[chain].end(heads.get(chain))) is not None)
    return ChainReport(checked=sum(walk.checked for walk in walks.values()), chains=len(walks), breaks=breaks, heads=heads)


def entry_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        seq=entry.seq,
        chain=entry.chain,
        chain_seq=entry.chain_seq,
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
