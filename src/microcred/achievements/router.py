from __future__ import annotations

from datetime import UTC, datetime

from typing import Annotated

from fastapi import APIRouter, Query, status

from ..web.deps import PrincipalDep, RuntimeDep, SessionDep
from ..web.openapi import PROBLEMS
from ..web.routes import StrictJsonRoute
from ..public import preview
from . import service
from .images import with_own_image
from .schemas import AchievementCreate, AchievementList, AchievementOut, AchievementPreview, AchievementUpdate, VersionDiff, VersionList, VersionOut

router = APIRouter(prefix="/api/v1/issuers/{issuer_id}/achievements", tags=["achievements"], responses=PROBLEMS, route_class=StrictJsonRoute)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AchievementOut)
async def create_achievement(
    issuer_id: str, body: AchievementCreate, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> AchievementOut:
    """Create a draft, or publish at once with `"status": "published"` (refused, naming each
    missing EU element, until all are present). An `image` on another host is copied here and
    served from this service (422 naming `image` when it cannot be fetched or is not a PNG, JPEG
    or plain SVG)."""
    principal.require(issuer_id, "manage")
    body = await with_own_image(session, runtime.fetcher, body, base_url=runtime.settings.base_url)
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
    before keep theirs). `"status": "published"` publishes a draft. A field set to null is removed.
    A new `image` on another host is copied here, as on create."""
    principal.require(issuer_id, "manage")
    body = await with_own_image(session, runtime.fetcher, body, base_url=runtime.settings.base_url)
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


@router.post("/{achievement_id}/retire", response_model=AchievementOut)
async def retire_achievement(issuer_id: str, achievement_id: str, principal: PrincipalDep, session: SessionDep) -> AchievementOut:
    """Retire a published achievement: awarding it is refused from now on (422); credentials
    already issued stay valid and its versions stay served. Retiring again changes nothing."""
    achievement = await service.retire_achievement(
        session, principal=principal, issuer_id=issuer_id, achievement_id=achievement_id, now=datetime.now(UTC)
    )
    return await service.achievement_out(session, achievement)


@router.get("/{achievement_id}/versions", response_model=VersionList)
async def list_versions(issuer_id: str, achievement_id: str, principal: PrincipalDep, session: SessionDep) -> VersionList:
    """Every published version, oldest first."""
    versions = await service.list_versions(session, principal=principal, issuer_id=issuer_id, achievement_id=achievement_id)
    return VersionList(items=[VersionOut(version=v.version, published_at=v.created_at, document=v.document) for v in versions])


@router.get("/{achievement_id}/versions/diff", response_model=VersionDiff)
async def diff_versions(
    issuer_id: str,
    achievement_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    from_: Annotated[int | None, Query(alias="from", ge=1, le=1_000_000)] = None,
    to: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> VersionDiff:
    """Two published versions side by side, field by field, in words; without `from` and `to`,
    the newest version and the one before it."""
    return await service.version_diff(
        session, principal=principal, issuer_id=issuer_id, achievement_id=achievement_id, from_version=from_, to_version=to
    )


@router.get("/{achievement_id}/preview", response_model=AchievementPreview)
async def preview_achievement(
    issuer_id: str, achievement_id: str, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> AchievementPreview:
    """The credential a sample learner would get for the achievement as it stands (a draft
    included): unsigned, never stored, no status list entry taken."""
    found = await preview.preview_achievement(
        session, principal=principal, issuer_id=issuer_id, achievement_id=achievement_id, base_url=runtime.settings.base_url,
        now=datetime.now(UTC),
    )
    return AchievementPreview(missing_elements=found.missing, document=found.document)
