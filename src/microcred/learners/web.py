"""What the learners' pages share: the session cookie, the browser making the request, and the
HTML answer with the headers such pages need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from ..i18n import N_, gettext
from ..i18n.requests import COOKIE as LANGUAGE_COOKIE
from ..i18n.requests import prefer as prefer_language
from ..config import Settings
from ..db.models import Learner
from ..problems import ProblemError
from ..public.page import render_page, style_csp_source
from ..web.deps import RuntimeDep, SessionDep
from .service import signed_in_learner

__all__ = [
    "Browser",
    "BrowserDep",
    "clear_session_cookie",
    "clear_sign_in_cookie",
    "cookie_name",
    "html_error",
    "html_page",
    "set_language_cookie",
    "set_session_cookie",
    "set_sign_in_cookie",
    "sign_in_cookie_name",
]


def _plain_http(settings: Settings) -> bool:
    """A development service on http://localhost: its cookie cannot be Secure."""
    return settings.base_url_is_local and urlsplit(settings.base_url).scheme == "http"


def cookie_name(settings: Settings) -> str:
    # __Host-: the browser keeps it only if Secure, for this host alone and every path.
    return "microcred_learner" if _plain_http(settings) else "__Host-microcred_learner"


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        cookie_name(settings),
        token,
        max_age=settings.learner_session_seconds,
        path="/",
        secure=not _plain_http(settings),
        httponly=True,
        samesite="lax",
    )


def sign_in_cookie_name(settings: Settings) -> str:
    """The pre-session cookie of a browser that opened a sign-in link: the link's Continue form
    is accepted only with it (and the CSRF token derived from it), so another site cannot make a
    browser post a link of the attacker's own and sign its user in as the attacker."""
    return "microcred_sign_in" if _plain_http(settings) else "__Host-microcred_sign_in"


def set_sign_in_cookie(response: Response, nonce: str, settings: Settings, *, seconds: int) -> None:
    response.set_cookie(
        sign_in_cookie_name(settings), nonce, max_age=seconds, path="/", secure=not _plain_http(settings), httponly=True, samesite="strict"
    )


def clear_sign_in_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(sign_in_cookie_name(settings), path="/", secure=not _plain_http(settings), httponly=True, samesite="strict")


def set_language_cookie(response: Response, language: str, settings: Settings) -> None:
    """The browser's language choice, as the switcher sets it (read by i18n.requests), so the
    learner's new setting shows on the very next page."""
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, path="/", secure=not _plain_http(settings), httponly=True, samesite="lax")


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(cookie_name(settings), path="/", secure=not _plain_http(settings), httponly=True, samesite="lax")


@dataclass(frozen=True)
class Browser:
    """The browser asking: its session token (for the CSRF token) and learner, when signed in."""

    session_token: str | None
    learner: Learner | None


async def get_browser(request: Request, session: SessionDep, runtime: RuntimeDep) -> Browser:
    token = request.cookies.get(cookie_name(runtime.settings))
    learner = await signed_in_learner(session, session_token=token, now=datetime.now(UTC))
    if learner is not None:
        prefer_language(learner.language)
    return Browser(session_token=token if learner is not None else None, learner=learner)


BrowserDep = Annotated[Browser, Depends(get_browser)]


def html_page(template: str, *, status: int = 200, scripts: bool = False, **context: Any) -> HTMLResponse:
    """A page for a learner: never cached, never framed (the consent page must not be
    clickjacked), and no Referer sent onwards (a sign-in link's token is in its URL).
    ``scripts``: the page runs our own passkey script (from this origin; nothing inline), which
    asks this service for the passkey ceremony."""
    run = "script-src 'self'; connect-src 'self'; " if scripts else ""
    headers = {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": f"default-src 'none'; {run}style-src {style_csp_source()}; frame-ancestors 'none'; base-uri 'none'",
    }
    return HTMLResponse(render_page(template, **context), status_code=status, headers=headers)


_TITLES = {400: N_("This did not work"), 403: N_("Not allowed"), 404: N_("Not found"), 422: N_("This did not work"), 503: N_("Not available right now")}
_OTHER_TITLE = N_("Something went wrong")


def html_error(problem: ProblemError, status: int) -> Response:
    """Errors of the learners' pages, as a page (for rendering_errors). The services word their
    problems in the reader's language; a form FastAPI could not read (422) gets a sentence around
    its technical detail."""
    message = problem.detail
    if status == 422:
        message = gettext("Part of the form was missing or not as expected (%(detail)s). Go back and try again.") % {"detail": problem.detail}
    return html_page(
        "message.html",
        status=status,
        title=gettext(_TITLES.get(status, _OTHER_TITLE)),
        message=message,
        link_url=None,
        link_text="",
    )
