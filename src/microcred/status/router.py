from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Body, Header, Response

from ..db.models import Credential
from ..web.deps import PrincipalDep, RuntimeDep, SessionDep, check_url
from ..web.openapi import PROBLEMS
from ..web.routes import StrictJsonRoute
from . import service
from .schemas import RevokeIn, StatusOut, SuspendIn

router = APIRouter(prefix="/api/v1/issuers/{issuer_id}/credentials/{credential_id}", tags=["status"], responses=PROBLEMS, route_class=StrictJsonRoute)
public = APIRouter(tags=["public"], responses=PROBLEMS, dependencies=[Depends(check_url)], route_class=StrictJsonRoute)

_CONFLICT: dict[int | str, dict[str, Any]] = {409: {**PROBLEMS[422], "description": "The credential cannot take this status (see detail)"}}


def _out(credential: Credential) -> StatusOut:
    return StatusOut(
        credential_id=credential.id,
        status=service.credential_state(credential, now=datetime.now(UTC)),
        revoked_at=credential.revoked_at,
        suspended_at=credential.suspended_at,
    )


@router.post("/revoke", response_model=StatusOut, responses=_CONFLICT)
async def revoke(
    issuer_id: str,
    credential_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    body: Annotated[RevokeIn | None, Body()] = None,
) -> StatusOut:
    """Revoke a credential for good. Its bit is set in the issuer's revocation list, which is
    re-signed at once; the reason stays private."""
    credential = await service.change_status(
        session, principal=principal, signing=service.list_signing(runtime), issuer_id=issuer_id, credential_id=credential_id,
        change="revoke", reason=body.reason if body else None,
    )
    return _out(credential)


@router.post("/suspend", response_model=StatusOut, responses=_CONFLICT)
async def suspend(
    issuer_id: str, credential_id: str, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep,
    body: Annotated[SuspendIn | None, Body()] = None,
) -> StatusOut:
    """Suspend a credential (issuers that offer suspension): verifiers report it suspended until it is unsuspended.
    The reason stays private (the audit log)."""
    credential = await service.change_status(
        session, principal=principal, signing=service.list_signing(runtime), issuer_id=issuer_id, credential_id=credential_id,
        change="suspend", reason=body.reason if body else None,
    )
    return _out(credential)


@router.post("/unsuspend", response_model=StatusOut, responses=_CONFLICT)
async def unsuspend(
    issuer_id: str, credential_id: str, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep,
    body: Annotated[SuspendIn | None, Body()] = None,
) -> StatusOut:
    """Reinstate a suspended credential; the reason, if given, stays private (the audit log)."""
    credential = await service.change_status(
        session, principal=principal, signing=service.list_signing(runtime), issuer_id=issuer_id, credential_id=credential_id,
        change="unsuspend", reason=body.reason if body else None,
    )
    return _out(credential)


@public.get(
    "/status-lists/{list_id}",
    response_class=Response,
    responses={200: {"content": {"application/vc+ld+json": {}}, "description": "The signed BitstringStatusListCredential"}, 304: {"description": "Not modified"}, 404: PROBLEMS[404]},
)
async def status_list(
    list_id: str, session: SessionDep, runtime: RuntimeDep, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    """A W3C Bitstring Status List, signed by its issuer. Every verifier fetches the whole list,
    so nothing here tells anyone which credential was checked."""
    status_list = await service.public_list(session, signing=service.list_signing(runtime), list_id=list_id)
    assert status_list.document is not None and status_list.etag is not None
    ttl = runtime.settings.status_list_ttl_seconds
    headers = {"ETag": status_list.etag, "Cache-Control": f"public, max-age={ttl}, must-revalidate"}
    if if_none_match is not None and status_list.etag in [tag.strip() for tag in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(service.json_bytes(status_list.document), media_type="application/vc+ld+json", headers=headers)
