"""The console's staff pages: an issuer's staff (``/console/{issuer_id}/staff``, owners only:
invite by email with a role, change a role, remove someone, require passkeys), and, from
:mod:`.passkeys`, one's own passkeys and signing in with one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Form, Query
from fastapi.responses import RedirectResponse, Response

from ..learners.mail import MailError, mailer_for
from ..problems import BadRequest, Conflict, ServiceUnavailable
from ..staff import members
from ..staff import passkeys as passkey_service
from ..web.deps import RuntimeDep, SessionDep
from . import passkeys
from .web import IssuerAccess, access, console_page, console_router

__all__ = ["router"]

router = console_router()
router.include_router(passkeys.router)

Owner = Annotated[IssuerAccess, Depends(access("owner"))]

#: What the page says after a change (a code in the redirect, never text from the request).
_DONE = {
    "invited": "Invitation sent.",
    "role": "Role changed.",
    "removed": "Removed from the staff.",
    "required": "Passkeys are now required for this issuer's staff.",
    "optional": "Passkeys are no longer required for this issuer's staff.",
    "unchanged": "Nothing changed.",
}


async def _page(
    acc: IssuerAccess, session: SessionDep, *, status: int = 200, done: str | None = None, error: str | None = None,
    invite_error: str | None = None, invite_email: str = "",
) -> Response:
    entries = await members.staff_of(session, issuer_id=acc.issuer.id)
    return console_page(
        acc,
        "console/staff/staff.html",
        status=status,
        title="Staff",
        entries=entries,
        done=_DONE.get(done or ""),
        error=error,
        invite_error=invite_error,
        invite_email=invite_email,
        invitation_days=members.INVITATION_SECONDS // 86_400,
        passkeys_required=await passkey_service.requires_passkeys(session, issuer_id=acc.issuer.id),
    )


def _back(acc: IssuerAccess, done: str) -> Response:
    return RedirectResponse(f"/console/{acc.issuer.id}/staff?done={done}", status_code=303)


@router.get("/console/{issuer_id}/staff")
async def staff_page(acc: Owner, session: SessionDep, done: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    return await _page(acc, session, done=done)


@router.post("/console/{issuer_id}/staff/invite")
async def invite(
    acc: Owner,
    session: SessionDep,
    runtime: RuntimeDep,
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    settings = runtime.settings
    mailer = mailer_for(settings)
    if mailer is None:
        raise ServiceUnavailable("Invitations are sent by email, and this service has no SMTP server configured (MICROCRED_SMTP_HOST).")
    try:
        invited = await members.invite(session, issuer=acc.issuer, email=email, role=role, actor=acc.staff, now=datetime.now(UTC))
    except (BadRequest, Conflict) as problem:  # raised before anything is written
        return await _page(acc, session, status=problem.status, invite_error=problem.detail, invite_email=email)
    link = members.invitation_link(settings, token=invited.token, issuer_id=acc.issuer.id)
    message = members.invitation_message(to=invited.member.email, link=link, issuer=acc.issuer, role=invited.role, inviter=acc.staff, settings=settings)
    try:
        await mailer.send(message)
    except MailError:
        # Nothing is kept: the invitation is sent whole or not at all.
        raise ServiceUnavailable("The invitation email could not be sent just now, so nobody was invited. Try again in a few minutes.") from None
    return _back(acc, "invited")


@router.post("/console/{issuer_id}/staff/{staff_id}/role")
async def change_role(acc: Owner, session: SessionDep, staff_id: str, role: Annotated[str, Form(max_length=16)] = "") -> Response:
    try:
        await members.change_role(session, issuer=acc.issuer, staff_id=staff_id[:64], role=role, actor=acc.staff, now=datetime.now(UTC))
    except (BadRequest, Conflict) as problem:
        return await _page(acc, session, status=problem.status, error=problem.detail)
    return _back(acc, "role")


@router.post("/console/{issuer_id}/staff/{staff_id}/remove")
async def remove(acc: Owner, session: SessionDep, staff_id: str) -> Response:
    try:
        await members.remove(session, issuer=acc.issuer, staff_id=staff_id[:64], actor=acc.staff, now=datetime.now(UTC))
    except Conflict as problem:
        return await _page(acc, session, status=problem.status, error=problem.detail)
    return _back(acc, "removed")


@router.post("/console/{issuer_id}/staff/passkeys")
async def require_passkeys(acc: Owner, session: SessionDep, required: Annotated[str | None, Form(max_length=8)] = None) -> Response:
    want = required == "yes"
    changed = await passkey_service.set_required(
        session, issuer_id=acc.issuer.id, required=want, actor=acc.principal.client_id, now=datetime.now(UTC)
    )
    return _back(acc, ("required" if want else "optional") if changed else "unchanged")
