from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, status

from ..web.deps import PrincipalDep, RuntimeDep, SessionDep
from ..web.openapi import PROBLEMS
from ..web.routes import StrictJsonRoute
from . import service
from .schemas import AchievementCreate, AchievementList, AchievementOut, AchievementUpdate

router = APIRouter(prefix="/api/v1/issuers/{issuer_id}/achievements", tags=["achievements"], responses=PROBLEMS, route_class=StrictJsonRoute)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AchievementOut)
async def create_achievement(
    issuer_id: str, body: AchievementCreate, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> AchievementOut:
    """Create a draft, or publish at once with `"status": "published"` (refused, naming each
    missing EU element, until all are present)."""
    achievement = await service.create_achievement(
        session, principal=principal, issuer_id=issuer_id, data=body, base_url=runtime.settings.base_url, now=datetime.now(UTC)
    )
    return await service.achievement_out(session, achievement)


@router.get("", response_model=AchievementList)
async def list_achievements(issuer_id: str, principal: PrincipalDep, session: SessionDep) -> AchievementList:
    achievements = await service.list_achievements(session, principal=principal, issuer_id=issuer_id)
    return AchievementList(items=[await service.achievement_out(session, a) for a in achievements])


@router.get("/{achievement_id}", response_model=AchievementOut)
async def get_achievement(issuer_id: str, achievement_id: str, principal: PrincipalDep, session: SessionDep) -> AchievementOut:
    achievement = await service.get_achievement(session, principal=principal, issuer_id=issuer_id, achievement_id=achievement_id)
    return await service.achievement_out(session, achievement)


@router.patch("/{achievement_id}", response_model=AchievementOut)
async def update_achievement(
    issuer_id: str, achievement_id: str, body: AchievementUpdate, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> AchievementOut:
    """Edit; on a published achievement every change publishes a new version (credentials issued
    before keep theirs). `"status": "published"` publishes a draft. A field set to null is removed."""
    achievement = await service.update_achievement(
        session,
        principal=principal,
        issuer_id=issuer_id,
        achievement_id=achievement_id,
        data=body,
        base_url=runtime.settings.base_url,
        now=datetime.now(UTC),
    )
    return await service.achievement_out(session, achievement)
