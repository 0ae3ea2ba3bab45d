"""Learning pathways (list for every role; create and edit for managers): completing the
components earns the pathway's own achievement. The same service calls as the pathways API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Form
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ..achievements import service as achievements
from ..pathways import service as pathways
from ..pathways.schemas import PathwayCreate, PathwayOut, PathwayUpdate
from ..problems import ProblemError
from ..web.deps import SessionDep
from .form_errors import FormErrors, attempt, from_problem, from_validation
from .web import IssuerAccess, access, console_page, console_router

__all__ = ["router"]

router = console_router()

Viewer = Annotated[IssuerAccess, Depends(access("viewer"))]
Manager = Annotated[IssuerAccess, Depends(access("manager"))]

INPUTS = {
    "/name": "name",
    "/achievement_id": "achievement_id",
    "/components": "components",
    "/rule": "rule",
    "/min_count": "min_count",
    "/status": "status",
}
LABELS = {
    "name": "Name",
    "achievement_id": "Completing it earns",
    "components": "Components",
    "rule": "Completed when the learner holds",
    "min_count": "How many components",
    "status": "State",
}
RULES = [("all", "every component"), ("at_least", "at least a number of them")]


@dataclass
class PathwayForm:
    name: str = ""
    achievement_id: str = ""
    components: list[str] = field(default_factory=list)
    rule: str = "all"
    min_count: str = ""
    status: str = "active"
    evaluate_existing: bool = False
    errors: FormErrors = field(default_factory=FormErrors)

    def body(self, *, new: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "components": [{"achievement_id": a} for a in self.components],
            "rule": self.rule,
            "min_count": self.min_count or None,
        }
        if new:
            body |= {"achievement_id": self.achievement_id, "evaluate_existing": self.evaluate_existing}
        else:
            body["status"] = self.status
        return body


async def _published(session: AsyncSession, acc: IssuerAccess) -> list[tuple[str, str]]:
    found = await achievements.list_achievements(session, principal=acc.principal, issuer_id=acc.issuer.id)
    chosen = [(a.id, str(a.definition.get("name") or a.id)) for a in found if a.status == "published"]
    return sorted(chosen, key=lambda pair: pair[1].casefold())


async def _form_page(
    session: AsyncSession, acc: IssuerAccess, form: PathwayForm, *, pathway: PathwayOut | None = None, status: int = 200
) -> Response:
    return console_page(
        acc, "console/pathways/form.html", status=status, title="Edit the pathway" if pathway else "New pathway",
        form=form, pathway=pathway, labels=LABELS, rules=RULES, achievements=await _published(session, acc), notice=None,
    )


@router.get("/console/{issuer_id}/pathways")
async def pathway_list(acc: Viewer, session: SessionDep) -> Response:
    found = await pathways.list_pathways(session, principal=acc.principal, issuer_id=acc.issuer.id)
    listed = [await pathways.pathway_out(session, p) for p in found]
    names = dict(await _published(session, acc))
    return console_page(acc, "console/pathways/index.html", title="Pathways", pathways=listed, names=names)


@router.get("/console/{issuer_id}/pathways/new")
async def new_pathway(acc: Manager, session: SessionDep) -> Response:
    return await _form_page(session, acc, PathwayForm())


def _read(name: str, achievement_id: str, components: list[str] | None, rule: str, min_count: str, status: str, evaluate: str) -> PathwayForm:
    return PathwayForm(
        name=name.strip(), achievement_id=achievement_id.strip(), components=[c for c in (components or []) if c],
        rule=rule or "all", min_count=min_count.strip(), status=status or "active", evaluate_existing=evaluate == "yes",
    )


_Name = Annotated[str, Form(max_length=512)]
_Id = Annotated[str, Form(max_length=64)]
_Components = Annotated[list[str] | None, Form()]
_Short = Annotated[str, Form(max_length=20)]


@router.post("/console/{issuer_id}/pathways")
async def create_pathway(
    acc: Manager,
    session: SessionDep,
    name: _Name = "",
    achievement_id: _Id = "",
    components: _Components = None,
    rule: _Short = "all",
    min_count: _Short = "",
    evaluate_existing: _Short = "",
) -> Response:
    form = _read(name, achievement_id, components, rule, min_count, "active", evaluate_existing)
    try:
        data = PathwayCreate.model_validate(form.body(new=True))
    except ValidationError as exc:
        form.errors = from_validation(exc, INPUTS)
        return await _form_page(session, acc, form, status=422)
    try:
        async with attempt(session):
            made = await pathways.create_pathway(session, principal=acc.principal, issuer_id=acc.issuer.id, data=data, now=datetime.now(UTC))
    except ProblemError as problem:
        if problem.status in (403, 404) and not problem.errors:
            raise
        form.errors = from_problem(problem, INPUTS)
        return await _form_page(session, acc, form, status=problem.status)
    return await _edit_page(session, acc, made.id, notice=f"The pathway “{made.name}” is created.", status=201)


async def _edit_page(session: AsyncSession, acc: IssuerAccess, pathway_id: str, *, notice: str | None = None, status: int = 200) -> Response:
    pathway = await pathways.pathway_out(
        session, await pathways.get_pathway(session, principal=acc.principal, issuer_id=acc.issuer.id, pathway_id=pathway_id)
    )
    form = PathwayForm(
        name=pathway.name, achievement_id=pathway.achievement_id,
        components=[c.achievement_id for c in pathway.components if c.issuer_id == acc.issuer.id],
        rule=pathway.rule, min_count=str(pathway.min_count or ""), status=pathway.status,
    )
    return console_page(
        acc, "console/pathways/form.html", status=status, title="Edit the pathway", form=form, pathway=pathway, labels=LABELS,
        rules=RULES, achievements=await _published(session, acc), notice=notice,
    )


@router.get("/console/{issuer_id}/pathways/{pathway_id}")
async def edit_pathway(acc: Manager, session: SessionDep, pathway_id: str) -> Response:
    return await _edit_page(session, acc, pathway_id)


@router.post("/console/{issuer_id}/pathways/{pathway_id}")
async def update_pathway(
    acc: Manager,
    session: SessionDep,
    pathway_id: str,
    name: _Name = "",
    components: _Components = None,
    rule: _Short = "all",
    min_count: _Short = "",
    status: _Short = "active",
) -> Response:
    """Rename, change the rule or components (later evaluations only), or archive."""
    current = await pathways.pathway_out(
        session, await pathways.get_pathway(session, principal=acc.principal, issuer_id=acc.issuer.id, pathway_id=pathway_id)
    )
    form = _read(name, current.achievement_id, components, rule, min_count, status, "")
    # Components of other issuers (set through the API) are kept: the form lists this issuer's only.
    body = form.body(new=False)
    body["components"] += [{"issuer_id": c.issuer_id, "achievement_id": c.achievement_id} for c in current.components if c.issuer_id != acc.issuer.id]
    try:
        data = PathwayUpdate.model_validate(body)
    except ValidationError as exc:
        form.errors = from_validation(exc, INPUTS)
        return await _form_page(session, acc, form, pathway=current, status=422)
    try:
        async with attempt(session):
            await pathways.update_pathway(
                session, principal=acc.principal, issuer_id=acc.issuer.id, pathway_id=pathway_id, data=data, now=datetime.now(UTC)
            )
    except ProblemError as problem:
        if problem.status in (403, 404) and not problem.errors:
            raise
        form.errors = from_problem(problem, INPUTS)
        return await _form_page(session, acc, form, pathway=current, status=problem.status)
    return await _edit_page(session, acc, pathway_id, notice="The pathway is saved. The change applies to later awards.")
