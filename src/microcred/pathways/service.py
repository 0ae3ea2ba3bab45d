"""Defining pathways: which achievements (the issuer's own, or other issuers' published ones)
complete which of the issuer's published achievements, under which rule.

Changes apply to later evaluations only: credentials already issued for a pathway stay as they
are. Creating a pathway with ``evaluate_existing`` also starts a job that evaluates everyone who
already holds a component credential (see :mod:`.completion`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ..achievements.repository import AchievementRepository
from ..auth.principal import Principal
from ..db.base import new_id
from ..db.models import Job, Pathway, PathwayComponent
from ..events import Event, record
from ..issuers.service import get_issuer
from ..jobs.repository import JobRepository
from ..problems import FieldError, NotFound, UnprocessableContent, field_error
from .completion import Learner
from .repository import PathwayRepository
from .schemas import ComponentIn, ComponentOut, JobLink, PathwayCreate, PathwayOut, PathwayUpdate

__all__ = ["create_pathway", "get_pathway", "list_pathways", "pathway_out", "update_pathway"]


async def _components(session: AsyncSession, issuer_id: str, pathway_achievement_id: str, given: Sequence[ComponentIn]) -> tuple[list[tuple[str, str]], list[FieldError]]:
    """The components as (issuer id, achievement id), and a field error for each that is not
    an achievement this pathway may name."""
    wanted = sorted({c.achievement_id for c in given})
    found = await PathwayRepository(session).achievements(wanted)
    components: list[tuple[str, str]] = []
    errors: list[FieldError] = []
    seen: set[str] = set()
    for n, component in enumerate(given):
        owner = component.issuer_id or issuer_id
        achievement = found.get(component.achievement_id)
        at = f"/components/{n}/achievement_id"
        if component.achievement_id == pathway_achievement_id:
            errors.append(field_error(at, "the pathway's own achievement cannot be one of its components"))
        elif component.achievement_id in seen:
            errors.append(field_error(at, "listed twice"))
        elif owner == issuer_id and (achievement is None or achievement.issuer_id != issuer_id):
            errors.append(field_error(at, "not an achievement of this issuer"))
        elif owner != issuer_id and (achievement is None or achievement.issuer_id != owner or achievement.status != "published"):
            # Whether that issuer exists is not said: only its published achievements are public.
            errors.append(field_error(at, f"not a published achievement of issuer {owner!r}"))
        else:
            components.append((owner, component.achievement_id))
        seen.add(component.achievement_id)
    return components, errors


def _rule_errors(rule: str, min_count: int | None, components: int) -> list[FieldError]:
    if rule == "all" and min_count is not None:
        return [field_error("/min_count", "only with rule at_least")]
    if rule == "at_least" and (min_count is None or not 1 <= min_count <= components):
        return [field_error("/min_count", f"rule at_least needs a min_count from 1 to the number of components ({components})")]
    return []


async def _check_achievement(session: AsyncSession, issuer_id: str, achievement_id: str) -> list[FieldError]:
    version = await AchievementRepository(session).current_version(issuer_id, achievement_id)
    if version is None:
        return [field_error("/achievement_id", "not a published achievement of this issuer (publish it first)")]
    if version.retired:
        return [field_error("/achievement_id", "retired: it awards no new credentials")]
    return []


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise UnprocessableContent(f"{errors[0]['pointer']}: {errors[0]['detail']}", errors=errors)


def _rows(pathway_id: str, components: list[tuple[str, str]]) -> list[PathwayComponent]:
    return [
        PathwayComponent(pathway_id=pathway_id, issuer_id=owner, achievement_id=achievement_id, position=n)
        for n, (owner, achievement_id) in enumerate(components)
    ]


async def create_pathway(session: AsyncSession, *, principal: Principal, issuer_id: str, data: PathwayCreate, now: datetime) -> Pathway:
    principal.require(issuer_id, "manage")
    if data.evaluate_existing:
        principal.require(issuer_id, "award")  # it issues credentials at once
    issuer = await get_issuer(session, principal=principal, issuer_id=issuer_id)
    components, errors = await _components(session, issuer.id, data.achievement_id, data.components)
    errors = await _check_achievement(session, issuer.id, data.achievement_id) + errors + _rule_errors(data.rule, data.min_count, len(data.components))
    _raise(errors)
    pathway = Pathway(
        id=new_id(), issuer_id=issuer.id, name=data.name, achievement_id=data.achievement_id, rule=data.rule,
        min_count=data.min_count, status="active", created_at=now, updated_at=now,
    )
    await PathwayRepository(session).add(pathway, _rows(pathway.id, components))
    job = await _evaluation_job(session, pathway, [a for _, a in components], now) if data.evaluate_existing else None
    await record(session, _changed("pathway.created", pathway, principal, now, components, job))
    return pathway


def _changed(
    action: str, pathway: Pathway, principal: Principal, now: datetime, components: list[tuple[str, str]] | None, job: Job | None = None
) -> Event:
    """The audit record of a pathway's creation or change: its rule and, when given, its components."""
    data: dict[str, object] = {"name": pathway.name, "achievement_id": pathway.achievement_id, "rule": pathway.rule,
                               "min_count": pathway.min_count, "status": pathway.status}
    if components is not None:
        data["components"] = [{"issuer_id": issuer, "achievement_id": achievement} for issuer, achievement in components]
    if job is not None:
        data["evaluation_job_id"] = job.id
    return Event(action, pathway.issuer_id, principal.client_id, pathway.id, now, data)


async def _evaluation_job(session: AsyncSession, pathway: Pathway, achievement_ids: list[str], now: datetime) -> Job:
    """A job whose rows are the learners holding any component credential now (jobs.service
    evaluates them chunk by chunk, as it awards the rows of a bulk file)."""
    emails, dids = await PathwayRepository(session).learners(achievement_ids)
    learners = [Learner(email, None) for email in emails] + [Learner(None, did) for did in dids]
    job = Job(
        id=new_id(), issuer_id=pathway.issuer_id, kind="pathway", pathway_id=pathway.id, status="queued",
        source_format="pathway", total=len(learners), created_at=now,
    )
    await JobRepository(session).add(job, [learner.payload() for learner in learners])
    return job


async def get_pathway(session: AsyncSession, *, principal: Principal, issuer_id: str, pathway_id: str) -> Pathway:
    principal.check_issuer(issuer_id)
    pathway = await PathwayRepository(session).get(issuer_id, pathway_id)
    if pathway is None:
        raise NotFound(f"no pathway {pathway_id!r}")
    return pathway


async def list_pathways(session: AsyncSession, *, principal: Principal, issuer_id: str) -> Sequence[Pathway]:
    await get_issuer(session, principal=principal, issuer_id=issuer_id)
    return await PathwayRepository(session).for_issuer(issuer_id)


async def update_pathway(
    session: AsyncSession, *, principal: Principal, issuer_id: str, pathway_id: str, data: PathwayUpdate, now: datetime
) -> Pathway:
    principal.require(issuer_id, "manage")
    await get_issuer(session, principal=principal, issuer_id=issuer_id)
    repository = PathwayRepository(session)
    pathway = await repository.get(issuer_id, pathway_id, for_update=True)
    if pathway is None:
        raise NotFound(f"no pathway {pathway_id!r}")
    changed = data.model_fields_set
    if "name" in changed and data.name is None:
        raise UnprocessableContent("a pathway needs a name", errors=[field_error("/name", "required")])
    if "rule" in changed and data.rule is None:
        raise UnprocessableContent("a pathway needs a rule", errors=[field_error("/rule", "all or at_least")])
    if "components" in changed and data.components is None:
        raise UnprocessableContent("a pathway needs components", errors=[field_error("/components", "at least one")])
    components: list[tuple[str, str]] | None = None
    errors: list[FieldError] = []
    if data.components is not None:
        components, errors = await _components(session, issuer_id, pathway.achievement_id, data.components)
        count = len(data.components)
    else:
        count = len((await repository.components([pathway.id]))[pathway.id])
    rule = data.rule or pathway.rule
    # Switching to "all" forgets the old min_count; at_least keeps it unless a new one is given.
    min_count = data.min_count if "min_count" in changed else (pathway.min_count if rule == "at_least" else None)
    _raise(errors + _rule_errors(rule, min_count, count))
    if data.name is not None:
        pathway.name = data.name
    if data.status is not None:
        pathway.status = data.status
    pathway.rule, pathway.min_count, pathway.updated_at = rule, min_count, now
    if components is not None:
        await repository.replace_components(pathway.id, _rows(pathway.id, components))
    await session.flush()
    await record(session, _changed("pathway.updated", pathway, principal, now, components))
    return pathway


async def pathway_out(session: AsyncSession, pathway: Pathway) -> PathwayOut:
    repository = PathwayRepository(session)
    components = (await repository.components([pathway.id]))[pathway.id]
    names = await repository.achievement_names([c.achievement_id for c in components])
    job_id = await repository.evaluation_job(pathway.id)
    return PathwayOut(
        id=pathway.id,
        issuer_id=pathway.issuer_id,
        name=pathway.name,
        achievement_id=pathway.achievement_id,
        rule=pathway.rule,  # type: ignore[arg-type]
        min_count=pathway.min_count,
        status=pathway.status,  # type: ignore[arg-type]
        components=[ComponentOut(issuer_id=c.issuer_id, achievement_id=c.achievement_id, name=names.get(c.achievement_id)) for c in components],
        evaluation_job=JobLink(id=job_id, url=f"/api/v1/jobs/{job_id}") if job_id else None,
        created_at=pathway.created_at,
        updated_at=pathway.updated_at,
    )
