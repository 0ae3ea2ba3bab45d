"""The authorization server's endpoints.

``router``: the JSON endpoints clients call (registration, token, revocation), documented in
openapi.yaml, with OAuth error objects. ``pages``: the authorization endpoint a learner's browser
visits (sign-in first if needed, then a consent page), kept out of it like every page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, Header, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response

from ..i18n import N_, gettext
from ..learners.web import BrowserDep, html_error, html_page
from ..problems import BadRequest, Forbidden
from ..web.csrf import csrf_matches, csrf_token
from ..web.deps import RuntimeDep, SessionDep, check_url
from ..web.openapi import RATE_LIMITED
from ..web.routes import rendering_errors
from . import service
from .errors import OAuthError, oauth_error_renderer
from .schemas import ClientInformation, ClientRegistration, OAuthErrorBody, TokenResponse
from .scopes import CREDENTIAL_READONLY, CREDENTIAL_UPSERT, OFFLINE_ACCESS, PROFILE_READONLY, PROFILE_UPDATE

__all__ = ["pages", "registration", "router"]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_ERROR = {"model": OAuthErrorBody}


def _errors(*codes: int, what: str) -> dict[int | str, dict[str, Any]]:
    described: dict[int | str, dict[str, Any]] = {code: {**_ERROR, "description": f"{what} (an OAuth error object)"} for code in codes}
    return described | {"default": {**_ERROR, "description": "Any other failure (an OAuth error object, error server_error)"}}


registration = APIRouter(
    prefix="/oauth", tags=["oauth"], dependencies=[Depends(check_url)], route_class=rendering_errors(oauth_error_renderer("invalid_client_metadata"))
)
router = APIRouter(prefix="/oauth", tags=["oauth"], dependencies=[Depends(check_url)], route_class=rendering_errors(oauth_error_renderer("invalid_request")))
pages = APIRouter(prefix="/oauth", include_in_schema=False, dependencies=[Depends(check_url)], route_class=rendering_errors(html_error))


@registration.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=ClientInformation,
    response_model_exclude_none=True,
    responses=_errors(400, what="invalid_redirect_uri or invalid_client_metadata") | RATE_LIMITED,
)
async def register(body: ClientRegistration, session: SessionDep) -> JSONResponse:
    """OAuth 2.0 Dynamic Client Registration (RFC 7591): a host registers itself, as the OB 3.0
    service description's `x-imssf-registrationUrl` says. A `client_secret_basic` client gets a
    secret (shown once); a public client (`none`) gets none, and proves itself with PKCE."""
    information = await service.register_client(session, registration=body, now=datetime.now(UTC))
    return JSONResponse(information.model_dump(mode="json", exclude_none=True), status_code=201, headers=_NO_STORE)


FormText = Annotated[str | None, Form(max_length=4096)]


@router.post("/token", response_model=TokenResponse, responses=_errors(400, 401, what="invalid_request, invalid_client, invalid_grant, invalid_scope or unsupported_grant_type"))
async def token(
    session: SessionDep,
    runtime: RuntimeDep,
    grant_type: FormText = None,
    code: FormText = None,
    redirect_uri: FormText = None,
    code_verifier: FormText = None,
    refresh_token: FormText = None,
    scope: FormText = None,
    client_id: FormText = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """The token endpoint (RFC 6749 §3.2): an authorization code with its PKCE `code_verifier`
    (`grant_type=authorization_code`), or a refresh token (`grant_type=refresh_token`), for an
    access token and a new refresh token. The old refresh token is used up; presenting it again
    revokes every token of the authorization. Confidential clients authenticate with HTTP Basic."""
    _no_nul(grant_type, code, redirect_uri, code_verifier, refresh_token, scope, client_id)
    client = await service.authenticate_client(session, authorization=authorization, client_id=client_id)
    settings = runtime.settings
    lifetimes = service.Lifetimes(settings.oauth_access_token_seconds, settings.oauth_refresh_token_seconds)
    now = datetime.now(UTC)
    result: TokenResponse | service.Refused
    if grant_type == "authorization_code":
        result = await service.exchange_code(
            session, client=client, code=code, redirect_uri=redirect_uri, code_verifier=code_verifier, scope=scope, lifetimes=lifetimes, now=now
        )
    elif grant_type == "refresh_token":
        result = await service.refresh_tokens(session, client=client, refresh_token=refresh_token, scope=scope, lifetimes=lifetimes, now=now)
    elif not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    else:
        raise OAuthError("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
    if isinstance(result, service.Refused):  # answered as an error, but what it revoked is saved
        return oauth_error_renderer("invalid_grant")(result.error, result.error.status)
    return JSONResponse(result.model_dump(mode="json"), headers=_NO_STORE)


@router.post("/revoke", response_class=Response, responses={200: {"description": "Revoked, or not a token of this client (RFC 7009 §2.2)"}, **_errors(400, 401, what="invalid_request or invalid_client")})
async def revoke(
    session: SessionDep,
    token: FormText = None,
    token_type_hint: FormText = None,
    client_id: FormText = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Token revocation (RFC 7009). Revoking a refresh token revokes its access tokens too."""
    _no_nul(token, token_type_hint, client_id)
    client = await service.authenticate_client(session, authorization=authorization, client_id=client_id)
    await service.revoke(session, client=client, token=token, now=datetime.now(UTC))
    return Response(status_code=200, headers=_NO_STORE)


def _no_nul(*values: str | None) -> None:
    if any(v is not None and "\x00" in v for v in values):
        raise OAuthError("invalid_request", "parameters must not contain the NUL character")


# --- the authorization endpoint: pages for the learner -----------------------------------------

#: What each scope lets the application do, in the learner's words.
_SCOPE_WORDS = {
    CREDENTIAL_READONLY: N_("read the Open Badges credentials awarded to your email address, and those you keep here"),
    CREDENTIAL_UPSERT: N_("add credentials to your collection here, or replace them"),
    PROFILE_READONLY: N_("read your profile here (your name and verified email address)"),
    PROFILE_UPDATE: N_("change your profile here (not your email address)"),
    OFFLINE_ACCESS: N_("keep this access while you are away"),
}
_REQUEST_PARAMETERS = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method")


def _single(items: list[tuple[str, Any]]) -> dict[str, str]:
    """The request's parameters; each may appear once (RFC 6749 §3.1)."""
    params: dict[str, str] = {}
    for name, value in items:
        if name in params:
            raise BadRequest(gettext("This link is malformed: it has the parameter %(name)s more than once.") % {"name": repr(name)})
        if isinstance(value, str):
            params[name] = value
    return params


def _redirect(uri: str, **params: str | None) -> RedirectResponse:
    """Back to the client, its own query kept (RFC 6749 §3.1.2)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    separator = "&" if urlsplit(uri).query else "?"
    return RedirectResponse(f"{uri}{separator}{query}", status_code=303, headers={"Cache-Control": "no-store"})


def _to_sign_in(params: dict[str, str]) -> RedirectResponse:
    back = f"{pages.url_path_for('authorize')}?{urlencode({k: v for k, v in params.items() if k in _REQUEST_PARAMETERS})}"
    return RedirectResponse(f"/learners/sign-in?{urlencode({'next': back})}", status_code=303, headers={"Cache-Control": "no-store"})


@pages.get("/authorize")
async def authorize(request: Request, browser: BrowserDep, session: SessionDep) -> Response:
    """The authorization request (RFC 6749 §4.1.1, PKCE S256 required): a learner who is not
    signed in goes to sign in first and comes back; then they see what the application asks for,
    and allow or deny it."""
    params = _single(request.query_params.multi_items())
    try:
        checked = await service.check_authorization_request(session, params)
    except service.AuthorizationError as refused:
        return _redirect(refused.redirect_uri, error=refused.error, error_description=refused.detail, state=refused.state)
    if browser.learner is None or browser.session_token is None:
        return _to_sign_in(params)
    return html_page(
        "consent.html",
        client_name=checked.client.name,
        client_uri=checked.client.registration.get("client_uri"),
        learner_email=browser.learner.email,
        scopes=[(scope, gettext(_SCOPE_WORDS[scope]) if scope in _SCOPE_WORDS else scope) for scope in checked.scopes],
        redirect_host=urlsplit(checked.redirect_uri).netloc,
        fields=[(k, v) for k, v in params.items() if k in _REQUEST_PARAMETERS],
        csrf_token=csrf_token(browser.session_token),
        action_url=pages.url_path_for("decide"),
    )


@pages.post("/authorize")
async def decide(request: Request, browser: BrowserDep, session: SessionDep) -> Response:
    """The learner's answer on the consent page: a code for the client, or access_denied."""
    async with request.form(max_files=0, max_fields=20) as form:
        posted = _single(list(form.multi_items()))
    params = {k: v for k, v in posted.items() if k in _REQUEST_PARAMETERS}
    if browser.learner is None or browser.session_token is None:
        return _to_sign_in(params)
    if not csrf_matches(browser.session_token, posted.get("csrf_token")):
        raise Forbidden(gettext("This form did not come from this service's consent page (or it is out of date). Go back to the application and start again."))
    try:
        checked = await service.check_authorization_request(session, params)
    except service.AuthorizationError as refused:
        return _redirect(refused.redirect_uri, error=refused.error, error_description=refused.detail, state=refused.state)
    if posted.get("decision") != "allow":
        return _redirect(checked.redirect_uri, error="access_denied", error_description="the learner did not allow access", state=checked.state)
    code = await service.grant_code(session, checked, learner=browser.learner, now=datetime.now(UTC))
    return _redirect(checked.redirect_uri, code=code, state=checked.state)
