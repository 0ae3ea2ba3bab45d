"""The authorization server's use cases: registering clients, checking an authorization request,
granting a code, exchanging it for tokens, refreshing, revoking, and checking an access token.

Every secret (client secret, code, token) is 32 random bytes, shown once and kept as a SHA-256
(:mod:`microcred.tokens`). Codes work once for ten minutes; a replayed code or refresh token
revokes every token of its grant (RFC 6749 §4.1.2 and §10.4; OAuth 2.0 Security BCP §4.14).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.base import new_id
from ..db.models import AuthorizationCode, Learner, OAuthClient, OAuthToken
from ..problems import BadRequest
from ..schemas_common import contains_nul
from ..tokens import new_token, token_digest
from .errors import InsufficientScope, InvalidClient, InvalidToken, OAuthError
from .pkce import is_challenge, verifier_matches
from .repository import OAuthRepository
from .schemas import ClientInformation, ClientRegistration, TokenResponse
from .scopes import OB_SCOPES, SCOPES, parse_scope

__all__ = [
    "Access",
    "AuthorizationError",
    "AuthorizationRequest",
    "CODE_SECONDS",
    "Lifetimes",
    "Refused",
    "authenticate_bearer",
    "authenticate_client",
    "check_authorization_request",
    "exchange_code",
    "grant_code",
    "refresh_tokens",
    "register_client",
    "revoke",
]

#: How long an authorization code works (RFC 6749 §4.1.2 recommends at most ten minutes).
CODE_SECONDS = 600
_MAX_URI = 2048


class AuthorizationError(OAuthError):
    """An error the client learns at its (checked) redirect URI (RFC 6749 §4.1.2.1)."""

    def __init__(self, error: str, description: str, *, redirect_uri: str, state: str | None) -> None:
        super().__init__(error, description)
        self.redirect_uri, self.state = redirect_uri, state


@dataclass(frozen=True)
class Refused:
    """A token request refused after a change that must still be saved: a replayed code or
    refresh token revokes its grant's tokens, and the refusal must not roll that back."""

    error: OAuthError


@dataclass(frozen=True)
class Lifetimes:
    access_seconds: int
    refresh_seconds: int


@dataclass(frozen=True)
class AuthorizationRequest:
    """An authorization request that checked out (RFC 6749 §4.1.1 with RFC 7636 §4.3)."""

    client: OAuthClient
    redirect_uri: str
    scopes: list[str]
    state: str | None
    code_challenge: str


@dataclass(frozen=True)
class Access:
    """What a valid access token lets its client do, for whom."""

    learner: Learner
    client_id: str
    scopes: frozenset[str]


# --- registration (RFC 7591) --------------------------------------------------------------------


def _check_redirect_uri(uri: str) -> None:
    """https, or http to a loopback address for native apps (RFC 8252 §7.3); absolute, without
    a fragment (RFC 6749 §3.1.2) or user information."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        port = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        raise OAuthError("invalid_redirect_uri", f"{uri!r} is not a URL") from None
    del port
    if len(uri) > _MAX_URI or any(ord(c) < 0x21 or ord(c) == 0x7F for c in uri):
        raise OAuthError("invalid_redirect_uri", f"redirect URIs must be URLs of at most {_MAX_URI} characters, without spaces")
    if parts.fragment or "#" in uri:
        raise OAuthError("invalid_redirect_uri", f"{uri}: a redirect URI must not have a fragment (RFC 6749 §3.1.2)")
    if parts.username is not None or parts.password is not None:
        raise OAuthError("invalid_redirect_uri", f"{uri}: a redirect URI must not carry user information")
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and _is_loopback(host):
        return
    raise OAuthError(
        "invalid_redirect_uri",
        f"{uri}: redirect URIs must use https (or http to 127.0.0.1, [::1] or localhost, for a native app)",
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_web_url(name: str, value: str | None) -> None:
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise OAuthError("invalid_client_metadata", f"{name} must be an absolute http(s) URL")


async def register_client(session: AsyncSession, *, registration: ClientRegistration, now: datetime) -> ClientInformation:
    """Register a client (RFC 7591 §3). Raises OAuthError invalid_redirect_uri or
    invalid_client_metadata naming what is wrong."""
    for uri in registration.redirect_uris:
        _check_redirect_uri(uri)
    if "authorization_code" not in registration.grant_types:
        raise OAuthError("invalid_client_metadata", "grant_types must include authorization_code: it is the only grant the OB 3.0 API uses")
    scopes = parse_scope(registration.scope) if registration.scope is not None else list(OB_SCOPES)
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise OAuthError("invalid_client_metadata", f"unknown scope {unknown[0]!r}; the scopes are {' '.join(SCOPES)}" if unknown else "scope is empty")
    for name in ("client_uri", "logo_uri", "tos_uri", "policy_uri"):
        _check_web_url(name, getattr(registration, name))
    if any(not isinstance(c, str) or len(c) > 320 for c in registration.contacts or []):
        raise OAuthError("invalid_client_metadata", "contacts must be email addresses")
    if contains_nul(registration.model_dump()):
        raise OAuthError("invalid_client_metadata", "client metadata must not contain the NUL character")

    secret = new_token() if registration.token_endpoint_auth_method == "client_secret_basic" else None
    metadata = registration.model_dump(exclude_none=True) | {"scope": " ".join(scopes)}
    client = OAuthClient(
        id=secrets.token_urlsafe(24),
        secret_hash=token_digest(secret) if secret else None,
        name=registration.client_name,
        registration=metadata,
        created_at=now,
    )
    await OAuthRepository(session).add(client)
    return ClientInformation(
        client_id=client.id,
        client_secret=secret,
        client_id_issued_at=int(now.timestamp()),
        client_secret_expires_at=0 if secret else None,
        **metadata,
    )


# --- the authorization endpoint (RFC 6749 §4.1.1) ------------------------------------------------


async def check_authorization_request(session: AsyncSession, params: Mapping[str, str]) -> AuthorizationRequest:
    """Check an authorization request.

    Raises BadRequest when the client or redirect URI is missing or unknown: the learner is told,
    and nothing is sent to a redirect URI that may not be the client's (RFC 6749 §4.1.2.1).
    Raises AuthorizationError for what the client should hear at its redirect URI.
    """
    client_id = params.get("client_id")
    client = await OAuthRepository(session).client(client_id) if client_id else None
    if client is None:
        raise BadRequest("This link names no application registered with this service (client_id).")
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri or redirect_uri not in client.registration.get("redirect_uris", []):
        raise BadRequest(f"This link does not come back to an address {client.name} registered (redirect_uri).")
    state = params.get("state")

    def refuse(error: str, description: str) -> AuthorizationError:
        return AuthorizationError(error, description, redirect_uri=redirect_uri, state=state)

    if params.get("response_type") != "code":
        raise refuse("unsupported_response_type", "response_type must be code")
    challenge = params.get("code_challenge")
    if not challenge:
        raise refuse("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256")
    if params.get("code_challenge_method") != "S256":
        raise refuse("invalid_request", "code_challenge_method must be S256 (plain is refused)")
    if not is_challenge(challenge):
        raise refuse("invalid_request", "code_challenge must be the 43-character BASE64URL of a SHA-256")
    allowed = parse_scope(client.registration.get("scope"))
    scopes = parse_scope(params.get("scope")) or allowed
    outside = [s for s in scopes if s not in allowed]
    if outside:
        raise refuse("invalid_scope", f"scope {outside[0]!r} was not registered by this client")
    if state is not None and len(state) > 2048:
        raise refuse("invalid_request", "state is longer than 2048 characters")
    return AuthorizationRequest(client=client, redirect_uri=redirect_uri, scopes=scopes, state=state, code_challenge=challenge)


async def grant_code(session: AsyncSession, request: AuthorizationRequest, *, learner: Learner, now: datetime) -> str:
    """The learner allowed the request: an authorization code bound to the client, the redirect
    URI and the PKCE challenge, for ten minutes, once."""
    code = new_token()
    await OAuthRepository(session).add(
        AuthorizationCode(
            code_hash=token_digest(code),
            client_id=request.client.id,
            learner_id=learner.id,
            family_id=new_id(),
            redirect_uri=request.redirect_uri,
            scope=" ".join(request.scopes),
            code_challenge=request.code_challenge,
            created_at=now,
            expires_at=now + timedelta(seconds=CODE_SECONDS),
        )
    )
    return code


# --- the token endpoint (RFC 6749 §3.2, §4.1.3, §6) ----------------------------------------------


def _basic_credentials(authorization: str) -> tuple[str, str]:
    """client_id and client_secret from HTTP Basic, each form-urlencoded (RFC 6749 §2.3.1)."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClient("authenticate with HTTP Basic (client_id and client_secret), or send client_id for a public client")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("the Basic credentials are not base64 of client_id:client_secret") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise InvalidClient("the Basic credentials are not base64 of client_id:client_secret")
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


async def authenticate_client(session: AsyncSession, *, authorization: str | None, client_id: str | None) -> OAuthClient:
    """The client making a token or revocation request: a confidential client by HTTP Basic, a
    public one by ``client_id`` alone (its codes are bound to a PKCE verifier only it knows)."""
    repository = OAuthRepository(session)
    if authorization:
        basic_id, secret = _basic_credentials(authorization)
        client = await repository.client(basic_id) if basic_id else None
        if client is None or client.secret_hash is None or not hmac.compare_digest(token_digest(secret), client.secret_hash):
            raise InvalidClient("unknown client, or wrong client secret")
        if client_id is not None and client_id != client.id:
            raise InvalidClient("client_id does not match the client that authenticated")
        return client
    if not client_id:
        raise InvalidClient("authenticate with HTTP Basic (client_id and client_secret), or send client_id for a public client")
    client = await repository.client(client_id)
    if client is None:
        raise InvalidClient("unknown client")
    if client.secret_hash is not None:
        raise InvalidClient("this client registered a secret: authenticate with HTTP Basic")
    return client


def _narrowed(requested: str | None, granted: str) -> str:
    """The scope a token request asks for, which may only narrow the grant (RFC 6749 §6)."""
    allowed = parse_scope(granted)
    wanted = parse_scope(requested)
    if not wanted:
        return granted
    outside = [s for s in wanted if s not in allowed]
    if outside:
        raise OAuthError("invalid_scope", f"scope {outside[0]!r} was not granted")
    return " ".join(wanted)


async def _issue(
    repository: OAuthRepository, *, client_id: str, learner_id: str, family_id: str, scope: str, refresh_scope: str, lifetimes: Lifetimes, now: datetime
) -> TokenResponse:
    access, refresh = new_token(), new_token()
    common = {"family_id": family_id, "client_id": client_id, "learner_id": learner_id, "created_at": now}
    await repository.add(
        OAuthToken(token_hash=token_digest(access), kind="access", scope=scope, expires_at=now + timedelta(seconds=lifetimes.access_seconds), **common),
        OAuthToken(token_hash=token_digest(refresh), kind="refresh", scope=refresh_scope, expires_at=now + timedelta(seconds=lifetimes.refresh_seconds), **common),
    )
    return TokenResponse(access_token=access, expires_in=lifetimes.access_seconds, refresh_token=refresh, scope=scope)


async def exchange_code(
    session: AsyncSession,
    *,
    client: OAuthClient,
    code: str | None,
    redirect_uri: str | None,
    code_verifier: str | None,
    scope: str | None,
    lifetimes: Lifetimes,
    now: datetime,
) -> TokenResponse | Refused:
    """The authorization code grant's token request (RFC 6749 §4.1.3, RFC 7636 §4.6)."""
    if not code:
        raise OAuthError("invalid_request", "code is required")
    if not code_verifier:
        raise OAuthError("invalid_request", "code_verifier is required: every authorization here uses PKCE")
    repository = OAuthRepository(session)
    code_hash = token_digest(code)
    row = await repository.code(code_hash)
    if row is None or row.client_id != client.id:
        raise OAuthError("invalid_grant", "unknown authorization code")
    replayed = OAuthError("invalid_grant", "this authorization code was already used; the tokens issued for it are revoked")
    if row.used_at is not None:
        await repository.revoke_family(row.family_id, now)
        return Refused(replayed)
    if row.expires_at <= now:
        raise OAuthError("invalid_grant", "the authorization code expired; ask the learner again")
    if redirect_uri != row.redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri must be the one of the authorization request")
    if not verifier_matches(code_verifier, row.code_challenge):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
    granted = _narrowed(scope, row.scope)
    if not await repository.claim_code(code_hash, now):
        await repository.revoke_family(row.family_id, now)
        return Refused(replayed)
    return await _issue(
        repository, client_id=client.id, learner_id=row.learner_id, family_id=row.family_id, scope=granted, refresh_scope=row.scope, lifetimes=lifetimes, now=now
    )


async def refresh_tokens(
    session: AsyncSession, *, client: OAuthClient, refresh_token: str | None, scope: str | None, lifetimes: Lifetimes, now: datetime
) -> TokenResponse | Refused:
    """A new token pair for a refresh token, which is then used up (rotation). Presenting a used
    refresh token again means it leaked: every token of the grant is revoked."""
    if not refresh_token:
        raise OAuthError("invalid_request", "refresh_token is required")
    repository = OAuthRepository(session)
    token_hash = token_digest(refresh_token)
    row = await repository.token(token_hash)
    if row is None or row.kind != "refresh" or row.client_id != client.id:
        raise OAuthError("invalid_grant", "unknown refresh token")
    if row.revoked_at is not None:
        raise OAuthError("invalid_grant", "the refresh token was revoked")
    replayed = OAuthError("invalid_grant", "this refresh token was already used; every token of this authorization is now revoked")
    if row.used_at is not None:
        await repository.revoke_family(row.family_id, now)
        return Refused(replayed)
    if row.expires_at <= now:
        raise OAuthError("invalid_grant", "the refresh token expired; ask the learner again")
    granted = _narrowed(scope, row.scope)
    if not await repository.claim_refresh_token(token_hash, now):
        await repository.revoke_family(row.family_id, now)
        return Refused(replayed)
    return await _issue(
        repository, client_id=client.id, learner_id=row.learner_id, family_id=row.family_id, scope=granted, refresh_scope=row.scope, lifetimes=lifetimes, now=now
    )


async def revoke(session: AsyncSession, *, client: OAuthClient, token: str | None, now: datetime) -> None:
    """Token revocation (RFC 7009 §2.1). An unknown token, or another client's, is not an error
    (§2.2). Revoking a refresh token revokes its grant's access tokens too."""
    if not token:
        raise OAuthError("invalid_request", "token is required")
    repository = OAuthRepository(session)
    token_hash = token_digest(token)
    row = await repository.token(token_hash)
    if row is None or row.client_id != client.id:
        return
    if row.kind == "refresh":
        await repository.revoke_family(row.family_id, now)
    else:
        await repository.revoke_token(token_hash, now)


# --- the resource server (RFC 6750) -------------------------------------------------------------


async def authenticate_bearer(session: AsyncSession, authorization: str | None, *, required: Sequence[str], now: datetime) -> Access:
    """The access behind ``Authorization: Bearer <token>``, with every scope in ``required``."""
    if not authorization:
        raise InvalidToken("send an OAuth 2.0 access token: Authorization: Bearer <token>", presented=False)
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("the Authorization header must be 'Bearer <access token>'")
    row = await OAuthRepository(session).token(token_digest(token))
    if row is None or row.kind != "access":
        raise InvalidToken("unknown access token")
    if row.revoked_at is not None:
        raise InvalidToken("the access token was revoked")
    if row.expires_at <= now:
        raise InvalidToken("the access token expired; use the refresh token for a new one")
    learner = await session.get(Learner, row.learner_id)
    if learner is None:
        raise InvalidToken("unknown access token")
    scopes = frozenset(row.scope.split())
    for scope in required:
        if scope not in scopes:
            raise InsufficientScope(scope)
    return Access(learner=learner, client_id=row.client_id, scopes=scopes)
