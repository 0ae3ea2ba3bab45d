"""The OB 3.0 API's payloads, for openapi.yaml. Named as the specification names them (hence the
underscores), so a client generated from either document agrees."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["GetOpenBadgeCredentialsResponse", "Imsx_StatusInfo", "LearnerProfile"]


class Imsx_CodeMinorField(BaseModel):  # noqa: N801  (the specification's name)
    imsx_codeMinorFieldName: str
    imsx_codeMinorFieldValue: Literal[
        "forbidden", "fullsuccess", "internal_server_error", "invalid_data", "invalid_query_parameter", "misdirected_request",
        "not_acceptable", "not_allowed", "not_found", "not_modified", "server_busy", "unauthorizedrequest", "unknown",
    ]


class Imsx_CodeMinor(BaseModel):  # noqa: N801
    imsx_codeMinorField: list[Imsx_CodeMinorField]


class Imsx_StatusInfo(BaseModel):  # noqa: N801
    """The status of a request that failed (https://www.imsglobal.org/spec/ob/v3p0/#imsx_statusinfo)."""

    imsx_codeMajor: Literal["failure", "processing", "success", "unsupported"]
    imsx_severity: Literal["error", "status", "warning"]
    imsx_description: str | None = None
    imsx_codeMinor: Imsx_CodeMinor | None = None


class GetOpenBadgeCredentialsResponse(BaseModel):
    """One page of the learner's credentials: Data Integrity (JSON-LD) credentials in
    ``credential``, VC-JWT ones as compact JWS in ``compactJwsString`` (the member the OB 3.0
    data model and JSON Schema define; an example in the specification spells it with an s)."""

    credential: list[dict[str, Any]] = Field(description="AchievementCredentials (JSON-LD)")
    compactJwsString: list[str] = Field(description="AchievementCredentials signed as VC-JWT")


class LearnerProfile(BaseModel):
    """The learner's OB 3.0 Profile. ``id`` and ``email`` are the service's: a PUT must keep them."""

    model_config = ConfigDict(extra="allow")

    context: list[str] = Field(alias="@context")
    id: str
    type: str | list[str]
    email: str
    name: str | None = None
