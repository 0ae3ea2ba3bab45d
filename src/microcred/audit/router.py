from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ..web.deps import PrincipalDep, SessionDep
from ..web.openapi import PROBLEMS
from ..web.routes import StrictJsonRoute
from . import service
from .schemas import AuditPage

router = APIRouter(tags=["audit"], responses=PROBLEMS, route_class=StrictJsonRoute)

_Before = Annotated[int | None, Query(ge=1, le=2**62, description="entries older than this `seq` (from `next_before`)")]
_Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("/api/v1/audit", response_model=AuditPage)
async def audit_log(
    principal: PrincipalDep,
    session: SessionDep,
    issuer_id: Annotated[str | None, Query(max_length=64, description="only this issuer's entries")] = None,
    before: _Before = None,
    limit: _Limit = 100,
) -> AuditPage:
    """The service's audit log, newest first (admin keys only): every award, revocation,
    suspension, key rotation and admin action, who did it and when, hash-chained."""
    return await service.list_entries(session, principal=principal, issuer_id=issuer_id, before=before, limit=limit, admin_view=True)


@router.get("/api/v1/issuers/{issuer_id}/audit", response_model=AuditPage)
async def issuer_audit_log(issuer_id: str, principal: PrincipalDep, session: SessionDep, before: _Before = None, limit: _Limit = 100) -> AuditPage:
    """The issuer's entries in the audit log, newest first (`manage` scope)."""
    return await service.list_entries(session, principal=principal, issuer_id=issuer_id, before=before, limit=limit)
