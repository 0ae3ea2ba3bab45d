"""The console's achievement pages: the list, the form (with its live checklist of missing EU
elements), preview, publish, edit (a new version), the side-by-side diff of versions, and
retire. Every decision is the achievements service's; these routes read forms and render."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from babel import Locale
from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..achievements import service
from ..achievements.document import own_language
from ..achievements.images import with_own_image
from ..achievements.schemas import AchievementCreate, AchievementUpdate
from ..i18n.languages import SUPPORTED
from ..problems import Conflict, ProblemError, UnprocessableContent
from ..public.page import style_csp_source
from ..public.preview import preview_achievement
from ..web.deps import RuntimeDep, SessionDep
from ..web.security import html_policy
from .achievement_form import (
    ACHIEVEMENT_TYPE_CHOICES,
    RESULT_TYPE_CHOICES,
    FormState,
    definition_from_form,
    form_errors,
    form_from_definition,
    pointer_to_field,
    state_from_form,
)
from .web import IssuerAccess, access, console_page, console_router, fragment

__all__ = ["router"]

router = console_router()

Viewer = Annotated[IssuerAccess, Depends(access("viewer"))]
Manager = Annotated[IssuerAccess, Depends(access("manager"))]

#: The form's choices, in the order a person reads them.
CHOICES: dict[str, list[tuple[str, str]]] = {
    "achievement_type": [("", "Chosen from assessment (Diploma or Certificate of completion)")]
    + [(t, t) for t in ACHIEVEMENT_TYPE_CHOICES],
    "result_type": [(t, t) for t in RESULT_TYPE_CHOICES],
    "eqf_level": [("", "Not given")] + [(str(n), f"EQF level {n}") for n in range(1, 9)],
    "assessed": [("", "Not given"), ("yes", "Yes: individually assessed (a diploma)"), ("no", "No: a certificate of participation")],
    "supervision": [
        ("", "Not given"),
        ("unsupervised-no-identity-verification", "Unsupervised, without identity verification"),
        ("supervised-no-identity-verification", "Supervised, without identity verification"),
        ("supervised-with-identity-verification", "Supervised, with identity verification"),
    ],
    "stackability": [("", "Not given"), ("stand-alone", "Stand-alone"), ("stackable", "Stackable")],
    "language": [(code, Locale("en").languages.get(code, code)) for code in SUPPORTED],
}
STATUS_WORDS = {"draft": "Draft", "published": "Published", "retired": "Retired"}


def _base(acc: IssuerAccess) -> str:
    return f"/console/{acc.issuer.id}/achievements"


def _present(definition: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in definition.items() if v is not None}


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _form_page(
    acc: IssuerAccess, state: FormState, *, achievement: Any = None, status: int = 200, problem: str | None = None
) -> HTMLResponse:
    definition = _present(definition_from_form(state.values))
    return console_page(
        acc,
        "console/achievements/form.html",
        status=status,
        title=f"Edit {achievement.definition.get('name')}" if achievement is not None else "New achievement",
        state=state,
        achievement=achievement,
        choices=CHOICES,
        problem=problem,
        missing=service.missing_names(definition, acc.issuer),
        section=_base(acc),
    )


def _errors_of(exc: ProblemError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors:
        if "pointer" in error:
            errors.setdefault(pointer_to_field(error["pointer"]), error["detail"])
    return errors


@router.get("/console/{issuer_id}/achievements")
async def achievement_list(acc: Viewer, session: SessionDep) -> HTMLResponse:
    achievements = await service.list_achievements(session, principal=acc.principal, issuer_id=acc.issuer.id)
    rows = [(a, service.missing_names(a.definition, acc.issuer)) for a in achievements]
    return console_page(acc, "console/achievements/list.html", title="Achievements", rows=rows, status_words=STATUS_WORDS, section=_base(acc))


@router.get("/console/{issuer_id}/achievements/new")
async def new_achievement(acc: Manager) -> HTMLResponse:
    return _form_page(acc, form_from_definition({}, language=own_language({}, default=acc.issuer.default_language)))


@router.post("/console/{issuer_id}/achievements/checklist")
async def checklist(acc: Manager, request: Request) -> HTMLResponse:
    """The missing EU elements for the form as it stands (htmx swaps it in on every change)."""
    definition = _present(definition_from_form(await _form(request)))
    return fragment("console/achievements/_checklist.html", missing=service.missing_names(definition, acc.issuer))


@router.post("/console/{issuer_id}/achievements/new")
async def create_achievement(acc: Manager, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    form = await _form(request)
    state = state_from_form(form)
    definition = definition_from_form(form)
    state.errors = form_errors(definition)
    if not definition.get("name"):
        state.errors.setdefault("name", "Give the achievement a name.")
    if state.errors:
        return _form_page(acc, state, status=422, problem="The achievement was not saved: correct the fields marked below.")
    publish = form.get("action") == "publish"
    data = AchievementCreate.model_validate({**_present(definition), "status": "published" if publish else "draft"})
    try:
        data = await with_own_image(session, runtime.fetcher, data, base_url=runtime.settings.base_url)
    except UnprocessableContent as exc:
        state.errors = _errors_of(exc)
        return _form_page(acc, state, status=exc.status, problem=f"Nothing was saved: {exc.detail}")
    try:
        async with session.begin_nested():  # a refused publication leaves nothing behind
            achievement = await service.create_achievement(
                session, principal=acc.principal, issuer_id=acc.issuer.id, data=data, base_url=runtime.settings.base_url,
                now=datetime.now(UTC),
            )
    except (UnprocessableContent, Conflict) as exc:
        state.errors = _errors_of(exc)
        return _form_page(acc, state, status=exc.status, problem=f"Nothing was saved: {exc.detail}")
    return RedirectResponse(f"{_base(acc)}/{achievement.id}", status_code=303)


@router.get("/console/{issuer_id}/achievements/{achievement_id}")
async def achievement_detail(acc: Viewer, achievement_id: str, session: SessionDep) -> HTMLResponse:
    return await _detail(acc, session, achievement_id)


async def _detail(
    acc: IssuerAccess, session: SessionDep, achievement_id: str, *, problem: str | None = None, status: int = 200
) -> HTMLResponse:
    achievement = await service.get_achievement(session, principal=acc.principal, issuer_id=acc.issuer.id, achievement_id=achievement_id)
    versions = await service.list_versions(session, principal=acc.principal, issuer_id=acc.issuer.id, achievement_id=achievement_id)
    return console_page(
        acc,
        "console/achievements/detail.html",
        status=status,
        title=str(achievement.definition.get("name")),
        achievement=achievement,
        versions=versions,
        missing=service.missing_names(achievement.definition, acc.issuer),
        status_words=STATUS_WORDS,
        problem=problem,
        section=_base(acc),
    )


@router.get("/console/{issuer_id}/achievements/{achievement_id}/edit")
async def edit_achievement(acc: Manager, achievement_id: str, session: SessionDep) -> HTMLResponse:
    achievement = await service.get_achievement(session, principal=acc.principal, issuer_id=acc.issuer.id, achievement_id=achievement_id)
    language = own_language(achievement.definition, default=acc.issuer.default_language)
    return _form_page(acc, form_from_definition(achievement.definition, language=language), achievement=achievement)


@router.post("/console/{issuer_id}/achievements/{achievement_id}/edit")
async def save_achievement(acc: Manager, achievement_id: str, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    achievement = await service.get_achievement(session, principal=acc.principal, issuer_id=acc.issuer.id, achievement_id=achievement_id)
    form = await _form(request)
    state = state_from_form(form)
    definition = definition_from_form(form)
    state.errors = form_errors(definition)
    if not definition.get("name"):
        state.errors.setdefault("name", "Give the achievement a name.")
    if state.errors:
        return _form_page(acc, state, achievement=achievement, status=422, problem="Nothing was saved: correct the fields marked below.")
    publish = form.get("action") == "publish"
    data = AchievementUpdate.model_validate({**definition, **({"status": "published"} if publish else {})})
    try:  # the image first: a draft saved below must not keep another host's image
        data = await with_own_image(session, runtime.fetcher, data, base_url=runtime.settings.base_url)
        definition = {**definition, **({"image": str(data.image)} if data.image is not None else {})}
    except UnprocessableContent as exc:
        state.errors = _errors_of(exc)
        return _form_page(acc, state, achievement=achievement, status=exc.status, problem=f"Nothing was saved: {exc.detail}")
    try:
        async with session.begin_nested():  # a refused new version leaves the achievement as it was
            await service.update_achievement(
                session, principal=acc.principal, issuer_id=acc.issuer.id, achievement_id=achievement_id, data=data,
                base_url=runtime.settings.base_url, now=datetime.now(UTC),
            )
    except (UnprocessableContent, Conflict) as exc:
        await session.refresh(achievement)
        state.errors = _errors_of(exc)
        if achievement.status != "draft" or not publish or isinstance(exc, Conflict):
            return _form_page(acc, state, achievement=achievement, status=exc.status, problem=f"Nothing was saved: {exc.detail}")
        # A draft is saved whatever publishing said: the work is not lost to a missing element.
        await service.update_achievement(
            session, principal=acc.principal, issuer_id=acc.issuer.id, achievement_id=achievement_id,
            data=AchievementUpdate.model_validate(definition), base_url=runtime.settings.base_url, now=datetime.now(UTC),
        )
        return _form_page(acc, state, achievement=achievement, status=422, problem=f"Saved as a draft, not published: {exc.detail}")
    return RedirectResponse(f"{_base(acc)}/{achievement_id}", status_code=303)


@router.post("/console/{issuer_id}/achievements/{achievement_id}/publish")
async def publish_achievement(acc: Manager, achievement_id: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    try:
        async with session.begin_nested():
            await service.update_achievement(
                session, principal=acc.principal, issuer_id=acc.issuer.id, achievement_id=achievement_id,
                data=AchievementUpdate(status="published"), base_url=runtime.settings.base_url, now=datetime.now(UTC),
            )
    except UnprocessableContent as exc:
        return await _detail(acc, session, achievement_id, problem=exc.detail, status=422)
    return RedirectResponse(f"{_base(acc)}/{achievement_id}", status_code=303)


@router.get("/console/{issuer_id}/achievements/{achievement_id}/preview")
async def preview(acc: Viewer, achievement_id: str, session: SessionDep, runtime: RuntimeDep) -> HTMLResponse:
    found = await preview_achievement(
        session, principal=acc.principal, issuer_id=acc.issuer.id, achievement_id=achievement_id,
        base_url=runtime.settings.base_url, now=datetime.now(UTC),
    )
    achievement = await service.get_achievement(session, principal=acc.principal, issuer_id=acc.issuer.id, achievement_id=achievement_id)
    return console_page(
        acc,
        "console/achievements/preview.html",
        title=f"Preview: {achievement.definition.get('name')}",
        achievement=achievement,
        missing=found.missing,
        document=json.dumps(found.document, ensure_ascii=False, indent=2),
        section=_base(acc),
    )


@router.get("/console/{issuer_id}/achievements/{achievement_id}/preview/page")
async def preview_page(acc: Viewer, achievement_id: str, session: SessionDep, runtime: RuntimeDep) -> HTMLResponse:
    """The public credential page for a sample learner, marked as a preview (the public page's
    own policy: its one inline style, no script)."""
    found = await preview_achievement(
        session, principal=acc.principal, issuer_id=acc.issuer.id, achievement_id=achievement_id,
        base_url=runtime.settings.base_url, now=datetime.now(UTC),
    )
    headers = {
        "Content-Security-Policy": html_policy(style_csp_source()),
        "Cache-Control": "no-store",
        "X-Robots-Tag": "noindex",
    }
    return HTMLResponse(found.page_html, headers=headers)


@router.get("/console/{issuer_id}/achievements/{achievement_id}/preview/badge.svg")
async def preview_badge(acc: Viewer, achievement_id: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    found = await preview_achievement(
        session, principal=acc.principal, issuer_id=acc.issuer.id, achievement_id=achievement_id,
        base_url=runtime.settings.base_url, now=datetime.now(UTC),
    )
    return Response(found.badge_svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/console/{issuer_id}/achievements/{achievement_id}/diff")
async def diff(
    acc: Viewer,
    achievement_id: str,
    session: SessionDep,
    from_: Annotated[int | None, Query(alias="from", ge=1, le=1_000_000)] = None,
    to: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> HTMLResponse:
    achievement = await service.get_achievement(session, principal=acc.principal, issuer_id=acc.issuer.id, achievement_id=achievement_id)
    newest = achievement.version
    to = to or newest
    from_ = from_ or max(1, to - 1)
    compared = await service.version_diff(
        session, principal=acc.principal, issuer_id=acc.issuer.id, achievement_id=achievement_id, from_version=from_, to_version=to
    )
    return console_page(
        acc, "console/achievements/diff.html",
        title=f"Versions {compared.from_version} and {compared.to_version}: {achievement.definition.get('name')}", achievement=achievement, diff=compared, versions=range(1, newest + 1), section=_base(acc)
    )


@router.get("/console/{issuer_id}/achievements/{achievement_id}/retire")
async def confirm_retire(acc: Manager, achievement_id: str, session: SessionDep) -> HTMLResponse:
    achievement = await service.get_achievement(session, principal=acc.principal, issuer_id=acc.issuer.id, achievement_id=achievement_id)
    return console_page(acc, "console/achievements/retire.html", title=f"Retire {achievement.definition.get('name')}?", achievement=achievement, section=_base(acc))


@router.post("/console/{issuer_id}/achievements/{achievement_id}/retire")
async def retire(acc: Manager, achievement_id: str, session: SessionDep) -> Response:
    await service.retire_achievement(
        session, principal=acc.principal, issuer_id=acc.issuer.id, achievement_id=achievement_id, now=datetime.now(UTC)
    )
    return RedirectResponse(f"{_base(acc)}/{achievement_id}", status_code=303)
