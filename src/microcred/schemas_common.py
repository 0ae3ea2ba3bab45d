"""Small types shared by the API schemas of several features."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

__all__ = ["ApiModel", "EmailAddress", "HttpUrl", "Slug", "Text"]

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


Text = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
HttpUrl = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_http_url)]
EmailAddress = Annotated[str, StringConstraints(max_length=320), AfterValidator(_email)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$", description="lower-case letters, digits and dashes")]
