"""Passkey pages of the console: one's own passkeys (``/console/passkeys``: add, name, remove),
confirming a session with one (``/console/passkeys/confirm``, for issuers that require
passkeys) and signing in with a passkey (from the sign-in page).

The WebAuthn ceremony runs in the browser (``static/passkeys.js``, our own file: the CSP allows
no inline script): it asks these routes for options, calls ``navigator.credentials``, and posts
the answer as JSON with the page's CSRF token in ``X-CSRF-Token``. Those JSON routes answer
errors as ``{"message": ...}`` for the script to show; everything else is a page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from ..db.models import Issuer
from ..learners.service import local_path
from ..passkeys import NewPasskey, PasskeySignIn
from ..problems import NotFound, ProblemError
from ..staff import passkeys as passkey_service
from ..staff import service as staff_service
from ..web.deps import RuntimeDep, SessionDep
from .web import ConsoleBrowserDep, StaffDep, console_page, console_router, set_session_cookie

__all__ = ["router"]

router = console_router()


def _json_error(problem: ProblemError) -> JSONResponse:
    return JSONResponse({"message": problem.detail}, status_code=problem.status, headers={"Cache-Control": "no-store", **problem.headers})


def _next(value: str | None) -> str:
    path = local_path(value, default="/console")
    return path if path.startswith("/console") else "/console"


@router.get("/console/passkeys")
async def passkeys_page(
    staff: StaffDep,
    browser: ConsoleBrowserDep,
    session: SessionDep,
    required: Annotated[str | None, Query(max_length=64)] = None,
    next: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response:
    """The member's passkeys. ``required``: the issuer whose owners require one (the member was
    sent here on the way to its pages, ``next``)."""
    passkeys = await passkey_service.passkeys_of(session, staff)
    requiring = await _requiring(session, staff, required)
    return console_page(
        browser,
        "console/staff/passkeys.html",
        title="Your passkeys",
        passkeys=passkeys,
        requiring=requiring,
        next=_next(next) if requiring is not None else None,
        max_passkeys=passkey_service.MAX_PASSKEYS,
    )


@router.post("/console/passkeys/options")
async def registration_options(staff: StaffDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    try:
        options = await passkey_service.registration_options(session, member=staff, base_url=runtime.settings.base_url, now=datetime.now(UTC))
    except ProblemError as problem:
        return _json_error(problem)
    return JSONResponse(options, headers={"Cache-Control": "no-store"})


@router.post("/console/passkeys")
async def add_passkey(body: NewPasskey, staff: StaffDep, browser: ConsoleBrowserDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    try:
        passkey = await passkey_service.register(
            session,
            member=staff,
            name=body.name,
            response=body.credential,
            base_url=runtime.settings.base_url,
            now=datetime.now(UTC),
            session_token=browser.session_token,
        )
    except ProblemError as problem:
        return _json_error(problem)
    return JSONResponse({"id": passkey.id, "name": passkey.name}, status_code=201, headers={"Cache-Control": "no-store"})


async def _requiring(session: SessionDep, staff: StaffDep, issuer_id: str | None) -> Issuer | None:
    """The issuer named in ``required`` when it does require passkeys and the member is on its
    staff (no other issuer's name is shown)."""
    if issuer_id is None:
        return None
    found = await staff_service.role_for(session, staff, issuer_id)
    return found[0] if found is not None and await passkey_service.requires_passkeys(session, issuer_id=issuer_id) else None


@router.get("/console/passkeys/confirm")
async def confirm_page(
    staff: StaffDep,
    browser: ConsoleBrowserDep,
    session: SessionDep,
    required: Annotated[str | None, Query(max_length=64)] = None,
    next: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response:
    """Confirm a session opened by an emailed link with one of one's passkeys (an issuer that
    requires passkeys sends its staff here)."""
    if not await passkey_service.passkeys_of(session, staff):
        return RedirectResponse(f"/console/passkeys?{urlencode({'required': required or '', 'next': _next(next)})}", status_code=303)
    return console_page(
        browser, "console/staff/passkey_confirm.html", title="Confirm with your passkey", requiring=await _requiring(session, staff, required), next=_next(next)
    )


@router.post("/console/passkeys/confirm/options")
async def confirm_options(staff: StaffDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    try:
        options = await passkey_service.confirm_options(session, member=staff, base_url=runtime.settings.base_url, now=datetime.now(UTC))
    except ProblemError as problem:
        return _json_error(problem)
    return JSONResponse(options, headers={"Cache-Control": "no-store"})


@router.post("/console/passkeys/confirm")
async def confirm(body: PasskeySignIn, staff: StaffDep, browser: ConsoleBrowserDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    now = datetime.now(UTC)
    try:
        used = await passkey_service.authenticate(session, response=body.credential, base_url=runtime.settings.base_url, now=now, member=staff)
    except ProblemError as problem:
        return _json_error(problem)
    assert browser.session_token is not None  # StaffDep: signed in
    await passkey_service.confirm_session(session, session_token=browser.session_token, passkey=used.passkey, now=now)
    return JSONResponse({"redirect": _next(body.next)}, headers={"Cache-Control": "no-store"})


@router.post("/console/passkeys/{passkey_id}/remove")
async def remove_passkey(passkey_id: str, staff: StaffDep, session: SessionDep) -> Response:
    if len(passkey_id) > 64:
        raise NotFound("You have no such passkey.")
    await passkey_service.remove(session, member=staff, passkey_id=passkey_id, now=datetime.now(UTC))
    return RedirectResponse("/console/passkeys", status_code=303)


# --- signing in with a passkey ---------------------------------------------------------------------


@router.post("/console/sign-in/passkey/options")
async def sign_in_options(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    now = datetime.now(UTC)
    try:
        client = staff_service.client_hash(request.client.host if request.client else None, runtime.client_secret)
        await passkey_service.count_sign_in_attempt(session, client=client, secret=runtime.client_secret, now=now)
    except ProblemError as problem:
        return _json_error(problem)
    options = await passkey_service.sign_in_options(session, base_url=runtime.settings.base_url, now=now)
    return JSONResponse(options, headers={"Cache-Control": "no-store"})


@router.post("/console/sign-in/passkey")
async def sign_in_with_passkey(body: PasskeySignIn, browser: ConsoleBrowserDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    now = datetime.now(UTC)
    settings = runtime.settings
    try:
        used = await passkey_service.authenticate(session, response=body.credential, base_url=settings.base_url, now=now)
    except ProblemError as problem:
        return _json_error(problem)
    if browser.session_token is not None:  # signed in already (perhaps as someone else): that session ends
        await staff_service.sign_out(session, session_token=browser.session_token)
    token = await staff_service.open_session(session, member=used.member, now=now, session_seconds=settings.staff_session_seconds)
    await passkey_service.confirm_session(session, session_token=token, passkey=used.passkey, now=now)
    response = JSONResponse({"redirect": _next(body.next)}, headers={"Cache-Control": "no-store"})
    set_session_cookie(response, token, settings)  # a new session id: no fixation
    return response
