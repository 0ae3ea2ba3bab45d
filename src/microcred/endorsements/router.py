from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Response, status

from ..status.service import list_signing
from ..web.deps import PrincipalDep, RuntimeDep, SessionDep, check_url
from ..web.openapi import PROBLEMS
from ..web.routes import StrictJsonRoute
from . import service
from .schemas import EndorsementIn, EndorsementList, EndorsementOut

router = APIRouter(prefix="/api/v1/issuers/{issuer_id}/endorsements", tags=["endorsements"], responses=PROBLEMS, route_class=StrictJsonRoute)
public = APIRouter(tags=["public"], responses=PROBLEMS, dependencies=[Depends(check_url)], route_class=StrictJsonRoute)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=EndorsementOut)
async def create_endorsement(
    issuer_id: str, body: EndorsementIn, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep, response: Response
) -> EndorsementOut:
    """Endorse another issuer's profile, or one of its published achievements (`subject_achievement_id`),
    as an OB 3.0 EndorsementCredential signed by this issuer. Credentials that issuer awards from
    now on carry it, until it is revoked."""
    settings = runtime.settings
    endorsement = await service.create_endorsement(
        session,
        principal=principal,
        signing=service.EndorsementSigning(runtime.keystore, runtime.loader, settings.base_url, runtime.statuses),
        issuer_id=issuer_id,
        data=body,
        now=datetime.now(UTC),
    )
    out = service.endorsement_out(endorsement, base_url=settings.base_url)
    response.headers["Location"] = out.url
    return out


@router.get("", response_model=EndorsementList)
async def list_endorsements(issuer_id: str, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> EndorsementList:
    """The endorsements this issuer gave, oldest first."""
    endorsements = await service.list_endorsements(session, principal=principal, issuer_id=issuer_id)
    return EndorsementList(items=[service.endorsement_out(e, base_url=runtime.settings.base_url) for e in endorsements])


@router.get("/{endorsement_id}", response_model=EndorsementOut)
async def get_endorsement(
    issuer_id: str, endorsement_id: str, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> EndorsementOut:
    endorsement = await service.get_endorsement(session, principal=principal, issuer_id=issuer_id, endorsement_id=endorsement_id)
    return service.endorsement_out(endorsement, base_url=runtime.settings.base_url)


@router.post("/{endorsement_id}/revoke", response_model=EndorsementOut)
async def revoke_endorsement(
    issuer_id: str, endorsement_id: str, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> EndorsementOut:
    """Revoke an endorsement for good: its bit is set in this issuer's revocation list, and new
    awards no longer embed it (credentials that carry it report it revoked)."""
    endorsement = await service.revoke_endorsement(
        session, principal=principal, signing=list_signing(runtime), issuer_id=issuer_id, endorsement_id=endorsement_id,
        now=datetime.now(UTC),
    )
    return service.endorsement_out(endorsement, base_url=runtime.settings.base_url)


@public.get(
    "/endorsements/{endorsement_id}",
    response_class=Response,
    responses={200: {"content": {"application/vc+ld+json": {}}, "description": "The signed EndorsementCredential"}},
)
async def public_endorsement(endorsement_id: str, session: SessionDep) -> Response:
    """An endorsement's public URL (also its id): the signed OB 3.0 EndorsementCredential."""
    endorsement = await service.public_endorsement(session, endorsement_id)
    body = json.dumps(endorsement.document, ensure_ascii=False, indent=2).encode()
    return Response(body, media_type="application/vc+ld+json", headers={"Cache-Control": "no-cache"})
