"""The hash that links audit entries: SHA-256 over the RFC 8785 (JCS) encoding of an entry's
fields and the hash of the entry before it.

JCS gives one byte string for one JSON value whatever the database handed back (key order,
number spelling, escapes), so the hash computed at append time is recomputed exactly when the
chain is checked years later.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import rfc8785

__all__ = ["GENESIS", "entry_hash", "timestamp"]

#: The ``prev_hash`` of the first entry.
GENESIS = "0" * 64


def timestamp(at: datetime) -> str:
    """``at`` as the hash sees it: UTC, ISO 8601 with microseconds (what both databases keep)."""
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    *,
    seq: int,
    event_id: str,
    at: datetime,
    issuer_id: str | None,
    actor: str,
    action: str,
    subject: str,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    """The hex SHA-256 of one entry, linked to the one before it by ``prev_hash``."""
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
    return hashlib.sha256(rfc8785.dumps(fields)).hexdigest()
