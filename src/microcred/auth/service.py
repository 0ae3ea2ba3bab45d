"""Creating API clients and authenticating their keys."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.base import new_id
from ..db.models import ApiClient, Issuer
from ..events import Event, record
from ..problems import NotFound, Unauthorized, UnprocessableContent, field_error
from .api_keys import hash_api_key, matches, new_api_key, parse_api_key
from .principal import SCOPES, Principal
from .repository import ApiClientRepository

__all__ = ["CreatedClient", "authenticate", "create_client"]


@dataclass(frozen=True)
class CreatedClient:
    client: ApiClient
    api_key: str  # shown once; only its hash is stored


async def create_client(
    session: AsyncSession, *, name: str, issuer_id: str | None, scopes: Iterable[str] = (), actor: str = "cli"
) -> CreatedClient:
    """An admin client (``issuer_id`` None) or one scoped to an issuer with ``scopes``;
    ``actor`` is who made it, for the audit log (the command line, unless said otherwise)."""
    chosen = sorted(set(scopes))
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown:
        raise UnprocessableContent(
            f"unknown scope(s) {', '.join(unknown)}; choose from {', '.join(SCOPES)}",
            errors=[field_error("/scopes", f"unknown scope {s!r}") for s in unknown],
        )
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
    )
    await ApiClientRepository(session).add(client)
    data = {"name": name, "admin": issuer_id is None, "scopes": client.scopes.split(), "key_prefix": prefix}
    await record(session, Event("client.created", issuer_id, actor, client.id, datetime.now(UTC), data))
    return CreatedClient(client=client, api_key=key)


async def authenticate(session: AsyncSession, authorization: str | None) -> Principal:
    """The principal behind an ``Authorization: Bearer <key>`` header, or 401."""
    if not authorization:
        raise Unauthorized("send an API key: Authorization: Bearer <key> (see `microcred clients create`)")
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <API key>'")
    key = key.strip()
    prefix = parse_api_key(key)
    record = await ApiClientRepository(session).key_by_prefix(prefix) if prefix else None
    if record is None or record.revoked or not matches(key, record.key_hash):
        raise Unauthorized("unknown or revoked API key")
    return Principal(client_id=record.id, issuer_id=record.issuer_id, scopes=frozenset(record.scopes.split()))
