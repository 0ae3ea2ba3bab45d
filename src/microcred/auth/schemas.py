from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from ..schemas_common import ApiModel
from .principal import Scope


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
    last_used_at: datetime | None = Field(description="when the key last authenticated a request, to the minute (null: never)")
    state: Literal["active", "expired", "revoked"]


class ClientList(BaseModel):
    items: list[ClientOut]


class ClientWithKey(ClientOut):
    api_key: str = Field(description="the key, shown this once (only its hash is kept); after a rotation the old key already gets 401")


class ClientCreate(ApiModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] = "api client"
    issuer_id: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="the issuer the key acts for; null: an admin key (admin keys only)"
    )
    scopes: list[Scope] = Field(default=["award"], description="for an issuer key; an admin key may do everything")
    expires_at: AwareDatetime | None = Field(default=None, description="when the key stops working (default: never)")


class ClientUpdate(ApiModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    expires_at: AwareDatetime | None = Field(default=None, description="a new expiry; null: the key no longer expires")


class RotateIn(ApiModel):
    expires_at: AwareDatetime | None = Field(default=None, description="when the new key expires (default: never)")
