from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from ..schemas_common import ApiModel, Instant, Text

Name = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class EndorsementIn(ApiModel):
    subject_issuer_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="the endorsed issuer: another issuer of this service"
    )
    subject_achievement_id: Annotated[str, StringConstraints(min_length=1, max_length=36)] | None = Field(
        default=None, description="one of its published achievements; without it, the issuer's profile is endorsed"
    )
    endorsement_comment: Text | None = Field(default=None, description="what the endorser vouches for, in words (Markdown)")
    name: Name | None = Field(default=None, description="the endorsement's title (default: 'Endorsement of <name>')")
    valid_until: Instant | None = Field(default=None, description="when the endorsement lapses (default: never)")


class EndorsedOut(BaseModel):
    kind: Literal["profile", "achievement"]
    id: str = Field(description="the endorsed object's id: the issuer's DID or the achievement's URL")
    issuer_id: str
    achievement_id: str | None


class EndorsementOut(BaseModel):
    id: str
    url: str = Field(description="the endorsement's public URL (also its id)")
    issuer_id: str = Field(description="the endorser")
    subject: EndorsedOut
    endorsement_comment: str | None
    status: Literal["active", "revoked"]
    created_at: datetime
    valid_until: datetime | None
    revoked_at: datetime | None
    credential: dict[str, Any] = Field(description="the signed EndorsementCredential")


class EndorsementList(BaseModel):
    items: list[EndorsementOut]
