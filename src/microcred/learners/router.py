"""The learners' pages: ask for a sign-in link, use it, sign out. Pages for people, kept out of
openapi.yaml; their errors are pages too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from ..i18n import gettext
from ..problems import BadRequest, Forbidden, ServiceUnavailable
from ..web.deps import RuntimeDep, SessionDep, check_url
from ..web.routes import rendering_errors
from . import service
from .mail import MailError, SignInPurpose, mailer_for, sign_in_message
from ..tokens import new_token
from .web import (
    BrowserDep,
    clear_session_cookie,
    clear_sign_in_cookie,
    html_error,
    html_page,
    set_session_cookie,
    set_sign_in_cookie,
    sign_in_cookie_name,
)

__all__ = ["router"]

router = APIRouter(prefix="/learners", include_in_schema=False, dependencies=[Depends(check_url)], route_class=rendering_errors(html_error))


@router.get("/sign-in")
async def sign_in_page(browser: BrowserDep, next: Annotated[str | None, Query(max_length=4096)] = None) -> Response:
    """Ask for a sign-in link (or, signed in already, see as whom and sign out)."""
    return _sign_in_form(browser, next=service.local_path(next))


def _sign_in_form(browser: BrowserDep, *, next: str, error: str | None = None, status: int = 200) -> Response:
    return html_page(
        "sign_in.html",
        status=status,
        scripts=True,  # passkey_sign_in.html
        learner_email=browser.learner.email if browser.learner else None,
        csrf_token=service.csrf_token(browser.session_token) if browser.session_token else "",
        sign_out_url=router.url_path_for("sign_out"),
        action_url=router.url_path_for("send_sign_in_link"),
        next=next,
        error=error,
    )


@router.post("/sign-in")
async def send_sign_in_link(
    browser: BrowserDep,
    session: SessionDep,
    runtime: RuntimeDep,
    email: Annotated[str, Form(max_length=320)],
    next: Annotated[str | None, Form(max_length=4096)] = None,
) -> Response:
    """Email a one-time sign-in link to the address given (if it is theirs, they can use it)."""
    next_path = service.local_path(next)
    try:
        address = service.normalised_email(email)
    except BadRequest:  # the staff's sign-in shares the check, in English: the learner reads their language
        return _sign_in_form(browser, next=next_path, error=gettext("Enter your email address, like name@example.org."), status=400)
    settings = runtime.settings
    mailer = mailer_for(settings)
    if mailer is None:
        raise ServiceUnavailable(gettext("Email sign-in is not configured on this service: its operator has not set an SMTP server (MICROCRED_SMTP_HOST)."))
    now = datetime.now(UTC)
    token = await service.request_sign_in(session, email=address, next_path=next_path, now=now)
    if token is not None:
        link = f"{settings.base_url}{router.url_path_for('confirm_sign_in_page')}?{urlencode({'token': token})}"
        # The backpack's sign-in says so; the OB 3.0 API's consent keeps its own words.
        purpose: SignInPurpose = "backpack" if next_path == "/me" or next_path.startswith("/me/") else "application"
        message = sign_in_message(to=address, link=link, settings=settings, minutes=service.SIGN_IN_LINK_SECONDS // 60, purpose=purpose)
        try:
            await mailer.send(message)
        except MailError:
            raise ServiceUnavailable(gettext("The sign-in email could not be sent just now. Try again in a few minutes.")) from None
    again = f"{router.url_path_for('sign_in_page')}?{urlencode({'next': next_path})}"
    return html_page("sign_in_sent.html", email=address, minutes=service.SIGN_IN_LINK_SECONDS // 60, again_url=again)


@router.get("/sign-in/confirm")
async def confirm_sign_in_page(
    request: Request, session: SessionDep, runtime: RuntimeDep, token: Annotated[str, Query(min_length=1, max_length=200)]
) -> Response:
    """The link in the email. It asks for one more click rather than signing in at once: mail
    filters open links to scan them, and would use the link up. The page names the address it
    signs in as, and binds its form to this browser (a pre-session cookie and its CSRF token)."""
    email = await service.link_email(session, token=token, now=datetime.now(UTC))
    nonce = request.cookies.get(sign_in_cookie_name(runtime.settings)) or new_token()  # one per browser: two tabs both work
    response = html_page(
        "sign_in_confirm.html", token=token, email=email, csrf_token=service.csrf_token(nonce), action_url=router.url_path_for("confirm_sign_in")
    )
    set_sign_in_cookie(response, nonce, runtime.settings, seconds=service.SIGN_IN_LINK_SECONDS)
    return response


@router.post("/sign-in/confirm")
async def confirm_sign_in(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    token: Annotated[str, Form(min_length=1, max_length=200)],
    csrf_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    nonce = request.cookies.get(sign_in_cookie_name(runtime.settings))
    if nonce is None or not service.csrf_matches(nonce, csrf_token):
        raise Forbidden(gettext("This sign-in form did not come from this service's page in this browser. Open the link from your email again."))
    signed_in = await service.complete_sign_in(
        session, token=token, now=datetime.now(UTC), session_seconds=runtime.settings.learner_session_seconds
    )
    response = RedirectResponse(signed_in.next_path, status_code=303)
    set_session_cookie(response, signed_in.session_token, runtime.settings)
    clear_sign_in_cookie(response, runtime.settings)
    return response


@router.post("/sign-out")
async def sign_out(
    browser: BrowserDep, session: SessionDep, runtime: RuntimeDep, csrf_token: Annotated[str | None, Form(max_length=200)] = None
) -> Response:
    if browser.session_token is None or not service.csrf_matches(browser.session_token, csrf_token):
        raise Forbidden(gettext("This form did not come from this service's page, or your session ended."))
    await service.sign_out(session, session_token=browser.session_token)
    response = RedirectResponse(router.url_path_for("sign_in_page"), status_code=303)
    clear_session_cookie(response, runtime.settings)
    return response
