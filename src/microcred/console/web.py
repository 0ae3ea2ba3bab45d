"""What every console page shares: the staff session cookie, who is asking and for which issuer
with which role, CSRF on every unsafe request, and the HTML answer with the console's headers.

Routes ask for what they need with dependencies: ``StaffDep`` (signed in) or
``Annotated[IssuerAccess, Depends(access("awarder"))]`` (signed in, with at least that role for
the ``{issuer_id}`` of the path). A member without any role for the issuer gets a 404 page (the
issuer does not exist for them); a role below the one needed, a 403 page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.dependencies.models import Dependant
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ..auth.principal import Principal
from ..config import Settings
from ..db.models import Issuer, StaffMember
from ..problems import Forbidden, NotFound, ProblemError
from ..staff import passkeys
from ..staff import service as staff_service
from ..staff.roles import ROLES, Role, principal_for, role_allows
from ..tokens import new_token
from ..web.csrf import csrf_matches, csrf_token
from ..web.deps import RuntimeDep, SessionDep, check_url
from ..web.routes import rendering_errors

__all__ = [
    "CONSOLE_CSP",
    "ConsoleBrowser",
    "ConsoleBrowserDep",
    "IssuerAccess",
    "PasskeyRequired",
    "SignInRequired",
    "StaffDep",
    "access",
    "check_csrf",
    "browser_token",
    "clear_session_cookie",
    "console_error",
    "console_page",
    "console_router",
    "fragment",
    "keep_browser_token",
    "render",
    "route_role",
    "set_session_cookie",
]

#: Our own scripts and styles only (htmx and console.js under /console/static): no inline code.
CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _plain_http(settings: Settings) -> bool:
    """A development service on http://localhost: its cookies cannot be Secure."""
    return settings.base_url_is_local and urlsplit(settings.base_url).scheme == "http"


def _cookie(settings: Settings, name: str) -> str:
    # __Host-: the browser keeps it only if Secure, for this host alone and every path.
    return name if _plain_http(settings) else f"__Host-{name}"


def session_cookie_name(settings: Settings) -> str:
    return _cookie(settings, "microcred_staff")


def browser_cookie_name(settings: Settings) -> str:
    """A random id for a browser that is not signed in: its CSRF token (sign-in forms) derives
    from it, so another site cannot post a sign-in form in its name (login CSRF)."""
    return _cookie(settings, "microcred_console")


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        session_cookie_name(settings), token, max_age=settings.staff_session_seconds, path="/",
        secure=not _plain_http(settings), httponly=True, samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(session_cookie_name(settings), path="/", secure=not _plain_http(settings), httponly=True, samesite="lax")


@dataclass(frozen=True)
class ConsoleBrowser:
    """The browser asking: its staff member when signed in, and the token its CSRF token derives
    from (the session's, or the pre-session browser id's; None until it has one)."""

    member: StaffMember | None
    session_token: str | None
    browser_token: str | None

    @property
    def csrf_token(self) -> str:
        base = self.session_token or self.browser_token
        return csrf_token(base) if base else ""


async def get_console_browser(request: Request, session: SessionDep, runtime: RuntimeDep) -> ConsoleBrowser:
    cached = getattr(request.state, "console_browser", None)
    if isinstance(cached, ConsoleBrowser):
        return cached
    settings = runtime.settings
    token = request.cookies.get(session_cookie_name(settings))
    member = await staff_service.signed_in_member(session, session_token=token, now=datetime.now(UTC), idle_seconds=settings.staff_idle_seconds)
    browser = ConsoleBrowser(member, token if member is not None else None, request.cookies.get(browser_cookie_name(settings)))
    request.state.console_browser = browser
    return browser


ConsoleBrowserDep = Annotated[ConsoleBrowser, Depends(get_console_browser)]


class SignInRequired(ProblemError):
    """Not signed in (or the session ended): the error page is a redirect to the sign-in page."""

    status, slug, title = 401, "sign-in-required", "Sign-in required"

    def __init__(self, next_path: str) -> None:
        super().__init__("Sign in to use the console.")
        self.next_path = next_path


def console_router() -> APIRouter:
    """A router for console pages: kept out of openapi.yaml, errors rendered as console pages,
    CSRF checked on every unsafe request, NUL refused in the URL."""
    return APIRouter(
        include_in_schema=False, route_class=rendering_errors(console_error), dependencies=[Depends(check_url), Depends(check_csrf)]
    )


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


async def _staff(request: Request, browser: ConsoleBrowserDep) -> StaffMember:
    if browser.member is None:
        raise SignInRequired(_here(request) if request.method == "GET" else "/console")
    return browser.member


StaffDep = Annotated[StaffMember, Depends(_staff)]


class PasskeyRequired(ProblemError):
    """The issuer's owners require passkeys and this session has used none: the error page is a
    redirect to adding one (``register``: the member has none) or to confirming with one, and
    then on to ``next_path``."""

    status, slug, title = 403, "passkey-required", "Passkey required"

    def __init__(self, issuer_id: str, next_path: str, *, register: bool) -> None:
        super().__init__("This issuer requires its staff to sign in with a passkey.")
        self.issuer_id, self.next_path, self.register = issuer_id, next_path, register


@dataclass(frozen=True)
class IssuerAccess:
    """A signed-in member acting for one issuer with one role; ``principal`` is what they act as
    when calling the services (the same checks and audit entries as the API)."""

    staff: StaffMember
    issuer: Issuer
    role: str
    principal: Principal
    csrf_token: str

    def can(self, role: str) -> bool:
        return role_allows(self.role, role)


def access(role: Role) -> Callable[..., Awaitable[IssuerAccess]]:
    """The dependency for a page of ``{issuer_id}`` that needs at least ``role``."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    async def issuer_access(issuer_id: str, request: Request, member: StaffDep, browser: ConsoleBrowserDep, session: SessionDep) -> IssuerAccess:
        found = await staff_service.role_for(session, member, issuer_id)
        if found is None:
            raise NotFound("There is no such issuer, or you are not on its staff.")
        issuer, have = found
        if not role_allows(have, role):
            raise Forbidden(f"This needs the {role} role for {issuer.name}; yours is {have}. An owner of the issuer can change it.")
        step = await passkeys.passkey_step(session, member=member, issuer_id=issuer.id, session_token=browser.session_token)
        if step is not None:
            raise PasskeyRequired(issuer.id, _here(request) if request.method == "GET" else f"/console/{issuer.id}/", register=step == "register")
        return IssuerAccess(member, issuer, have, principal_for(member.id, issuer.id, have), browser.csrf_token)

    issuer_access.console_role = role  # type: ignore[attr-defined]
    return issuer_access


def route_role(route: APIRoute) -> str | None:
    """The role a console route needs (from its ``access`` dependency), for tests that try every
    route with every role; None for routes that need no issuer role."""

    def walk(dependant: Dependant) -> str | None:
        role = getattr(dependant.call, "console_role", None)
        if isinstance(role, str):
            return role
        for child in dependant.dependencies:
            found = walk(child)
            if found is not None:
                return found
        return None

    return walk(route.dependant)


async def check_csrf(request: Request, browser: ConsoleBrowserDep) -> None:
    """Every POST/PUT/PATCH/DELETE of the console carries the CSRF token of this browser: a form
    field ``csrf_token`` or an ``X-CSRF-Token`` header (htmx sends it for every request)."""
    if request.method not in _UNSAFE:
        return
    base = browser.session_token or browser.browser_token
    candidate = request.headers.get("x-csrf-token")
    if candidate is None and request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        candidate = value if isinstance(value, str) else None
    if base is None or not csrf_matches(base, candidate):
        await request.close()  # the uploaded files of a refused multipart form, spooled to disk
        raise Forbidden("This form did not come from this console page in this browser, or your session ended. Reload the page and try again.")


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("microcred.console", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(ROLES=ROLES, role_allows=role_allows)
    return env


def render(template: str, **context: Any) -> str:
    """A console template (or fragment) as text."""
    return _environment().get_template(template).render(**context)


def _headers() -> dict[str, str]:
    return {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": CONSOLE_CSP,
    }


def console_page(
    who: IssuerAccess | ConsoleBrowser, template: str, *, status: int = 200, title: str = "", **context: Any
) -> HTMLResponse:
    """A console page: ``template`` extends ``console/base.html``. ``who`` gives the navigation
    (an issuer's sections for an :class:`IssuerAccess`) and the CSRF token of every form."""
    if isinstance(who, IssuerAccess):
        base = {"staff": who.staff, "acc": who, "csrf_token": who.csrf_token}
    else:
        base = {"staff": who.member, "acc": None, "csrf_token": who.csrf_token}
    return HTMLResponse(render(template, title=title, **base, **context), status_code=status, headers=_headers())


def fragment(template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A piece of a page for htmx to swap in (no layout around it)."""
    return HTMLResponse(render(template, **context), status_code=status, headers=_headers())


_TITLES = {
    400: "This did not work", 403: "Not allowed", 404: "Not found", 409: "This did not work", 413: "Too large",
    422: "This did not work", 429: "Too many requests", 503: "Not available right now",
}


def console_error(problem: ProblemError, status: int) -> Response:
    """Errors of console pages, as a page; a missing sign-in, as the way to sign in."""
    if isinstance(problem, SignInRequired):
        return RedirectResponse(f"/console/sign-in?{urlencode({'next': problem.next_path})}", status_code=303)
    if isinstance(problem, PasskeyRequired):
        where = "/console/passkeys" if problem.register else "/console/passkeys/confirm"
        return RedirectResponse(f"{where}?{urlencode({'required': problem.issuer_id, 'next': problem.next_path})}", status_code=303)
    response = HTMLResponse(
        render("console/message.html", title=_TITLES.get(status, "Something went wrong"), message=problem.detail, staff=None, acc=None, csrf_token=""),
        status_code=status,
        headers=_headers() | problem.headers,
    )
    return response


def browser_token(request: Request, settings: Settings) -> tuple[str, bool]:
    """The pre-session browser id, and whether it is new (then :func:`keep_browser_token` sets it)."""
    token = request.cookies.get(browser_cookie_name(settings))
    if token is None or not 20 <= len(token) <= 100:
        return new_token(), True
    return token, False


def keep_browser_token(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(browser_cookie_name(settings), token, path="/", secure=not _plain_http(settings), httponly=True, samesite="lax")
