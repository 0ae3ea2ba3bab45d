"""Achievement definitions: drafts are edited freely; publishing checks every EU element and
freezes the definition as a numbered version, which is what credentials carry. Editing a
published achievement publishes a new version; credentials issued earlier keep theirs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..db.base import new_id
from ..db.models import Achievement, AchievementVersion, Issuer
from ..events import Event, record
from ..issuers.service import get_issuer
from ..problems import Conflict, NotFound, UnprocessableContent, field_error
from .diff import diff_documents
from .document import achievement_document, missing_elements, own_language, translated_documents, translation_errors
from .repository import AchievementRepository, PublishedVersion
from .schemas import AchievementCreate, AchievementFields, AchievementOut, AchievementUpdate, FieldChangeOut, VersionDiff

__all__ = [
    "achievement_out",
    "achievement_url",
    "create_achievement",
    "get_achievement",
    "list_achievements",
    "list_versions",
    "missing_names",
    "public_version",
    "published_version",
    "retire_achievement",
    "update_achievement",
    "version_diff",
]


def achievement_url(base_url: str, issuer_id: str, achievement_id: str, *, version: int = 1) -> str:
    """The id (and public URL) of one published version. Version 1 keeps the plain URL it has
    always had; each later version gets its own, so the id inside every credential goes on
    answering with the text it was awarded with after the achievement is edited."""
    plain = f"{base_url}/issuers/{issuer_id}/achievements/{achievement_id}"
    return plain if version == 1 else f"{plain}/versions/{version}"


def _definition(fields: AchievementFields) -> dict[str, Any]:
    """Store what was given, with an id for every result description (awards refer to them)."""
    definition = fields.model_dump(mode="json", exclude_none=True, exclude={"status"})
    for description in definition.get("result_descriptions") or []:
        description.setdefault("id", f"urn:uuid:{uuid.uuid4()}")
    return definition


async def _check_code(session: AsyncSession, issuer_id: str, definition: dict[str, Any], *, achievement_id: str | None = None) -> None:
    """A course code names one achievement of the issuer (bulk files may name an achievement by
    it), whatever the case it is written in."""
    code = definition.get("human_code")
    if not isinstance(code, str):
        return
    for other in await AchievementRepository(session).for_issuer(issuer_id):
        theirs = other.definition.get("human_code")
        if other.id != achievement_id and isinstance(theirs, str) and theirs.casefold() == code.casefold():
            raise Conflict(
                f"course code {code!r} is taken by another achievement of this issuer ({other.definition.get('name')!r})",
                errors=[field_error("/human_code", "taken by another achievement of this issuer")],
            )


def _check_translations(definition: dict[str, Any], issuer: Issuer, *, publishing: bool = False) -> None:
    errors = translation_errors(definition, language=own_language(definition, default=issuer.default_language), publishing=publishing)
    if errors:
        what = "cannot publish" if publishing else "translations"
        raise UnprocessableContent(f"{what}: " + "; ".join(f"{e['pointer'].removeprefix('#')}: {e['detail']}" for e in errors), errors=errors)


async def _publish(
    session: AsyncSession, *, issuer: Issuer, achievement: Achievement, base_url: str, now: datetime
) -> AchievementVersion:
    missing = missing_elements(achievement.definition, issuer_country=issuer.address_country or issuer.address_country_code)
    if missing:
        names = "; ".join(e["detail"].removeprefix("missing EU element: ") for e in missing)
        raise UnprocessableContent(f"cannot publish: {names}", errors=missing)
    _check_translations(achievement.definition, issuer, publishing=True)
    version = achievement.version + 1
    url = achievement_url(base_url, issuer.id, achievement.id, version=version)
    # The language is fixed here, with the version: a later change of the issuer's default
    # language does not change what this version says.
    language = own_language(achievement.definition, default=issuer.default_language)
    try:
        document = achievement_document(achievement.definition, achievement_url=url, version=version, language=language)
        translations = translated_documents(achievement.definition, achievement_url=url, version=version, language=language)
    except ValueError as exc:
        raise UnprocessableContent(str(exc)) from None
    row = AchievementVersion(
        id=new_id(),
        achievement_id=achievement.id,
        version=version,
        document=document,
        translations=translations or None,
        assessed=bool(achievement.definition.get("assessed")),
        created_at=now,
    )
    await AchievementRepository(session).add(row)
    achievement.version = version
    achievement.status = "published"
    return row


async def create_achievement(
    session: AsyncSession, *, principal: Principal, issuer_id: str, data: AchievementCreate, base_url: str, now: datetime
) -> Achievement:
    principal.require(issuer_id, "manage")
    # A course code is checked against the issuer's other achievements under the issuer's row
    # lock, so two achievements created at once cannot both take it.
    issuer = await get_issuer(
        session, principal=principal, issuer_id=issuer_id, for_update=data.human_code is not None, for_share=data.status == "published"
    )
    achievement = Achievement(
        id=new_id(), issuer_id=issuer.id, status="draft", definition=_definition(data), version=0, created_at=now, updated_at=now
    )
    await _check_code(session, issuer.id, achievement.definition)
    _check_translations(achievement.definition, issuer)
    await AchievementRepository(session).add(achievement)
    events = [Event("achievement.created", issuer.id, principal.client_id, achievement.id, now, {"name": achievement.definition.get("name")})]
    if data.status == "published":
        version = await _publish(session, issuer=issuer, achievement=achievement, base_url=base_url, now=now)
        await session.flush()
        events.append(_published(achievement, version, principal, now))
    await record(session, *events)
    return achievement


def _published(achievement: Achievement, version: AchievementVersion, principal: Principal, now: datetime) -> Event:
    return Event("achievement.published", achievement.issuer_id, principal.client_id, achievement.id, now, {"version": version.version})


async def update_achievement(
    session: AsyncSession,
    *,
    principal: Principal,
    issuer_id: str,
    achievement_id: str,
    data: AchievementUpdate,
    base_url: str,
    now: datetime,
) -> Achievement:
    principal.require(issuer_id, "manage")
    # Shared lock: an edit of the issuer's address waits, so it sees this publication (see issuers.service).
    issuer = await get_issuer(session, principal=principal, issuer_id=issuer_id, for_update=data.human_code is not None, for_share=True)
    achievement = await AchievementRepository(session).get(issuer_id, achievement_id, for_update=True)
    if achievement is None:
        raise NotFound(f"no achievement {achievement_id!r}")
    if achievement.status == "retired":
        raise Conflict(
            f"achievement {achievement_id!r} is retired: it is kept as it was awarded and no longer edited",
            errors=[field_error("/status", "retired")],
        )
    changes = data.model_dump(mode="json", exclude_unset=True, exclude={"status"})
    merged = {**achievement.definition, **changes}
    merged = {key: value for key, value in merged.items() if value is not None}
    if not merged.get("name"):
        raise UnprocessableContent("an achievement needs a name", errors=[{"pointer": "#/name", "detail": "required"}])
    definition = _definition(AchievementFields.model_validate(merged))
    if data.status == "draft" and achievement.status == "published":
        raise UnprocessableContent(
            "a published achievement cannot go back to draft: credentials refer to it",
            errors=[{"pointer": "#/status", "detail": "published achievements stay published"}],
        )
    await _check_code(session, issuer_id, definition, achievement_id=achievement.id)
    _check_translations(definition, issuer)
    changed = definition != achievement.definition
    fields = sorted(k for k in definition.keys() | achievement.definition.keys() if definition.get(k) != achievement.definition.get(k))
    achievement.definition = definition
    achievement.updated_at = now
    events = [Event("achievement.updated", issuer.id, principal.client_id, achievement.id, now, {"fields": fields})] if changed else []
    if (achievement.status == "published" and changed) or (achievement.status == "draft" and data.status == "published"):
        version = await _publish(session, issuer=issuer, achievement=achievement, base_url=base_url, now=now)
        events.append(_published(achievement, version, principal, now))
    await session.flush()
    await record(session, *events)
    return achievement


async def retire_achievement(
    session: AsyncSession, *, principal: Principal, issuer_id: str, achievement_id: str, now: datetime
) -> Achievement:
    """No new awards from now on. Credentials already issued stay valid (they embed their
    version, which stays served), and the definition stays readable; retiring twice is a no-op."""
    principal.require(issuer_id, "manage")
    await get_issuer(session, principal=principal, issuer_id=issuer_id)
    achievement = await AchievementRepository(session).get(issuer_id, achievement_id, for_update=True)
    if achievement is None:
        raise NotFound(f"no achievement {achievement_id!r}")
    if achievement.status == "retired":
        return achievement
    if achievement.status != "published":
        raise Conflict(
            f"achievement {achievement_id!r} is a draft: nothing was awarded with it, so there is nothing to retire",
            errors=[field_error("/status", "only a published achievement can be retired")],
        )
    achievement.status = "retired"
    achievement.updated_at = now
    await session.flush()
    await record(
        session, Event("achievement.retired", issuer_id, principal.client_id, achievement.id, now, {"version": achievement.version})
    )
    return achievement


async def list_versions(session: AsyncSession, *, principal: Principal, issuer_id: str, achievement_id: str) -> Sequence[AchievementVersion]:
    """Every published version, oldest first."""
    achievement = await get_achievement(session, principal=principal, issuer_id=issuer_id, achievement_id=achievement_id)
    return await AchievementRepository(session).versions(achievement.id)


async def version_diff(
    session: AsyncSession, *, principal: Principal, issuer_id: str, achievement_id: str, from_version: int | None = None, to_version: int | None = None
) -> VersionDiff:
    """Two published versions side by side, field by field; by default the newest and the one
    before it (or the first with itself, when only one is published)."""
    achievement = await get_achievement(session, principal=principal, issuer_id=issuer_id, achievement_id=achievement_id)
    to_version = to_version or achievement.version or 1
    from_version = from_version or max(1, to_version - 1)
    repository = AchievementRepository(session)
    found = []
    for name, number in (("from", from_version), ("to", to_version)):
        version = await repository.version(achievement.id, number)
        if version is None:
            raise NotFound(
                f"achievement {achievement_id!r} has no published version {number}",
                errors=[{"parameter": name, "detail": f"versions are 1 to {achievement.version}" if achievement.version else "none published"}],
            )
        found.append(version)
    rows = diff_documents(found[0].document, found[1].document, found[0].translations, found[1].translations)
    return VersionDiff(
        from_version=from_version,
        to_version=to_version,
        fields=[FieldChangeOut(key=r.key, label=r.label, before=r.before, after=r.after, changed=r.changed) for r in rows],
    )


def missing_names(definition: dict[str, Any], issuer: Issuer) -> list[str]:
    """The EU elements a definition still lacks, in words (what a checklist shows)."""
    country = issuer.address_country or issuer.address_country_code
    return [e["detail"].removeprefix("missing EU element: ") for e in missing_elements(definition, issuer_country=country)]


async def get_achievement(session: AsyncSession, *, principal: Principal, issuer_id: str, achievement_id: str) -> Achievement:
    principal.check_issuer(issuer_id)
    achievement = await AchievementRepository(session).get(issuer_id, achievement_id)
    if achievement is None:
        raise NotFound(f"no achievement {achievement_id!r}")
    return achievement


async def list_achievements(session: AsyncSession, *, principal: Principal, issuer_id: str) -> Sequence[Achievement]:
    await get_issuer(session, principal=principal, issuer_id=issuer_id)
    return await AchievementRepository(session).for_issuer(issuer_id)


async def public_version(session: AsyncSession, *, issuer_id: str, achievement_id: str, version: int) -> tuple[PublishedVersion, int]:
    """One published version, for anyone, and the number of the newest."""
    found = await AchievementRepository(session).published(issuer_id, achievement_id, version)
    if found is None:
        raise NotFound(f"no published version {version} of achievement {achievement_id!r}")
    return found


async def published_version(session: AsyncSession, achievement: Achievement) -> AchievementVersion | None:
    if achievement.version == 0:
        return None
    return await AchievementRepository(session).version(achievement.id, achievement.version)


async def achievement_out(session: AsyncSession, achievement: Achievement, *, issuer: Issuer | None = None) -> AchievementOut:
    if issuer is None:
        issuer = await session.get(Issuer, achievement.issuer_id)
    version = await published_version(session, achievement)
    return AchievementOut(
        id=achievement.id,
        issuer_id=achievement.issuer_id,
        status=achievement.status,  # type: ignore[arg-type]
        version=achievement.version,
        definition=achievement.definition,
        missing_elements=missing_names(achievement.definition, issuer) if issuer else [],
        document=version.document if version else None,
        created_at=achievement.created_at,
        updated_at=achievement.updated_at,
    )
