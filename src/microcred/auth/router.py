from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, status

from ..db.models import ApiClient
from ..web.deps import PrincipalDep, SessionDep
from ..web.openapi import PROBLEMS
from . import service
from .schemas import ClientCreate, ClientList, ClientOut, ClientUpdate, ClientWithKey, RotateIn

router = APIRouter(prefix="/api/v1/clients", tags=["clients"], responses=PROBLEMS)


def client_out(client: ApiClient, *, now: datetime) -> ClientOut:
    return ClientOut(
        id=client.id,
        name=client.name,
        issuer_id=client.issuer_id,
        scopes=client.scopes.split(),
        key_prefix=client.key_prefix,
        created_at=client.created_at,
        rotated_at=client.rotated_at,
        expires_at=client.expires_at,
        revoked_at=client.revoked_at,
        last_used_at=client.last_used_at,
        state=service.client_state(client, now=now),
    )


@router.get("", response_model=ClientList)
async def list_clients(
    principal: PrincipalDep,
    session: SessionDep,
    issuer_id: Annotated[str | None, Query(max_length=64, description="only this issuer's clients")] = None,
) -> ClientList:
    """API clients, oldest first, never their keys: every client for an admin key, the issuer's
    own for an issuer key with the `manage` scope."""
    now = datetime.now(UTC)
    clients = await service.list_clients(session, principal=principal, issuer_id=issuer_id)
    return ClientList(items=[client_out(c, now=now) for c in clients])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ClientWithKey)
async def create_client(body: ClientCreate, principal: PrincipalDep, session: SessionDep) -> ClientWithKey:
    """A new API client and its key, shown this once. Admin keys make any client; an issuer key
    with `manage` makes keys for its own issuer, with scopes it holds itself."""
    now = datetime.now(UTC)
    created = await service.create_client_as(
        session, principal=principal, name=body.name, issuer_id=body.issuer_id, scopes=body.scopes, expires_at=body.expires_at, now=now
    )
    return ClientWithKey(**client_out(created.client, now=now).model_dump(), api_key=created.api_key)


@router.patch("/{client_id}", response_model=ClientOut, responses={409: {**PROBLEMS[400], "description": "The client is revoked"}})
async def update_client(client_id: str, body: ClientUpdate, principal: PrincipalDep, session: SessionDep) -> ClientOut:
    """Rename a client or change its key's expiry (`"expires_at": null`: never expires)."""
    now = datetime.now(UTC)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("name", "") is None:
        changes.pop("name")
    client = await service.update_client(session, principal=principal, client_id=client_id, changes=changes, now=now)
    return client_out(client, now=now)


@router.get("/{client_id}", response_model=ClientOut)
async def get_client(client_id: str, principal: PrincipalDep, session: SessionDep) -> ClientOut:
    return client_out(await service.get_client(session, principal=principal, client_id=client_id), now=datetime.now(UTC))


@router.post("/{client_id}/revoke", response_model=ClientOut)
async def revoke_client(client_id: str, principal: PrincipalDep, session: SessionDep) -> ClientOut:
    """Revoke the key for good: the next request with it gets 401. Revoking again changes nothing."""
    now = datetime.now(UTC)
    return client_out(await service.revoke_client(session, principal=principal, client_id=client_id, now=now), now=now)


@router.post(
    "/{client_id}/rotate",
    response_model=ClientWithKey,
    responses={409: {**PROBLEMS[400], "description": "The client is revoked"}},
)
async def rotate_client(
    client_id: str, principal: PrincipalDep, session: SessionDep, body: RotateIn | None = None
) -> ClientWithKey:
    """A new key for the client, shown this once; the old key gets 401 from the next request.
    The client keeps its id, name and scopes."""
    now = datetime.now(UTC)
    expires_at = body.expires_at if body is not None else None
    rotated = await service.rotate_client(session, principal=principal, client_id=client_id, expires_at=expires_at, now=now)
    return ClientWithKey(**client_out(rotated.client, now=now).model_dump(), api_key=rotated.api_key)
