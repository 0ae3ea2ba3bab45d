"""The hash that links audit entries: SHA-256 over the RFC 8785 (JCS) encoding of an entry's
fields and the hash of the entry before it in its chain.

JCS gives one byte string for one JSON value whatever the database handed back (key order,
number spelling, escapes), so the hash computed at append time is recomputed exactly when the
chain is checked years later.

Each issuer's entries form a chain of their own, and entries without an issuer (service-wide
actions) another, so appends for different issuers never take turns at one head. Entries
written when the whole service had one chain keep that chain (:data:`LEGACY`) and the hash they
were written with, which covers neither ``chain`` nor ``chain_seq``; the first entry of every
later chain links to that chain's last hash.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import rfc8785

__all__ = ["GENESIS", "LEGACY", "SERVICE", "chain_of", "entry_hash", "issuer_of", "timestamp"]

#: The ``prev_hash`` of the first entry of the legacy chain, and of every chain when there is none.
GENESIS = "0" * 64
#: The chain of the entries written before there were per-issuer chains: the whole service's.
LEGACY = "legacy"
#: The chain of the entries that belong to no issuer (admin clients, staff, service-wide changes).
SERVICE = "service"
_ISSUER_PREFIX = "issuer:"


def chain_of(issuer_id: str | None) -> str:
    """The chain an entry of ``issuer_id`` (None: of no issuer) is appended to."""
    return SERVICE if issuer_id is None else _ISSUER_PREFIX + issuer_id


def issuer_of(chain: str) -> str | None:
    """The issuer whose chain ``chain`` is; None for the service's and the legacy chain."""
    return chain.removeprefix(_ISSUER_PREFIX) if chain.startswith(_ISSUER_PREFIX) else None


def timestamp(at: datetime) -> str:
    """``at`` as the hash sees it: UTC, ISO 8601 with microseconds (what both databases keep)."""
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    *,
    seq: int,
    chain: str,
    chain_seq: int,
    event_id: str,
    at: datetime,
    issuer_id: str | None,
    actor: str,
    action: str,
    subject: str,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    """The hex SHA-256 of one entry, linked to the one before it in its chain by ``prev_hash``.

    A legacy entry's hash is the one it was written with: its ``seq`` was its place in the one
    chain (so equals its ``chain_seq``), and neither ``chain`` nor ``chain_seq`` was hashed."""
    fields: dict[str, Any] = {
        "seq": seq,
        "event_id": event_id,
        "at": timestamp(at),
        "issuer_id": issuer_id,
        "actor": actor,
        "action": action,
        "subject": subject,
        "data": data,
        "prev_hash": prev_hash,
    }
    if chain != LEGACY:
        fields |= {"chain": chain, "chain_seq": chain_seq}
    return hashlib.sha256(rfc8785.dumps(fields)).hexdigest()
