"""Small types shared by the API schemas of several features."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from .credentials.canonical import lossy_number

__all__ = ["ApiModel", "EARLIEST", "EmailAddress", "HttpUrl", "Instant", "Signable", "Slug", "Text", "contains_nul", "to_utc"]

_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("must be an email address like name@example.org")
    return value


#: The range every date the API takes must fall in once moved to UTC. The database, Python and
#: the credentials' dateTimeStamp all hold four-digit years; 1900 rules out typos like 0202.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def to_utc(value: datetime) -> datetime:
    """The same instant in UTC (a time without a zone is taken as UTC). Raises ValueError when
    the instant lies outside EARLIEST..LATEST, e.g. 9999-12-31T23:59:59-12:00, which is past the
    last moment a year of four digits can hold."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        moved = value.astimezone(UTC)
    except OverflowError:
        moved = None
    if moved is None or not EARLIEST <= moved <= LATEST:
        raise ValueError(f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%dT%H:%M:%SZ} once moved to UTC")
    return moved


def _instant(value: date | datetime) -> date | datetime:
    if isinstance(value, datetime):
        return to_utc(value)
    if not EARLIEST.date() <= value:
        raise ValueError(f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return value


class ApiModel(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error that names the field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """No text may hold U+0000: PostgreSQL cannot store it (SQLite would), so it is refused
        here, naming the field, on every backend alike. Nested models check their own fields."""
        if isinstance(value, str) and "\x00" in value or isinstance(value, list) and any(isinstance(v, str) and "\x00" in v for v in value):
            raise ValueError("must not contain the NUL character (U+0000)")
        return value


Text = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
HttpUrl = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_http_url)]
EmailAddress = Annotated[str, StringConstraints(max_length=320), AfterValidator(_email)]
#: A date (midnight UTC) or a date-time, checked for range and normalised to UTC on the way in,
#: so nothing later (signing, the database driver) meets an instant it cannot represent.
Instant = Annotated[date | datetime, AfterValidator(_instant)]


def _signable(value: float) -> float:
    if lossy_number(value):
        raise ValueError("JSON-LD processors read a non-integer this small (one significant digit, below 1e-6) as 0; no signature would protect it")
    return value


#: Marks a number a credential will carry (credits, hours): it must be one that every JSON-LD
#: processor reads as given, e.g. ``Annotated[float, Field(ge=0), Signable]``.
Signable = AfterValidator(_signable)
Slug = Annotated[str, Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$", description="lower-case letters, digits and dashes")]


def contains_nul(value: Any) -> bool:
    """Whether parsed JSON holds U+0000 in any member name or string (PostgreSQL stores none).
    Raises RecursionError for nesting deeper than Python's stack."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(v) for v in value)
    return False
