"""Learner emails: the issuer's email settings (manager) and the delivery log (viewer), with a
retry button for an email that failed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Form, Query
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from ..delivery import service as delivery
from ..web.deps import SessionDep
from .form_errors import FormErrors
from .web import IssuerAccess, access, console_page, console_router

__all__ = ["router"]

router = console_router()

Viewer = Annotated[IssuerAccess, Depends(access("viewer"))]
Manager = Annotated[IssuerAccess, Depends(access("manager"))]
_Status = Annotated[str | None, Query(pattern="^(|queued|retrying|sent|failed)$")]
LABELS = {"rate": "Emails per second", "sender_name": "Sender name", "reply_to": "Reply-to address"}


async def _page(
    session: AsyncSession, acc: IssuerAccess, *, status: str | None = None, code: int = 200, errors: FormErrors | None = None,
    values: dict[str, object] | None = None, notice: str | None = None,
) -> Response:
    issuer = acc.issuer
    emails = await delivery.list_emails(session, issuer_id=issuer.id, status=status or None)
    return console_page(
        acc, "console/emails/index.html", status=code, title="Learner emails", emails=emails, shown_status=status or "",
        errors=errors or FormErrors(), labels=LABELS, notice=notice,
        values=values or {
            "enabled": issuer.email_enabled, "rate": f"{issuer.email_rate_per_second:g}", "sender_name": issuer.email_sender_name or "",
            "reply_to": issuer.email_reply_to or "", "on_revocation": issuer.notify_on_revocation,
        },
    )


@router.get("/console/{issuer_id}/emails")
async def email_log(acc: Viewer, session: SessionDep, status: _Status = None) -> Response:
    return await _page(session, acc, status=status)


@router.post("/console/{issuer_id}/emails/settings")
async def email_settings(
    acc: Manager,
    session: SessionDep,
    enabled: Annotated[str, Form(max_length=8)] = "",
    rate: Annotated[str, Form(max_length=32)] = "",
    sender_name: Annotated[str, Form(max_length=400)] = "",
    reply_to: Annotated[str, Form(max_length=400)] = "",
    on_revocation: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    values: dict[str, object] = {
        "enabled": bool(enabled), "rate": rate.strip(), "sender_name": sender_name.strip(), "reply_to": reply_to.strip(), "on_revocation": bool(on_revocation),
    }
    errors = FormErrors()
    try:
        per_second = float(rate.strip())
        if not 0.1 <= per_second <= 1000:
            raise ValueError
    except ValueError:
        per_second = 0.0
        errors.fields["rate"] = "Enter a number from 0.1 to 1000."
    name = sender_name.strip()
    if len(name) > 128 or any(c in name for c in "\r\n<>\""):
        errors.fields["sender_name"] = "Use at most 128 characters, without quotes or angle brackets."
    address = reply_to.strip()
    if address and (len(address) > 320 or address.count("@") != 1 or any(c.isspace() or c in "<>\"," for c in address)):
        errors.fields["reply_to"] = "Enter one email address, like office@example.org."
    if errors.fields:
        return await _page(session, acc, code=422, errors=errors, values=values)
    await delivery.update_settings(
        session, issuer=acc.issuer, enabled=bool(enabled), rate=per_second, sender_name=name or None, reply_to=address or None,
        on_revocation=bool(on_revocation), actor=acc.principal.client_id, now=datetime.now(UTC),
    )
    return await _page(session, acc, notice="The email settings are saved.")


@router.post("/console/{issuer_id}/emails/{email_id}/retry")
async def retry_email(acc: Manager, session: SessionDep, email_id: str) -> Response:
    email = await delivery.retry_email(session, issuer_id=acc.issuer.id, email_id=email_id, actor=acc.principal.client_id, now=datetime.now(UTC))
    return await _page(session, acc, notice=f"The email to {email.recipient} is queued again.")
