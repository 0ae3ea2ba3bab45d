from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from ..schemas_common import ApiModel


#: A credential's standing: see status.service.credential_state.
CredentialState = Literal["active", "revoked", "suspended", "expired"]


class RevokeIn(ApiModel):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = Field(
        default=None, description="kept for the issuer's records; never published"
    )


class SuspendIn(ApiModel):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = Field(
        default=None, description="kept for the issuer's records and the audit log; never published or sent to webhooks"
    )


class StatusOut(BaseModel):
    credential_id: str
    status: CredentialState
    revoked_at: datetime | None
    suspended_at: datetime | None
