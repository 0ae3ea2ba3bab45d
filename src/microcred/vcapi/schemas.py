"""Request and response bodies of the VC-API, with the specification's (camelCase) names.

https://w3c-ccg.github.io/vc-api/ (issuer.yml and verifier.yml of w3c-ccg/vc-api)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from ..issuers.schemas import Cryptosuite
from ..schemas_common import ApiModel, Slug

__all__ = [
    "CredentialStatusTarget",
    "IssueCredentialRequest",
    "IssueCredentialResponse",
    "IssueOptions",
    "ProblemDetail",
    "UpdateCredentialStatusRequest",
    "UpdateCredentialStatusResponse",
    "VerifyCredentialOptions",
    "VerifyCredentialRequest",
    "VerifyPresentationOptions",
    "VerifyPresentationRequest",
    "VerifyPresentationResult",
    "VerifyResult",
]

#: A credential id as callers refer to it: a URL, as the data model has it (any scheme).
CredentialId = Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")]
Token = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class _Request(ApiModel):
    """Unknown members are refused, naming them; strings are taken exactly as sent (a challenge
    with a trailing space is another challenge)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @field_validator("*", mode="before")
    @classmethod
    def _unicode(cls, value: Any) -> Any:
        """Lone surrogates (JSON's ``\\ud800``) are no text: nothing could store or answer them."""
        if isinstance(value, str) and any("\ud800" <= c <= "\udfff" for c in value):
            raise ValueError("must be Unicode text (a lone surrogate is not)")
        return value


class IssueOptions(_Request):
    credential_id: CredentialId | None = Field(
        default=None,
        alias="credentialId",
        description="how POST /credentials/status will refer to the credential, when it has no id of its own",
    )
    cryptosuite: Cryptosuite | None = Field(
        default=None, description="the Data Integrity cryptosuite (default: the issuer's); the /{cryptosuite}/credentials/issue paths fix it"
    )
    issuer: Slug | None = Field(
        default=None,
        description="microcred extension: the issuer (its id in this service) to sign for. Required with an admin API key; "
        "an issuer's own key signs for its issuer",
    )


class IssueCredentialRequest(_Request):
    credential: dict[str, Any] = Field(
        description="an unsigned VC 2.0 or VC 1.1 credential; the issuer fills in `issuer` when it is absent, and "
        "`issuanceDate` for VC 1.1"
    )
    options: IssueOptions | None = None


class IssueCredentialResponse(BaseModel):
    verifiable_credential: dict[str, Any] = Field(serialization_alias="verifiableCredential")


class VerifyCredentialOptions(_Request):
    checks: list[Token] | None = Field(default=None, description="accepted for compatibility; every check always runs")


class VerifyCredentialRequest(_Request):
    verifiable_credential: dict[str, Any] = Field(alias="verifiableCredential", description="a credential with an embedded proof")
    options: VerifyCredentialOptions | None = None


class VerifyPresentationOptions(_Request):
    challenge: Token | None = Field(default=None, description="the challenge the presentation's proof must carry")
    domain: Token | None = Field(default=None, description="the domain the presentation's proof must name")
    checks: list[Token] | None = Field(default=None, description="accepted for compatibility; every check always runs")
    return_presentation: bool = Field(default=False, alias="returnPresentation")


class VerifyPresentationRequest(_Request):
    verifiable_presentation: dict[str, Any] | None = Field(default=None, alias="verifiablePresentation", description="a signed presentation")
    presentation: dict[str, Any] | None = Field(
        default=None, description="an unsigned presentation: only the credentials it carries are verified"
    )
    options: VerifyPresentationOptions | None = None

    @model_validator(mode="after")
    def _one_presentation(self) -> VerifyPresentationRequest:
        if (self.verifiable_presentation is None) == (self.presentation is None):
            raise ValueError("send exactly one of verifiablePresentation (signed) and presentation (unsigned)")
        return self


class ProblemDetail(BaseModel):
    """One finding, as the VC data model reports them (PARSING_ERROR, CRYPTOGRAPHIC_SECURITY_ERROR...)."""

    type: str
    title: str
    detail: str


class VerifyResult(BaseModel):
    verified: bool
    checks: list[str] = Field(description="the checks that ran")
    warnings: list[ProblemDetail]
    errors: list[ProblemDetail]


class VerifyPresentationResult(VerifyResult):
    credential_results: list[VerifyResult] = Field(serialization_alias="credentialResults", description="one per credential, in order")
    verifiable_presentation: dict[str, Any] | None = Field(
        default=None, serialization_alias="verifiablePresentation", description="with options.returnPresentation"
    )


class CredentialStatusTarget(_Request):
    type: Literal["BitstringStatusListEntry", "BitstringStatusList"]
    status_purpose: Literal["revocation", "suspension"] = Field(alias="statusPurpose")
    id: Token | None = Field(default=None, description="if given, only the copy whose entry has this id changes")
    status_list_index: Token | None = Field(default=None, alias="statusListIndex")
    status_list_credential: Token | None = Field(default=None, alias="statusListCredential")


class UpdateCredentialStatusRequest(_Request):
    credential_id: CredentialId = Field(alias="credentialId", description="options.credentialId at issuance, else the credential's id")
    credential_status: CredentialStatusTarget = Field(alias="credentialStatus")
    status: bool = Field(description="true: revoked (final) or suspended; false: not suspended")
    issuer: Slug | None = Field(default=None, description="microcred extension: the issuer, required with an admin API key")


class UpdateCredentialStatusResponse(BaseModel):
    credential_id: str = Field(serialization_alias="credentialId")
    status_purpose: str = Field(serialization_alias="statusPurpose")
    status: bool
    updated: int = Field(description="how many issued copies of the credential carry this status now")
