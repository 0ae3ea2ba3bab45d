from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from ..schemas_common import ApiModel


class RevokeIn(ApiModel):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = Field(
        default=None, description="kept for the issuer's records; never published"
    )


class StatusOut(BaseModel):
    credential_id: str
    status: Literal["active", "suspended", "revoked"]
    revoked_at: datetime | None
    suspended_at: datetime | None
