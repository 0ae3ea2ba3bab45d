"""Small types shared by the API schemas of several features."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

__all__ = ["ApiModel", "EmailAddress", "HttpUrl", "Slug", "Text", "contains_nul"]

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
