"""The audit log of an issuer (viewer): filtered by action, who, what and when, a page at a
time, and a button that checks the whole hash chain (``microcred audit verify``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Query
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from ..audit import service as audit
from ..audit.service import AuditFilter, ChainReport
from ..web.deps import SessionDep
from .form_errors import FormErrors
from .web import IssuerAccess, access, console_page, console_router

__all__ = ["router"]

router = console_router()

Viewer = Annotated[IssuerAccess, Depends(access("viewer"))]

PAGE = 50
LABELS = {"action": "Action", "actor": "Who", "subject": "About", "since": "From", "until": "To"}
#: Suggestions for the action filter (any action may be typed; ``family.*`` matches a family).
ACTIONS = (
    "credential.*", "credential.issued", "credential.revoked", "credential.suspended", "credential.unsuspended",
    "achievement.*", "pathway.*", "endorsement.*", "webhook.*", "webhook.delivery_retried", "client.*", "client.created",
    "client.revoked", "client.rotated", "issuer.*", "key.rotated", "job.submitted", "staff.*", "email.retried",
)

_Text = Annotated[str, Query(max_length=320)]


@dataclass
class Filters:
    action: str = ""
    actor: str = ""
    subject: str = ""
    since: str = ""
    until: str = ""

    def query(self) -> str:
        """The filters as a query string, for the next page's link."""
        return urlencode({k: v for k, v in vars(self).items() if v})


def _day(text: str, name: str, errors: FormErrors) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.fields[name] = "Enter a date as YYYY-MM-DD."
        return None


async def _where(session: AsyncSession, filters: Filters, errors: FormErrors) -> AuditFilter | None:
    """The service's filter for what was typed; None when nothing can match (an unknown person)."""
    actor: str | None = filters.actor or None
    if actor is not None and "@" in actor:
        actor = await audit.staff_actor(session, actor)
        if actor is None:
            errors.fields["actor"] = "No staff member has this email address."
            return None
    since, until = _day(filters.since, "since", errors), _day(filters.until, "until", errors)
    if since and until and until < since:
        errors.fields["until"] = "The end date is before the start date."
    if errors:
        return None
    return AuditFilter(
        action=filters.action or None,
        actor=actor,
        subject=filters.subject or None,
        since=datetime.combine(since, time(), UTC) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(), UTC) if until else None,  # the whole last day
    )


async def _page(
    session: AsyncSession, acc: IssuerAccess, filters: Filters, *, before: int | None, report: ChainReport | None = None
) -> Response:
    errors = FormErrors()
    where = await _where(session, filters, errors)
    entries, next_before = [], None
    if where is not None:
        page = await audit.list_entries(
            session, principal=acc.principal, issuer_id=acc.issuer.id, before=before, limit=PAGE, where=where, scope=None
        )
        entries, next_before = page.items, page.next_before
    names = await audit.actor_names(session, [e.actor for e in entries])
    broken = report.broken.describe(for_issuer=acc.issuer.id) if report is not None and report.broken is not None else None
    return console_page(
        acc, "console/audit/index.html", status=422 if errors else 200, title="Audit log",
        filters=filters, errors=errors, labels=LABELS, actions=ACTIONS, entries=entries, names=names,
        next_before=next_before, older=before is not None, report=report, broken=broken,
    )


@router.get("/console/{issuer_id}/audit")
async def audit_log(
    acc: Viewer,
    session: SessionDep,
    action: Annotated[str, Query(max_length=64)] = "",
    actor: _Text = "",
    subject: Annotated[str, Query(max_length=512)] = "",
    since: Annotated[str, Query(max_length=20)] = "",
    until: Annotated[str, Query(max_length=20)] = "",
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    """The issuer's entries, newest first, those the filters let through."""
    filters = Filters(action.strip(), actor.strip(), subject.strip(), since.strip(), until.strip())
    return await _page(session, acc, filters, before=before)


@router.post("/console/{issuer_id}/audit/verify")
async def verify(acc: Viewer, session: SessionDep) -> Response:
    """Check the service's whole chain: every entry unchanged, none removed, moved or slipped in."""
    report = await audit.verify_chain(session)
    return await _page(session, acc, Filters(), before=None, report=report)
