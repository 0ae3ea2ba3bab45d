from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Query

from ..schemas_common import Instant
from ..web.deps import PrincipalDep, SessionDep
from ..web.openapi import PROBLEMS
from ..web.routes import StrictJsonRoute
from . import service
from .schemas import AuditPage

router = APIRouter(tags=["audit"], responses=PROBLEMS, route_class=StrictJsonRoute)

_Before = Annotated[int | None, Query(ge=1, le=2**62, description="entries older than this `seq` (from `next_before`)")]
_Limit = Annotated[int, Query(ge=1, le=1000)]
_Action = Annotated[
    str | None, Query(min_length=1, max_length=64, description="only this action (`credential.revoked`), or a family of them (`credential.*`)")
]
_Actor = Annotated[str | None, Query(min_length=1, max_length=200, description="only what this actor did (an API client id, `cli`, `staff:<id>`...)")]
_Subject = Annotated[str | None, Query(min_length=1, max_length=512, description="only entries about this (a credential, client or webhook id...)")]
_Since = Annotated[Instant | None, Query(description="only entries at or after this time")]
_Until = Annotated[Instant | None, Query(description="only entries before this time")]


def _moment(value: date | datetime | None) -> datetime | None:
    """A date is its midnight, UTC (so `until=2026-12-04` ends with the 3rd)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time(), UTC)


def _filter(
    action: str | None, actor: str | None, subject: str | None, since: date | datetime | None, until: date | datetime | None
) -> service.AuditFilter:
    return service.AuditFilter(action=action, actor=actor, subject=subject, since=_moment(since), until=_moment(until))


@router.get("/api/v1/audit", response_model=AuditPage)
async def audit_log(
    principal: PrincipalDep,
    session: SessionDep,
    issuer_id: Annotated[str | None, Query(max_length=64, description="only this issuer's entries")] = None,
    action: _Action = None,
    actor: _Actor = None,
    subject: _Subject = None,
    since: _Since = None,
    until: _Until = None,
    before: _Before = None,
    limit: _Limit = 100,
) -> AuditPage:
    """The service's audit log, newest first (admin keys only): every award, revocation,
    suspension, key rotation and admin action, who did it and when, hash-chained."""
    where = _filter(action, actor, subject, since, until)
    return await service.list_entries(session, principal=principal, issuer_id=issuer_id, before=before, limit=limit, admin_view=True, where=where)


@router.get("/api/v1/issuers/{issuer_id}/audit", response_model=AuditPage)
async def issuer_audit_log(
    issuer_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    action: _Action = None,
    actor: _Actor = None,
    subject: _Subject = None,
    since: _Since = None,
    until: _Until = None,
    before: _Before = None,
    limit: _Limit = 100,
) -> AuditPage:
    """The issuer's entries in the audit log, newest first (`manage` scope)."""
    where = _filter(action, actor, subject, since, until)
    return await service.list_entries(session, principal=principal, issuer_id=issuer_id, before=before, limit=limit, where=where)
