"""API keys for the issuer's LMS and other systems (owner): create one with a name, scopes and
an optional expiry, shown once with a copy button; list them with their state and when each was
last used; revoke or rotate. The same service calls as ``/api/v1/clients``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import Depends, Form
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import service as clients
from ..auth.principal import SCOPES
from ..problems import ProblemError
from ..web.deps import SessionDep
from .form_errors import FormErrors, attempt, from_problem
from .web import IssuerAccess, access, console_page, console_router

__all__ = ["router"]

router = console_router()

Owner = Annotated[IssuerAccess, Depends(access("owner"))]

INPUTS = {"/name": "name", "/scopes": "scopes", "/expires_at": "expires_on"}
LABELS = {"name": "Name", "scopes": "What the key may do", "expires_on": "Valid until"}
SCOPE_WORDS = [
    ("award", "Award credentials (one or in bulk) and follow bulk jobs"),
    ("revoke", "Revoke and suspend credentials"),
    ("manage", "Manage achievements, pathways, webhooks and API keys"),
]


def _expiry(text: str) -> tuple[datetime | None, str | None]:
    """The end of the day given (a key is valid through it), or why the text is no date."""
    if not text:
        return None, None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, "Enter a date as YYYY-MM-DD."
    return datetime.combine(day + timedelta(days=1), time(), UTC), None


async def _page(
    session: AsyncSession,
    acc: IssuerAccess,
    *,
    status: int = 200,
    errors: FormErrors | None = None,
    values: dict[str, object] | None = None,
    shown_key: str | None = None,
    shown_for: str | None = None,
    notice: str | None = None,
) -> Response:
    listed = await clients.list_clients(session, principal=acc.principal, issuer_id=acc.issuer.id)
    now = datetime.now(UTC)
    keys = [(c, clients.client_state(c, now=now)) for c in listed]
    return console_page(
        acc, "console/api_keys/index.html", status=status, title="API keys",
        keys=keys, errors=errors or FormErrors(), labels=LABELS, scope_words=SCOPE_WORDS,
        values=values or {"name": "", "scopes": ["award"], "expires_on": ""},
        shown_key=shown_key, shown_for=shown_for, notice=notice,
    )


@router.get("/console/{issuer_id}/api-keys")
async def api_keys(acc: Owner, session: SessionDep) -> Response:
    return await _page(session, acc)


@router.post("/console/{issuer_id}/api-keys")
async def create_api_key(
    acc: Owner,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    expires_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """A new key for this issuer, shown on the answer page once."""
    name, chosen = name.strip(), [s for s in (scopes or []) if s]
    values: dict[str, object] = {"name": name, "scopes": chosen, "expires_on": expires_on}
    errors = FormErrors()
    if not name:
        errors.fields["name"] = "Give the key a name that says where it is used, e.g. Moodle."
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown:
        errors.fields["scopes"] = f"Unknown: {', '.join(unknown)}."
    expires_at, bad_date = _expiry(expires_on.strip())
    if bad_date:
        errors.fields["expires_on"] = bad_date
    if errors:
        return await _page(session, acc, status=422, errors=errors, values=values)
    try:
        async with attempt(session):
            created = await clients.create_client_as(
                session, principal=acc.principal, name=name, issuer_id=acc.issuer.id, scopes=chosen, expires_at=expires_at, now=datetime.now(UTC)
            )
    except ProblemError as problem:
        if problem.status in (403, 404) and not problem.errors:
            raise
        return await _page(session, acc, status=problem.status, errors=from_problem(problem, INPUTS), values=values)
    return await _page(session, acc, status=201, shown_key=created.api_key, shown_for=created.client.name)


@router.post("/console/{issuer_id}/api-keys/{client_id}/revoke")
async def revoke_api_key(acc: Owner, session: SessionDep, client_id: str) -> Response:
    """Revoke for good: the next request with the key is refused."""
    client = await clients.revoke_client(session, principal=acc.principal, client_id=client_id, now=datetime.now(UTC))
    return await _page(session, acc, notice=f"The key “{client.name}” is revoked: every request with it is refused from now on.")


@router.post("/console/{issuer_id}/api-keys/{client_id}/rotate")
async def rotate_api_key(acc: Owner, session: SessionDep, client_id: str) -> Response:
    """A new key in place of the old one (which is refused from now on); a future expiry stays."""
    now = datetime.now(UTC)
    current = await clients.get_client(session, principal=acc.principal, client_id=client_id)
    keep = current.expires_at if current.expires_at is not None and current.expires_at > now else None
    try:
        async with attempt(session):
            rotated = await clients.rotate_client(session, principal=acc.principal, client_id=client_id, expires_at=keep, now=now)
    except ProblemError as problem:
        if problem.status != 409:
            raise
        return await _page(session, acc, status=409, notice=problem.detail)
    return await _page(session, acc, shown_key=rotated.api_key, shown_for=rotated.client.name)
