"""XML Schema dateTimeStamp parsing and formatting, as VC 2.0 and Data Integrity use them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from .errors import MalformedError

__all__ = ["DATETIME_STAMP", "format_datetime", "parse_datetime"]

#: An XML Schema dateTimeStamp: digits and separators only, with a time zone.
DATETIME_STAMP = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)


def parse_datetime(value: object, *, field: str = "date-time") -> datetime:
    """Parse a dateTimeStamp (a time zone is required). Raises MalformedError."""
    if not isinstance(value, str) or not DATETIME_STAMP.match(value):
        raise MalformedError(f"{field} must be an XML Schema dateTimeStamp such as 2025-01-15T09:00:00Z, got {value!r}", pointer=field)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedError(f"{field} is not a valid date-time: {value!r}", pointer=field) from exc
    return parsed.astimezone(UTC)


def format_datetime(value: datetime) -> str:
    """UTC, second precision, ``Z`` suffix: the form every verifier reads the same way."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: give a timezone-aware value")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
