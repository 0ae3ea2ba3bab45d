"""API clients: creating, listing, revoking and rotating them, and authenticating their keys.

Who may manage keys: an admin key manages every client; an issuer key with the ``manage`` scope
manages its own issuer's clients (another issuer's, and the admin keys, answer 404). Rotation
swaps the key in place, at once: the client keeps its id, the old key gets 401 from the next
request. For a change without downtime, create a second client, move over, revoke the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.base import new_id
from ..db.models import ApiClient, Issuer
from ..events import Event, record
from ..problems import Conflict, Forbidden, NotFound, Unauthorized, UnprocessableContent, field_error
from .api_keys import hash_api_key, matches, new_api_key, parse_api_key
from .principal import SCOPES, Principal
from .repository import ApiClientRepository

__all__ = [
    "LAST_USED_EVERY",
    "ClientState",
    "CreatedClient",
    "authenticate",
    "client_state",
    "create_client",
    "create_client_as",
    "get_client",
    "list_clients",
    "revoke_client",
    "rotate_client",
    "update_client",
]

ClientState = Literal["active", "expired", "revoked"]

#: A key's last-used time is written at most this often: a busy LMS costs one small write a
#: minute, not one per request, and "last used" is still exact to the minute.
LAST_USED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedClient:
    client: ApiClient
    api_key: str  # shown once; only its hash is stored


def client_state(client: ApiClient, *, now: datetime) -> ClientState:
    if client.revoked_at is not None:
        return "revoked"
    if client.expires_at is not None and client.expires_at <= now:
        return "expired"
    return "active"


def _check_expiry(expires_at: datetime | None, *, now: datetime) -> None:
    if expires_at is None:
        return
    if expires_at.tzinfo is None:
        raise UnprocessableContent("expires_at needs a time zone, e.g. 2027-01-31T00:00:00Z", errors=[field_error("/expires_at", "needs a time zone")])
    try:
        expires_at = expires_at.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00:00-05:00 lies past the last representable year
        raise UnprocessableContent("expires_at lies too far in the future", errors=[field_error("/expires_at", "too far in the future")]) from None
    if expires_at <= now:
        raise UnprocessableContent(
            f"expires_at ({expires_at.isoformat()}) has passed; give a later time",
            errors=[field_error("/expires_at", "must be in the future")],
        )


async def create_client(
    session: AsyncSession,
    *,
    name: str,
    issuer_id: str | None,
    scopes: Iterable[str] = (),
    actor: str = "cli",
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> CreatedClient:
    """An admin client (``issuer_id`` None) or one scoped to an issuer with ``scopes``, valid
    until ``expires_at`` (or until revoked); ``actor`` is who made it, for the audit log (the
    command line, unless said otherwise)."""
    now = now or datetime.now(UTC)
    chosen = sorted(set(scopes))
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown:
        raise UnprocessableContent(
            f"unknown scope(s) {', '.join(unknown)}; choose from {', '.join(SCOPES)}",
            errors=[field_error("/scopes", f"unknown scope {s!r}") for s in unknown],
        )
    _check_expiry(expires_at, now=now)
    if issuer_id is not None and await session.get(Issuer, issuer_id) is None:
        raise NotFound(f"no issuer {issuer_id!r}")
    key, prefix = new_api_key()
    client = ApiClient(
        id=new_id(),
        name=name,
        issuer_id=issuer_id,
        scopes=" ".join(chosen if issuer_id is not None else SCOPES),
        key_prefix=prefix,
        key_hash=hash_api_key(key),
        created_at=now,
        expires_at=expires_at,
    )
    await ApiClientRepository(session).add(client)
    data = {"name": name, "admin": issuer_id is None, "scopes": client.scopes.split(), "key_prefix": prefix, "expires_at": expires_at}
    await record(session, Event("client.created", issuer_id, actor, client.id, now, data))
    return CreatedClient(client=client, api_key=key)


def _check_manager(principal: Principal, issuer_id: str | None) -> None:
    """Admins manage every client; an issuer key with ``manage``, its own issuer's."""
    if principal.is_admin:
        return
    if issuer_id is None:
        raise NotFound("admin API keys are managed by admin keys only")  # not the caller's: 404
    principal.require(issuer_id, "manage")


async def create_client_as(
    session: AsyncSession,
    *,
    principal: Principal,
    name: str,
    issuer_id: str | None,
    scopes: Iterable[str],
    expires_at: datetime | None,
    now: datetime,
) -> CreatedClient:
    """A client made through the API: admins make any; an issuer key with ``manage`` makes keys
    for its own issuer with scopes it holds itself (never an admin key)."""
    if issuer_id is None:
        principal.require_admin()
    else:
        principal.require(issuer_id, "manage")
        beyond = sorted(set(scopes) - principal.scopes) if not principal.is_admin else []
        if beyond:
            raise Forbidden(f"this API key cannot grant scope(s) it lacks: {', '.join(beyond)}")
    return await create_client(
        session, name=name, issuer_id=issuer_id, scopes=scopes, actor=principal.client_id, expires_at=expires_at, now=now
    )


async def list_clients(session: AsyncSession, *, principal: Principal, issuer_id: str | None = None) -> Sequence[ApiClient]:
    """Every client (admins; ``issuer_id`` narrows to one issuer's), or the caller's issuer's."""
    if not principal.is_admin:
        issuer_id = issuer_id or principal.issuer_id
        _check_manager(principal, issuer_id)
    return await ApiClientRepository(session).listing(issuer_id=issuer_id)


async def get_client(session: AsyncSession, *, principal: Principal, client_id: str, for_update: bool = False) -> ApiClient:
    client = await ApiClientRepository(session).get(client_id, for_update=for_update)
    if client is None or (not principal.is_admin and client.issuer_id != principal.issuer_id):
        raise NotFound(f"no API client {client_id!r}")  # another issuer's client does not exist
    _check_manager(principal, client.issuer_id)
    return client


async def revoke_client(session: AsyncSession, *, principal: Principal, client_id: str, now: datetime) -> ApiClient:
    """Revoke a key for good: the next request with it gets 401. Revoking it again changes nothing."""
    client = await get_client(session, principal=principal, client_id=client_id, for_update=True)
    if client.revoked_at is not None:
        return client
    client.revoked_at = now
    await session.flush()
    data = {"name": client.name, "key_prefix": client.key_prefix}
    await record(session, Event("client.revoked", client.issuer_id, principal.client_id, client.id, now, data))
    return client


async def update_client(
    session: AsyncSession,
    *,
    principal: Principal,
    client_id: str,
    changes: dict[str, Any],
    now: datetime,
) -> ApiClient:
    """Rename a client or change its expiry (``expires_at`` None: never); a revoked one stays as it is."""
    client = await get_client(session, principal=principal, client_id=client_id, for_update=True)
    if client.revoked_at is not None:
        raise Conflict(f"API client {client_id!r} is revoked, which is final")
    if "expires_at" in changes:
        _check_expiry(changes["expires_at"], now=now)
    changed = {k: v for k, v in changes.items() if k in ("name", "expires_at") and getattr(client, k) != v}
    if not changed:
        return client
    for key, value in changed.items():
        setattr(client, key, value)
    await session.flush()
    await record(session, Event("client.updated", client.issuer_id, principal.client_id, client.id, now, {"name": client.name, **changed}))
    return client


async def rotate_client(
    session: AsyncSession, *, principal: Principal, client_id: str, expires_at: datetime | None, now: datetime
) -> CreatedClient:
    """A new key for the client (shown once), valid until ``expires_at`` (or until revoked); the
    old key stops at once. An expired key may be rotated back to life; a revoked one may not."""
    client = await get_client(session, principal=principal, client_id=client_id, for_update=True)
    if client.revoked_at is not None:
        raise Conflict(f"API client {client_id!r} is revoked, which is final; create a new client instead")
    _check_expiry(expires_at, now=now)
    key, prefix = new_api_key()
    previous = client.key_prefix
    client.key_prefix, client.key_hash = prefix, hash_api_key(key)
    client.expires_at, client.rotated_at = expires_at, now
    await session.flush()
    data = {"name": client.name, "key_prefix": prefix, "previous_key_prefix": previous, "expires_at": expires_at}
    await record(session, Event("client.rotated", client.issuer_id, principal.client_id, client.id, now, data))
    return CreatedClient(client=client, api_key=key)


async def authenticate(session: AsyncSession, authorization: str | None, *, now: datetime | None = None, record_use: bool = False) -> Principal:
    """The principal behind an ``Authorization: Bearer <key>`` header, or 401.

    With ``record_use`` the key's last-used time is written in ``session``'s transaction, at most
    once per :data:`LAST_USED_EVERY`: a request that fails (and rolls back) leaves it as it was.
    The written row stays locked (PostgreSQL: FOR NO KEY UPDATE) until that request ends, so a
    revocation of this very key waits for it; other requests of the key skip the write."""
    if not authorization:
        raise Unauthorized("send an API key: Authorization: Bearer <key> (see `microcred clients create`)")
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <API key>'")
    key = key.strip()
    prefix = parse_api_key(key)
    repository = ApiClientRepository(session)
    found = await repository.key_by_prefix(prefix) if prefix else None
    if found is None or not matches(key, found.key_hash):
        raise Unauthorized("unknown API key (a rotated key stops working at once)")
    # Past the hash check the caller holds the real key, so saying why it stopped tells nothing new.
    if found.revoked:
        raise Unauthorized("this API key was revoked")
    now = now or datetime.now(UTC)
    if found.expires_at is not None and found.expires_at <= now:
        raise Unauthorized(f"this API key expired at {found.expires_at.isoformat()}; rotate it or create a new one")
    if record_use and (found.last_used_at is None or found.last_used_at <= now - LAST_USED_EVERY):
        await repository.mark_used(found.id, at=now, unless_since=now - LAST_USED_EVERY)
    return Principal(client_id=found.id, issuer_id=found.issuer_id, scopes=frozenset(found.scopes.split()))
