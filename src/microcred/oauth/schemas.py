"""The OAuth endpoints' JSON: client registration (RFC 7591 §2, §3.2.1), the token response
(RFC 6749 §5.1) and the error object (RFC 6749 §5.2)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ClientInformation", "ClientRegistration", "OAuthErrorBody", "TokenResponse"]

AuthMethod = Literal["client_secret_basic", "none"]
GrantType = Literal["authorization_code", "refresh_token"]
_GRANT_TYPES: tuple[GrantType, ...] = ("authorization_code", "refresh_token")
ResponseType = Literal["code"]
_RESPONSE_TYPES: tuple[ResponseType, ...] = ("code",)
_Short = Field(default=None, max_length=2048)


class ClientRegistration(BaseModel):
    """Client metadata (RFC 7591 §2). Metadata this server does not know is ignored, as §2
    requires. ``token_endpoint_auth_method`` ``none`` registers a public client (a native or
    browser app that cannot keep a secret); every client must use PKCE anyway."""

    model_config = ConfigDict(extra="ignore")

    client_name: str = Field(min_length=1, max_length=200, description="Shown to learners on the consent page")
    redirect_uris: list[str] = Field(
        min_length=1, max_length=10, description="https URLs, or http on a loopback address for native apps (RFC 8252 §7.3)"
    )
    token_endpoint_auth_method: AuthMethod = "client_secret_basic"
    grant_types: list[GrantType] = Field(default_factory=lambda: list(_GRANT_TYPES), min_length=1)
    response_types: list[ResponseType] = Field(default_factory=lambda: list(_RESPONSE_TYPES), min_length=1)
    scope: str | None = Field(default=None, max_length=1000, description="Space-separated; default: the four OB 3.0 scopes")
    client_uri: str | None = _Short
    logo_uri: str | None = _Short
    tos_uri: str | None = _Short
    policy_uri: str | None = _Short
    software_id: str | None = Field(default=None, max_length=200)
    software_version: str | None = Field(default=None, max_length=200)
    contacts: list[str] | None = Field(default=None, max_length=10)


class ClientInformation(BaseModel):
    """The registered client (RFC 7591 §3.2.1): its credentials and its metadata as registered."""

    client_id: str
    client_secret: str | None = Field(default=None, description="Only for client_secret_basic clients; shown once")
    client_id_issued_at: int
    client_secret_expires_at: int | None = Field(default=None, description="0: the secret does not expire")
    client_name: str
    redirect_uris: list[str]
    token_endpoint_auth_method: AuthMethod
    grant_types: list[str]
    response_types: list[str]
    scope: str
    client_uri: str | None = None
    logo_uri: str | None = None
    tos_uri: str | None = None
    policy_uri: str | None = None
    software_id: str | None = None
    software_version: str | None = None
    contacts: list[str] | None = None


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str
    scope: str


class OAuthErrorBody(BaseModel):
    """An OAuth 2.0 error (RFC 6749 §5.2; RFC 7591 §3.2.2 for registration)."""

    error: str
    error_description: str | None = None
