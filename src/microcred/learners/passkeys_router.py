"""The learners' passkey routes: adding and removing one from the backpack (``/me/passkeys``) and
signing in with one (``/learners/sign-in/passkey``). Pages for people, kept out of openapi.yaml.

The ceremony runs in the browser (the console's ``passkeys.js``, our own file, allowed by the
pages' CSP): it asks these routes for options, calls ``navigator.credentials`` and posts the
answer as JSON. Those JSON routes answer errors as problem+json (the script shows ``detail``);
the backpack's ones need the session's CSRF token in ``X-CSRF-Token``. A sign-in challenge is
bound to the browser's pre-session cookie (SameSite=Strict), so another site cannot post an
answer of its own to sign a visitor in as someone else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from ..i18n import gettext
from ..passkeys import NewPasskey, PasskeySignIn
from ..problems import Forbidden
from ..staff.service import client_hash
from ..tokens import new_token
from ..web.deps import RuntimeDep, SessionDep, check_url
from ..web.routes import StrictJsonRoute, rendering_errors
from . import passkeys, service
from .web import BrowserDep, html_error, set_session_cookie, set_sign_in_cookie, sign_in_cookie_name

__all__ = ["routers"]

_json = APIRouter(include_in_schema=False, dependencies=[Depends(check_url)], route_class=StrictJsonRoute)
_pages = APIRouter(include_in_schema=False, dependencies=[Depends(check_url)], route_class=rendering_errors(html_error))
routers = (_json, _pages)

_NO_STORE = {"Cache-Control": "no-store"}


def _from_backpack(request: Request, browser: BrowserDep) -> None:
    """The backpack's script asks: signed in, with the session's CSRF token in its header."""
    token = browser.session_token
    if browser.learner is None or token is None or not service.csrf_matches(token, request.headers.get("x-csrf-token")):
        raise Forbidden(gettext("This request did not come from your backpack, or your session ended. Sign in again."))


def _from_script(request: Request) -> None:
    """Only a script sends JSON: a form on another site cannot, so it cannot spend this
    browser's sign-in attempts."""
    if (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower() != "application/json":
        raise Forbidden(gettext("Passkeys are used from this service's own pages."))


@_json.post("/me/passkeys/options", dependencies=[Depends(_from_backpack)])
async def registration_options(browser: BrowserDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    assert browser.learner is not None
    options = await passkeys.registration_options(session, learner=browser.learner, base_url=runtime.settings.base_url, now=datetime.now(UTC))
    return JSONResponse(options, headers=_NO_STORE)


@_json.post("/me/passkeys", dependencies=[Depends(_from_backpack)])
async def add_passkey(body: NewPasskey, browser: BrowserDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    assert browser.learner is not None
    added = await passkeys.register(
        session, learner=browser.learner, name=body.name, response=body.credential, base_url=runtime.settings.base_url, now=datetime.now(UTC)
    )
    return JSONResponse({"id": added.id, "name": added.name}, status_code=201, headers=_NO_STORE)


@_pages.post("/me/passkeys/{passkey_id}/remove")
async def remove_passkey(
    passkey_id: str, browser: BrowserDep, session: SessionDep, csrf_token: Annotated[str | None, Form(max_length=200)] = None
) -> Response:
    if browser.learner is None or browser.session_token is None or not service.csrf_matches(browser.session_token, csrf_token):
        raise Forbidden(gettext("This request did not come from your backpack, or your session ended. Sign in again."))
    await passkeys.remove(session, learner=browser.learner, passkey_id=passkey_id)
    return RedirectResponse("/me#passkeys", status_code=303)


@_json.post("/learners/sign-in/passkey/options", dependencies=[Depends(_from_script)])
async def sign_in_options(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    settings = runtime.settings
    nonce = request.cookies.get(sign_in_cookie_name(settings)) or new_token()
    client = client_hash(request.client.host if request.client else None, runtime.client_secret)
    options = await passkeys.sign_in_options(session, browser=nonce, client=client, base_url=settings.base_url, now=datetime.now(UTC))
    response = JSONResponse(options, headers=_NO_STORE)
    set_sign_in_cookie(response, nonce, settings, seconds=max(service.SIGN_IN_LINK_SECONDS, passkeys.CHALLENGE_SECONDS))
    return response


@_json.post("/learners/sign-in/passkey")
async def sign_in_with_passkey(body: PasskeySignIn, request: Request, browser: BrowserDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    settings = runtime.settings
    now = datetime.now(UTC)
    signed_in = await passkeys.sign_in(
        session,
        response=body.credential,
        browser=request.cookies.get(sign_in_cookie_name(settings)),
        base_url=settings.base_url,
        now=now,
        session_seconds=settings.learner_session_seconds,
        next_path=service.local_path(body.next, default="/me"),
    )
    if browser.session_token is not None:  # signed in already (perhaps as someone else): that session ends
        await service.sign_out(session, session_token=browser.session_token)
    response = JSONResponse({"redirect": signed_in.next_path}, headers=_NO_STORE)
    set_session_cookie(response, signed_in.session_token, settings)  # a new session id: no fixation
    return response
