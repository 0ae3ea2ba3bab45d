from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from ..schemas_common import ApiModel


class ClientOut(BaseModel):
    """An API client, never its key: only the prefix that names it (``mc_<key_prefix>_...``)."""

    id: str
    name: str
    issuer_id: str | None = Field(description="null for an admin key, which manages every issuer")
    scopes: list[str]
    key_prefix: str = Field(description="the key's public part, `mc_<key_prefix>_...`: tells keys apart, opens nothing")
    created_at: datetime
    rotated_at: datetime | None = Field(description="when the current key replaced the one before")
    expires_at: datetime | None = Field(description="after this the key gets 401 (null: it does not expire)")
    revoked_at: datetime | None
    state: Literal["active", "expired", "revoked"]


class ClientList(BaseModel):
    items: list[ClientOut]


class ClientRotated(ClientOut):
    api_key: str = Field(description="the new key, shown this once (only its hash is kept); the old key already gets 401")


class RotateIn(ApiModel):
    expires_at: AwareDatetime | None = Field(default=None, description="when the new key expires (default: never)")
