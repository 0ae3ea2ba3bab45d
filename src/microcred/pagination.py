"""Keyset cursors: the last row's (timestamp, id), opaque to clients, validated on the way back.

A cursor is a client's input like any other: one holding U+0000 (PostgreSQL compares no such
text), a timestamp without a zone or past year 9999 in UTC, or an id no row could have must be a
400 naming the parameter, never a failure deep in a query.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime

from .problems import BadRequest
from .schemas_common import to_utc

__all__ = ["decode_cursor", "encode_cursor"]

#: The ids this service gives out (uuid4 text).
_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def encode_cursor(at: datetime, row_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([at.isoformat(), row_id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, parameter: str = "cursor") -> tuple[datetime, str]:
    """The (timestamp, id) a cursor of ours holds, or 400 naming ``parameter``."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not (isinstance(decoded, list) and len(decoded) == 2 and all(isinstance(part, str) for part in decoded)):
            raise ValueError("not a pair of strings")
        at, row_id = decoded
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None or not _ID.match(row_id):
            raise ValueError("not a cursor of ours")
        return to_utc(parsed), row_id
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BadRequest(f"{parameter} is not one this service gave out", errors=[{"parameter": parameter, "detail": "invalid"}]) from exc
