from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Response, status

from ..web.deps import PrincipalDep, SessionDep
from ..web.openapi import PROBLEMS
from ..web.routes import StrictJsonRoute
from . import service
from .schemas import PathwayCreate, PathwayList, PathwayOut, PathwayUpdate

router = APIRouter(prefix="/api/v1/issuers/{issuer_id}/pathways", tags=["pathways"], responses=PROBLEMS, route_class=StrictJsonRoute)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PathwayOut)
async def create_pathway(issuer_id: str, body: PathwayCreate, response: Response, principal: PrincipalDep, session: SessionDep) -> PathwayOut:
    """Create a pathway: when an award completes it for a learner (same email, or same DID),
    the pathway's achievement is awarded to them once, in the same transaction, pinning each
    component credential by its digest. With `"evaluate_existing": true` a job (see
    `evaluation_job`; needs the award scope too) also evaluates earlier awards."""
    pathway = await service.create_pathway(session, principal=principal, issuer_id=issuer_id, data=body, now=datetime.now(UTC))
    response.headers["Location"] = f"/api/v1/issuers/{issuer_id}/pathways/{pathway.id}"
    return await service.pathway_out(session, pathway)


@router.get("", response_model=PathwayList)
async def list_pathways(issuer_id: str, principal: PrincipalDep, session: SessionDep) -> PathwayList:
    pathways = await service.list_pathways(session, principal=principal, issuer_id=issuer_id)
    return PathwayList(items=[await service.pathway_out(session, p) for p in pathways])


@router.get("/{pathway_id}", response_model=PathwayOut)
async def get_pathway(issuer_id: str, pathway_id: str, principal: PrincipalDep, session: SessionDep) -> PathwayOut:
    pathway = await service.get_pathway(session, principal=principal, issuer_id=issuer_id, pathway_id=pathway_id)
    return await service.pathway_out(session, pathway)


@router.patch("/{pathway_id}", response_model=PathwayOut)
async def update_pathway(issuer_id: str, pathway_id: str, body: PathwayUpdate, principal: PrincipalDep, session: SessionDep) -> PathwayOut:
    """Rename, change the rule or the components, or archive (`"status": "archived"`): an
    archived pathway completes for nobody. Changes apply to later evaluations only."""
    pathway = await service.update_pathway(
        session, principal=principal, issuer_id=issuer_id, pathway_id=pathway_id, data=body, now=datetime.now(UTC)
    )
    return await service.pathway_out(session, pathway)
