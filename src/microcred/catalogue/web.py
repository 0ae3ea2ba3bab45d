"""The catalogue's pages: the list (all issuers, or one), an achievement, a pathway (with the
signed-in learner's progress), and a learner's own pathways at /me/pathways. Server-rendered,
GET forms only; pages for people, kept out of openapi.yaml; their errors are pages too."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from fastapi.responses import RedirectResponse, Response

from ..awards.document import credential_url
from ..backpack.service import addresses
from ..i18n import N_, gettext, ngettext
from ..issuers.repository import IssuerRepository
from ..learners.web import BrowserDep, html_error, html_page
from ..pathways.progress import PathwayProgress, progress
from ..problems import NotFound
from ..web.deps import RuntimeDep, SessionDep, check_url
from ..web.routes import rendering_errors
from . import gap, service
from .service import Filters

__all__ = ["router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_url)], route_class=rendering_errors(html_error))

Text = Annotated[str, Query(max_length=200)]

#: What each component state says to a person (colour is never the only signal).
STATE_WORDS = {
    "valid": N_("Held (valid)"),
    "suspended": N_("Held, but suspended"),
    "expired": N_("Held, but expired"),
    "revoked": N_("Held, but revoked"),
    "missing": N_("Not yet"),
}

#: A verified credential's state, as the gap check says it.
CHECK_WORDS = {
    "valid": N_("Valid"),
    "expired": N_("Expired: does not count"),
    "revoked": N_("Revoked: does not count"),
    "suspended": N_("Suspended: does not count"),
    "invalid": N_("Not valid: does not count"),
    "unreadable": N_("Could not be read"),
}
MAX_FILES = 20
MAX_URLS = 20


def _number(value: str) -> float | None:
    """A GET form sends empty fields as ""; anything that is not a number is no filter."""
    return float(value) if re.fullmatch(r"\d{1,4}(\.\d{1,2})?", value.strip()) else None


def _filters(q: str, level: str, field: str, provider: str, min_credits: str, max_credits: str, issuer_id: str | None) -> Filters:
    eqf = int(level) if re.fullmatch(r"[1-8]", level.strip()) else None
    return Filters(q.strip(), eqf, field.strip(), provider.strip(), _number(min_credits), _number(max_credits), issuer_id)


async def _catalogue(session: SessionDep, *, issuer_id: str | None, q: str, level: str, field: str, provider: str, min_credits: str, max_credits: str, page: int) -> Response:
    issuer_name = None
    if issuer_id is not None:
        issuer = await IssuerRepository(session).get(issuer_id)
        if issuer is None:
            raise NotFound(gettext("No issuer by this name offers courses here."))
        issuer_name = issuer.name
    filters = _filters(q, level, field, provider, min_credits, max_credits, issuer_id)
    found = await service.listing(session, filters=filters, page=page)
    query = {k: v for k, v in {"q": q, "level": level, "field": field, "provider": provider, "min_credits": min_credits, "max_credits": max_credits}.items() if v}
    here = f"/catalogue/{issuer_id}" if issuer_id else "/catalogue"
    pages = {n: f"{here}?{urlencode({**query, 'page': n})}" for n in (found.page - 1, found.page + 1) if 1 <= n <= found.pages}
    return html_page("catalogue/list.html", listing=found, filters=filters, form=query, action_url=here, pages=pages, issuer_id=issuer_id, issuer_name=issuer_name)


@router.get("/catalogue")
async def catalogue(
    session: SessionDep, q: Text = "", level: Text = "", field: Text = "", provider: Text = "", min_credits: Text = "", max_credits: Text = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Every published achievement and active pathway on this service, searchable and filterable."""
    return await _catalogue(session, issuer_id=None, q=q, level=level, field=field, provider=provider, min_credits=min_credits, max_credits=max_credits, page=page)


@router.get("/catalogue/gap-check")
async def gap_check_page() -> Response:
    """The gap check's form: paste credential URLs or a share-all link, or upload files."""
    return html_page("catalogue/gap_check.html", report=None, urls="", error=None, max_files=MAX_FILES)


def too_many_gap_checks(wait: int) -> Response:
    """The gap check's form for a person over the verification limit (it verifies what it is
    sent, so it shares the verify routes' count; web/rate_limits.py)."""
    message = ngettext(
        "You have checked many credentials in a short time. Try again in %(seconds)d second.",
        "You have checked many credentials in a short time. Try again in %(seconds)d seconds.",
        wait,
    ) % {"seconds": wait}
    return html_page("catalogue/gap_check.html", status=429, report=None, urls="", error=message, max_files=MAX_FILES)


@router.post("/catalogue/gap-check")
async def gap_check(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Verify what was sent and show, per pathway, what the person holds and what is missing.
    Reads only: nothing sent is kept."""
    urls: list[str] = []
    files: list[tuple[str, bytes]] = []
    text = ""
    try:
        async with request.form(max_files=MAX_FILES, max_fields=5) as form:
            value = form.get("urls")
            text = value if isinstance(value, str) else ""
            for upload in form.getlist("files"):
                if isinstance(upload, UploadFile) and upload.filename:
                    files.append((upload.filename, await upload.read()))
    except MultiPartException as exc:
        return html_page("catalogue/gap_check.html", status=400, report=None, urls="", error=gettext("The form could not be read: %(reason)s") % {"reason": exc.message}, max_files=MAX_FILES)
    urls = [u for u in text.split() if u][:MAX_URLS]
    if not urls and not files:
        return html_page("catalogue/gap_check.html", status=400, report=None, urls=text, error=gettext("Give at least one credential URL or file."), max_files=MAX_FILES)
    report = await gap.gap_check(session, runtime, urls=urls, files=files)
    return html_page("catalogue/gap_check.html", report=report, urls=text, error=None, max_files=MAX_FILES, state_words={state: gettext(words) for state, words in CHECK_WORDS.items()})


@router.get("/catalogue/achievements/{achievement_id}")
async def catalogue_achievement(achievement_id: str, session: SessionDep) -> Response:
    entry = await service.achievement_entry(session, achievement_id)
    if entry is None:
        raise NotFound(gettext("This course is not in the catalogue."))
    return html_page("catalogue/achievement.html", entry=entry)


@router.get("/catalogue/pathways/{pathway_id}")
async def catalogue_pathway(pathway_id: str, session: SessionDep, runtime: RuntimeDep, browser: BrowserDep) -> Response:
    """A pathway's courses, in order, and what they lead to; with the learner's progress when signed in."""
    view = await service.pathway_view(session, pathway_id)
    if view is None:
        raise NotFound(gettext("This pathway is not in the catalogue."))
    mine: PathwayProgress | None = None
    if browser.learner is not None:
        found = await progress(session, emails=await addresses(session, browser.learner), now=datetime.now(UTC), pathway_ids=[pathway_id])
        mine = found[0] if found else None
    return html_page(
        "catalogue/pathway.html", view=view, progress=_progress_rows(view, mine, runtime.settings.base_url), mine=mine,
        earned_url=credential_url(runtime.settings.base_url, mine.credential_id) if mine and mine.credential_id else None,
        signed_in=browser.learner is not None, sign_in_url=f"/learners/sign-in?{urlencode({'next': f'/catalogue/pathways/{pathway_id}'})}",
    )


def _progress_rows(view: service.PathwayView, mine: PathwayProgress | None, base_url: str) -> dict[str, tuple[str, str, str | None]]:
    """achievement id -> (state, words, the learner's credential URL)."""
    if mine is None:
        return {}
    return {
        c.achievement_id: (c.state, gettext(STATE_WORDS.get(c.state, c.state)), credential_url(base_url, c.credential_id) if c.credential_id else None)
        for c in mine.components
    }


@router.get("/me/pathways")
async def my_pathways(session: SessionDep, runtime: RuntimeDep, browser: BrowserDep) -> Response:
    """The pathways the signed-in learner has started, with what they hold and what is missing."""
    if browser.learner is None:
        return RedirectResponse(f"/learners/sign-in?{urlencode({'next': '/me/pathways'})}", status_code=303)
    every = await progress(session, emails=await addresses(session, browser.learner), now=datetime.now(UTC))
    started = [p for p in every if p.started]
    views = []
    for mine in started:
        view = await service.pathway_view(session, mine.pathway_id)
        if view is not None:
            earned = credential_url(runtime.settings.base_url, mine.credential_id) if mine.credential_id else None
            views.append((view, mine, _progress_rows(view, mine, runtime.settings.base_url), earned))
    return html_page("catalogue/my_pathways.html", pathways=views, email=browser.learner.email)


@router.get("/catalogue/{issuer_id}")
async def issuer_catalogue(
    issuer_id: str, session: SessionDep, q: Text = "", level: Text = "", field: Text = "", provider: Text = "", min_credits: Text = "", max_credits: Text = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """One issuer's published achievements and active pathways."""
    return await _catalogue(session, issuer_id=issuer_id, q=q, level=level, field=field, provider=provider, min_credits=min_credits, max_credits=max_credits, page=page)
