from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from ..achievements.schemas import Language
from ..schemas_common import ApiModel, EmailAddress, HttpUrl, Instant, Signable, Text
from ..status.schemas import CredentialState

Did = Annotated[str, StringConstraints(pattern=r"^did:[a-z0-9]+:[A-Za-z0-9._:%-]+$", max_length=512)]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class RecipientIn(ApiModel):
    email: EmailAddress | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=512)] | None = None
    did: Did | None = Field(default=None, description="the learner's DID, e.g. from their wallet")

    @model_validator(mode="after")
    def _identified(self) -> RecipientIn:
        if not self.email and not self.did:
            raise ValueError("a recipient needs an email or a did")
        return self


class ResultIn(ApiModel):
    value: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    result_description_id: str | None = Field(
        default=None, description="which of the achievement's result descriptions; optional when it has one"
    )
    status: Literal["Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew"] | None = None


class EvidenceIn(ApiModel):
    url: HttpUrl | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=512)] | None = None
    narrative: Text | None = None
    description: Text | None = None

    @model_validator(mode="after")
    def _something(self) -> EvidenceIn:
        if not (self.url or self.narrative or self.name or self.description):
            raise ValueError("evidence needs a url, name, narrative or description")
        return self


class AwardIn(ApiModel):
    achievement_id: Annotated[str, StringConstraints(min_length=1, max_length=36)]
    recipient: RecipientIn
    completion_date: Instant = Field(description="when the learner completed the course; may lie in the past")
    result: ResultIn | None = None
    credits_earned: Annotated[float, Field(ge=0, le=1000), Signable] | None = None
    evidence: list[EvidenceIn] | None = Field(default=None, max_length=20)
    activity_start_date: date | None = None
    activity_end_date: date | None = None
    valid_until: Instant | None = Field(default=None, description="when the credential expires (default: never)")
    external_id: ExternalId | None = Field(
        default=None, description="the LMS's own id for this completion; a second award with it returns the first"
    )
    language: Language | None = Field(
        default=None,
        description="the language to write the credential in when the learner has not chosen one in their account "
        "(default: the issuer's default language); the achievement's text in it, if it has a translation",
    )

    @model_validator(mode="after")
    def _dates(self) -> AwardIn:
        if self.activity_start_date and self.activity_end_date and self.activity_start_date > self.activity_end_date:
            raise ValueError("activity_start_date is after activity_end_date")
        return self


_STATE = (
    "revoked (final) whatever else holds; else suspended (it may be unsuspended); else expired (past valid_until); "
    "else active"
)


class AwardOut(BaseModel):
    id: str
    url: str = Field(description="the credential's public URL (also its id)")
    issuer_id: str
    achievement_id: str
    achievement_version: int
    external_id: str | None
    issued_at: datetime
    status: CredentialState = Field(description=_STATE)
    revoked_at: datetime | None
    suspended_at: datetime | None
    credential: dict[str, Any]


class CredentialSummary(BaseModel):
    id: str
    url: str
    achievement_id: str
    achievement_version: int
    recipient_email: str | None
    recipient_name: str | None
    recipient_did: str | None
    external_id: str | None
    completed_at: datetime
    issued_at: datetime
    valid_until: datetime | None
    status: CredentialState = Field(description=_STATE)
    revoked_at: datetime | None
    suspended_at: datetime | None


class CredentialPage(BaseModel):
    items: list[CredentialSummary]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")
