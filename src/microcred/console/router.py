"""The console's own pages: signing in and out, and the list of issuers a member works for.
Each area of an issuer (achievements, awarding, credentials...) has its module beside this one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from ..i18n import DEFAULT, using_language
from ..learners.mail import MailError, mailer_for, sign_in_message
from ..learners.service import local_path
from ..problems import BadRequest, Forbidden, ServiceUnavailable
from ..staff import service as staff_service
from ..web.csrf import csrf_token
from ..web.deps import RuntimeDep, SessionDep
from .web import (
    ConsoleBrowserDep,
    browser_token,
    clear_session_cookie,
    console_page,
    console_router,
    keep_browser_token,
    set_session_cookie,
)

__all__ = ["router"]

router = console_router()


def _next(value: str | None) -> str:
    path = local_path(value, default="/console")
    return path if path.startswith("/console") else "/console"


@router.get("/console")
async def home(request: Request, browser: ConsoleBrowserDep, session: SessionDep) -> Response:
    """The issuers the member works for (straight to the one when there is one)."""
    if browser.member is None:
        return RedirectResponse("/console/sign-in", status_code=303)
    issuers = await staff_service.issuers_of(session, browser.member)
    if len(issuers) == 1:
        return RedirectResponse(f"/console/{issuers[0][0].id}/", status_code=303)
    return console_page(browser, "console/home.html", title="Your issuers", issuers=issuers)


@router.get("/console/sign-in")
async def sign_in_page(request: Request, browser: ConsoleBrowserDep, runtime: RuntimeDep, next: Annotated[str | None, Query(max_length=4096)] = None) -> Response:
    return _sign_in_form(request, browser, runtime, next=_next(next))


def _sign_in_form(
    request: Request, browser: ConsoleBrowserDep, runtime: RuntimeDep, *, next: str, error: str | None = None, status: int = 200
) -> Response:
    token, new = browser_token(request, runtime.settings)
    response = console_page(
        browser, "console/sign_in.html", status=status, title="Sign in", next=next, error=error,
        form_csrf=browser.csrf_token if browser.session_token else csrf_token(token),
    )
    if new:
        keep_browser_token(response, token, runtime.settings)
    return response


@router.post("/console/sign-in")
async def send_sign_in_link(
    request: Request,
    browser: ConsoleBrowserDep,
    session: SessionDep,
    runtime: RuntimeDep,
    email: Annotated[str, Form(max_length=320)],
    next: Annotated[str | None, Form(max_length=4096)] = None,
) -> Response:
    """Email a one-time sign-in link to a staff member's address; the answer is the same for an
    address that has no account."""
    settings = runtime.settings
    next_path = _next(next)
    mailer = mailer_for(settings)
    if mailer is None:
        raise ServiceUnavailable("Email sign-in is not configured on this service: its operator has not set an SMTP server (MICROCRED_SMTP_HOST).")
    now = datetime.now(UTC)
    client = staff_service.client_hash(request.client.host if request.client else None, runtime.client_secret)
    try:
        found = await staff_service.request_sign_in(session, email=email, client=client, secret=runtime.client_secret, now=now)
    except BadRequest as problem:
        return _sign_in_form(request, browser, runtime, next=next_path, error=problem.detail, status=400)
    if found is not None:
        member, token = found
        query = urlencode({"token": token, "next": next_path})
        with using_language(DEFAULT):  # the console is in English, its email too
            message = sign_in_message(
                to=member.email, link=f"{settings.base_url}/console/sign-in/confirm?{query}", settings=settings,
                minutes=staff_service.SIGN_IN_LINK_SECONDS // 60, purpose="console",
            )
        try:
            await mailer.send(message)
        except MailError:
            raise ServiceUnavailable("The sign-in email could not be sent just now. Try again in a few minutes.") from None
    return console_page(
        browser, "console/sign_in_sent.html", title="Check your email", minutes=staff_service.SIGN_IN_LINK_SECONDS // 60,
        again_url=f"/console/sign-in?{urlencode({'next': next_path})}",
    )


@router.get("/console/sign-in/confirm")
async def confirm_sign_in_page(
    request: Request,
    browser: ConsoleBrowserDep,
    session: SessionDep,
    runtime: RuntimeDep,
    token: Annotated[str, Query(min_length=1, max_length=200)],
    next: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response:
    """The emailed link. One more click rather than signing in at once: mail filters open links
    to scan them, and would use the link up. The form is bound to this browser."""
    member = await staff_service.link_member(session, token=token, now=datetime.now(UTC))
    nonce, new = browser_token(request, runtime.settings)
    response = console_page(
        browser, "console/sign_in_confirm.html", title="Sign in", email=member.email, token=token, next=_next(next), form_csrf=csrf_token(nonce)
    )
    if new:
        keep_browser_token(response, nonce, runtime.settings)
    return response


@router.post("/console/sign-in/confirm")
async def confirm_sign_in(
    session: SessionDep,
    runtime: RuntimeDep,
    token: Annotated[str, Form(min_length=1, max_length=200)],
    next: Annotated[str | None, Form(max_length=4096)] = None,
) -> Response:
    signed_in = await staff_service.complete_sign_in(
        session, token=token, now=datetime.now(UTC), session_seconds=runtime.settings.staff_session_seconds
    )
    response = RedirectResponse(_next(next), status_code=303)
    set_session_cookie(response, signed_in.session_token, runtime.settings)  # a new session id: no fixation
    return response


@router.post("/console/sign-out")
async def sign_out(browser: ConsoleBrowserDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    if browser.session_token is None:
        raise Forbidden("You are not signed in.")
    await staff_service.sign_out(session, session_token=browser.session_token)
    response = RedirectResponse("/console/sign-in", status_code=303)
    clear_session_cookie(response, runtime.settings)
    return response
