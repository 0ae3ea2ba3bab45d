"""The backpack's pages (``/me``) and share-all links (``/share/{token}``): pages for people,
kept out of openapi.yaml; their errors are pages too. Every form carries the session's CSRF token."""

from __future__ import annotations

import asyncio
import io
import zipfile
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Header, Query
from fastapi.responses import RedirectResponse, Response

from ..awards.document import credential_json, credential_url
from ..i18n import LANGUAGE_NAMES, current_language, gettext
from ..learners import passkeys as learner_passkeys
from ..learners import service as learners
from ..learners.mail import MailError, address_message, mailer_for
from ..learners.web import Browser, BrowserDep, clear_session_cookie, html_error, html_page, set_language_cookie
from ..public import credentials as shown
from ..public.router import certificate_download
from ..problems import BadRequest, Forbidden, ServiceUnavailable
from ..web.deps import RuntimeDep, SessionDep, check_url
from ..web.routes import rendering_errors
from . import corrections, service

__all__ = ["router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_url)], route_class=rendering_errors(html_error))

_SIGN_IN = "/learners/sign-in?" + urlencode({"next": "/me"})


def _checked(browser: Browser, csrf_token: str | None) -> None:
    if browser.learner is None or browser.session_token is None or not learners.csrf_matches(browser.session_token, csrf_token):
        raise Forbidden(gettext("This form did not come from your backpack, or your session ended. Sign in again."))


def _back(notice: str | None = None) -> Response:
    return RedirectResponse("/me" + (f"?{urlencode({'notice': notice})}" if notice else ""), status_code=303)


@router.get("/me")
async def backpack(browser: BrowserDep, session: SessionDep, runtime: RuntimeDep, notice: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    """The learner's credentials from every issuer, to every verified address, newest first."""
    if browser.learner is None or browser.session_token is None:
        return RedirectResponse(_SIGN_IN, status_code=303)
    base = runtime.settings.base_url
    now = datetime.now(UTC)
    return html_page(
        "backpack.html",
        scripts=True,  # passkeys.html
        passkeys=await learner_passkeys.passkeys_of(session, browser.learner),
        learner=browser.learner,
        addresses=await service.addresses(session, browser.learner),
        entries=await service.entries(session, browser.learner, base_url=base, now=now),
        share_links=[(link, f"{base}/share/{link.token}") for link in await service.share_links(session, browser.learner)],
        corrections={c.credential_id: c for c in reversed(await corrections.for_learner(session, browser.learner))},
        csrf_token=learners.csrf_token(browser.session_token),
        notice=notice,
        languages=list(LANGUAGE_NAMES.items()),
        current_language=current_language(),
    )


@router.post("/me/corrections")
async def request_correction(
    browser: BrowserDep,
    session: SessionDep,
    credential_id: Annotated[str, Form(max_length=36)],
    name: Annotated[str, Form(max_length=600)],
    note: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Ask the issuer to correct the name on a credential (its staff approve or decline)."""
    _checked(browser, csrf_token)
    assert browser.learner is not None
    await corrections.request_correction(session, browser.learner, credential_id=credential_id, name=name, note=note, now=datetime.now(UTC))
    return _back("correction-sent")


@router.post("/me/visibility")
async def set_visibility(
    browser: BrowserDep,
    session: SessionDep,
    credential_id: Annotated[str, Form(max_length=36)],
    visibility: Annotated[str, Form(max_length=16)],
    csrf_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    _checked(browser, csrf_token)
    assert browser.learner is not None
    await service.set_visibility(session, browser.learner, credential_id=credential_id, visibility=visibility)
    return _back("visibility")


@router.post("/me/addresses")
async def add_address(
    browser: BrowserDep,
    session: SessionDep,
    runtime: RuntimeDep,
    email: Annotated[str, Form(max_length=320)],
    csrf_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Email a link to another address of the learner's: opening it adds the address."""
    _checked(browser, csrf_token)
    assert browser.learner is not None
    try:
        address = learners.normalised_email(email)
    except BadRequest as problem:  # the check is shared with the staff's (English) sign-in
        raise BadRequest(gettext("Enter your email address, like name@example.org."), errors=problem.errors) from None
    settings = runtime.settings
    mailer = mailer_for(settings)
    if mailer is None:
        raise ServiceUnavailable(gettext("Email is not configured on this service: its operator has not set an SMTP server (MICROCRED_SMTP_HOST)."))
    token = await service.request_address(session, browser.learner, email=address, now=datetime.now(UTC))
    link = f"{settings.base_url}/me/addresses/confirm?{urlencode({'token': token})}"
    message = address_message(to=address, account=browser.learner.email, link=link, settings=settings, minutes=service.ADDRESS_LINK_SECONDS // 60)
    try:
        await mailer.send(message)
    except MailError:
        raise ServiceUnavailable(gettext("The email could not be sent just now. Try again in a few minutes.")) from None
    return _back("address-sent")


@router.get("/me/export.zip")
async def export(browser: BrowserDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Everything in the backpack as one ZIP: each credential's signed JSON-LD and its PDF."""
    if browser.learner is None:
        return RedirectResponse(_SIGN_IN, status_code=303)
    found = await service.documents(session, browser.learner, runtime.settings.base_url)
    body = await asyncio.to_thread(_zip, found)
    headers = {"Content-Disposition": 'attachment; filename="credentials.zip"', "Cache-Control": "no-store"}
    return Response(body, media_type="application/zip", headers=headers)


def _zip(found: list[service.Archived]) -> bytes:
    """Each credential's JSON-LD and its PDF, branded as the public download, in the language in
    use (the learner's: a worker thread keeps the request's context)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in found:
            name = item.document["id"].rsplit("/", 1)[-1]
            archive.writestr(f"{name}.json", credential_json(item.document))
            archive.writestr(f"{name}.pdf", certificate_download(item.document, item.issuer, item.logo, item.badge))
    return buffer.getvalue()


@router.get("/me/addresses/confirm")
async def confirm_address_page(token: Annotated[str, Query(min_length=1, max_length=200)]) -> Response:
    """The link in the email asks for one click (mail filters open links, and would use it up)."""
    return html_page("address_confirm.html", token=token, action_url="/me/addresses/confirm")


@router.post("/me/addresses/confirm")
async def confirm_address(session: SessionDep, token: Annotated[str, Form(min_length=1, max_length=200)]) -> Response:
    email = await service.confirm_address(session, token=token, now=datetime.now(UTC))
    return html_page(
        "message.html",
        title=gettext("Address added"),
        message=gettext("%(email)s is now one of your backpack's addresses.") % {"email": email},
        link_url="/me",
        link_text=gettext("Open your backpack"),
    )


@router.post("/me/addresses/remove")
async def remove_address(
    browser: BrowserDep,
    session: SessionDep,
    email: Annotated[str, Form(max_length=320)],
    csrf_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Remove an added address: the credentials awarded to it leave the backpack (the address
    the learner signs in with stays; deleting the account removes it)."""
    _checked(browser, csrf_token)
    assert browser.learner is not None
    await service.remove_address(session, browser.learner, email=email)
    return _back("address-removed")


@router.post("/me/language")
async def set_language(
    browser: BrowserDep,
    session: SessionDep,
    runtime: RuntimeDep,
    language: Annotated[str, Form(max_length=16)] = "",
    csrf_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """The learner's language, for their pages on any browser and the emails they get; this
    browser's language cookie is set too, so the next page is in it at once."""
    _checked(browser, csrf_token)
    assert browser.learner is not None
    chosen = await service.set_language(session, browser.learner, language=language)
    response = _back("language")
    set_language_cookie(response, chosen, runtime.settings)
    return response


@router.post("/me/share-links")
async def make_share_link(
    browser: BrowserDep,
    session: SessionDep,
    include_unlisted: Annotated[bool, Form()] = False,
    csrf_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    _checked(browser, csrf_token)
    assert browser.learner is not None
    await service.make_share_link(session, browser.learner, include_unlisted=include_unlisted, now=datetime.now(UTC))
    return _back("share-made")


@router.post("/me/share-links/revoke")
async def revoke_share_link(
    browser: BrowserDep, session: SessionDep, token: Annotated[str, Form(max_length=64)], csrf_token: Annotated[str | None, Form(max_length=200)] = None
) -> Response:
    _checked(browser, csrf_token)
    assert browser.learner is not None
    await service.revoke_share_link(session, browser.learner, token=token)
    return _back("share-revoked")


@router.post("/me/delete")
async def delete_account(
    browser: BrowserDep,
    session: SessionDep,
    runtime: RuntimeDep,
    confirm: Annotated[str, Form(max_length=320)] = "",
    csrf_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Delete the account (the learner types their address to confirm): credentials stay issued."""
    _checked(browser, csrf_token)
    assert browser.learner is not None
    if confirm.strip().lower() != browser.learner.email:
        raise BadRequest(gettext("Type your account's email address to confirm deleting it."))
    await service.delete_account(session, browser.learner)
    response = html_page(
        "message.html",
        title=gettext("Account deleted"),
        message=gettext("Your account, its addresses, sessions and share links are gone. Your credentials stay issued and keep verifying."),
        link_url=None,
        link_text="",
    )
    clear_session_cookie(response, runtime.settings)
    return response


@router.get("/share/{token}")
async def share_all(
    token: str,
    session: SessionDep,
    runtime: RuntimeDep,
    accept: Annotated[str | None, Header()] = None,
    format: Annotated[str | None, Query(pattern="^(json|html)$")] = None,
) -> Response:
    """A learner's share-all link: a page listing their credentials, or with
    ``Accept: application/json`` (or ``?format=json``) ``{"credentials": [...]}``, each signed
    credential exactly as issued."""
    learner, found = await service.shared(session, token=token)
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Vary": "Accept", "Referrer-Policy": "no-referrer"}
    wants_json = format == "json" or (format is None and "application/json" in (accept or "") and "text/html" not in (accept or ""))
    if wants_json:
        body = b'{"credentials": [' + b", ".join(credential_json(c.document) for c in found) + b"]}"
        return Response(body, media_type="application/json", headers=headers)
    base = runtime.settings.base_url
    items = [(shown.facts(c.document), service.page_url(base, c)) for c in found]
    response = html_page("share.html", items=items, json_url=f"{base}/share/{token}?format=json", credential_url=credential_url)
    response.headers.update(headers)
    return response
