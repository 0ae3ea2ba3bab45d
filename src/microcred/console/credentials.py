"""The console's credentials pages: search, a credential with its timeline, revoke / suspend /
reinstate with a private reason, and correct-and-reissue. Every page calls the services the API
uses, as the staff member (``acc.principal``), so the checks and audit entries are the API's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from ..awards import service as awards
from ..awards.document import credential_url
from ..awards.reissue import REISSUE_PREFIX, correct_and_reissue, replacement_of
from ..awards.search import achievement_names
from ..db.models import Credential
from ..pagination import decode_cursor
from ..problems import BadRequest, NotFound
from ..status.service import credential_state, change_status, list_signing
from ..timeline.service import actor_names, credential_timeline
from ..web.deps import RuntimeDep, SessionDep
from .web import IssuerAccess, access, console_page, console_router

__all__ = ["router", "when"]

router = console_router()

Viewer = Annotated[IssuerAccess, Depends(access("viewer"))]
Awarder = Annotated[IssuerAccess, Depends(access("awarder"))]

STATES = {"active": "Valid", "revoked": "Revoked", "suspended": "Suspended", "expired": "Expired"}
#: The status changes a staff member can make, in the words of the page's URL.
CHANGES: dict[str, dict[str, Any]] = {
    "revoke": {
        "service": "revoke", "title": "Revoke this credential", "button": "Revoke the credential", "done": "The credential is revoked.",
        "reason_required": True,
        "warning": "Revoking is final. Verifiers report the credential revoked at once, and its public page says Revoked. "
        "The reason stays with the issuer's staff and the audit log; it is never published.",
    },
    "suspend": {
        "service": "suspend", "title": "Suspend this credential", "button": "Suspend the credential", "done": "The credential is suspended.",
        "reason_required": True,
        "warning": "Verifiers report the credential suspended until it is reinstated, and its public page says Suspended. "
        "The reason stays with the issuer's staff and the audit log; it is never published.",
    },
    "reinstate": {
        "service": "unsuspend", "title": "Reinstate this credential", "button": "Reinstate the credential", "done": "The credential is valid again.",
        "reason_required": False,
        "warning": "Verifiers report the credential valid again, and its public page says Valid.",
    },
}
_PAGE_SIZE = 25


def when(value: datetime | None) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if value is not None else ""


def _day(value: str | None, name: str, errors: dict[str, str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = "Enter a date as year-month-day, e.g. 2026-12-03."
        return None


@router.get("/console/{issuer_id}/credentials")
async def search(
    request: Request,
    acc: Viewer,
    session: SessionDep,
    runtime: RuntimeDep,
    q: Annotated[str, Query(max_length=200)] = "",
    achievement: Annotated[str, Query(max_length=36)] = "",
    issued_from: Annotated[str, Query(max_length=10, alias="from")] = "",
    issued_to: Annotated[str, Query(max_length=10, alias="to")] = "",
    status: Annotated[str, Query(max_length=10)] = "",
    cursor: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """The issuer's credentials, newest first: by any part of the learner's name or email address,
    achievement, issue date (from and to, both included) and status."""
    names = await achievement_names(session, principal=acc.principal, issuer_id=acc.issuer.id)
    errors: dict[str, str] = {}
    start, end = _day(issued_from, "from", errors), _day(issued_to, "to", errors)
    if status and status not in STATES:
        errors["status"] = "Choose one of the statuses offered."
    if achievement and achievement not in names:
        errors["achievement"] = "Choose one of the achievements offered."
    if start and end and start > end:
        errors["to"] = "The end date lies before the start date."
    if cursor:
        try:
            decode_cursor(cursor)
        except (BadRequest, ValueError):
            cursor = ""
    page = None
    if not errors:
        page = await awards.list_credentials(
            session,
            principal=acc.principal,
            issuer_id=acc.issuer.id,
            base_url=runtime.settings.base_url,
            learner=q or None,
            achievement_id=achievement or None,
            issued_after=datetime.combine(start, datetime.min.time(), tzinfo=UTC) if start else None,
            issued_before=datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC) if end else None,
            state=status or None,  # type: ignore[arg-type]
            cursor=cursor or None,
            limit=_PAGE_SIZE,
            now=datetime.now(UTC),
        )
    filters = {"q": q, "achievement": achievement, "from": issued_from, "to": issued_to, "status": status}
    kept = {k: v for k, v in filters.items() if v}
    next_url = f"?{urlencode({**kept, 'cursor': page.next_cursor})}" if page is not None and page.next_cursor else None
    return console_page(
        acc, "console/credentials/search.html", title="Credentials", status=422 if errors else 200,
        filters=filters, errors=errors, page=page, names=names, states=STATES, next_url=next_url,
        first_url=f"?{urlencode(kept)}" if cursor else None, when=when, searched=bool(kept),
    )


async def _credential(session: SessionDep, acc: IssuerAccess, credential_id: str) -> Credential:
    result = await awards.get_credential(session, principal=acc.principal, issuer_id=acc.issuer.id, credential_id=credential_id)
    return result.credential


@router.get("/console/{issuer_id}/credentials/{credential_id}")
async def credential_page(
    acc: Viewer, credential_id: str, session: SessionDep, runtime: RuntimeDep, done: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    """One credential: what it says, its standing, how it was used, and its timeline."""
    timeline = await credential_timeline(session, principal=acc.principal, issuer_id=acc.issuer.id, credential_id=credential_id)
    credential = timeline.credential
    names = await achievement_names(session, principal=acc.principal, issuer_id=acc.issuer.id)
    actors = await actor_names(session, [e.actor for e in timeline.entries if e.actor])
    replacement = await replacement_of(session, credential) if credential.revoked_at is not None else None
    replaces = credential.dedup_key.removeprefix(REISSUE_PREFIX) if credential.dedup_key.startswith(REISSUE_PREFIX) else None
    state = credential_state(credential, now=datetime.now(UTC))
    notice = {**{k: v["done"] for k, v in CHANGES.items()}, "reissued": "The corrected credential is signed; the old one is revoked as superseded."}.get(done)
    return console_page(
        acc, "console/credentials/credential.html", title=credential.recipient_name or credential.recipient_email or "Credential",
        credential=credential, state=state, state_words=STATES[state], achievement_name=names.get(credential.achievement_id, credential.achievement_id),
        public_url=credential_url(runtime.settings.base_url, credential.id), timeline=timeline, actors=actors,
        replacement=replacement, replaces=replaces, notice=notice, when=when, can_suspend=_can_suspend(acc, credential),
    )


def _can_suspend(acc: IssuerAccess, credential: Credential) -> bool:
    """Whether a suspension can be offered: the credential carries a suspension entry of its own,
    or one entry for both (an issuer offering suspension awards those)."""
    return credential.suspension_list_id is not None or acc.issuer.offers_suspension


@router.get("/console/{issuer_id}/credentials/{credential_id}/{change}")
async def change_form(acc: Awarder, credential_id: str, change: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    """The confirmation of a revocation, suspension or reinstatement, with the reason."""
    if change == "correct":
        credential = await _credential(session, acc, credential_id)
        return _correct_page(acc, credential, runtime.settings.base_url, name=credential.recipient_name or "", note="")
    credential = await _credential(session, acc, credential_id)
    return _change_page(acc, credential, _change(change), reason="")


def _change(change: str) -> dict[str, Any]:
    if change not in CHANGES:
        raise NotFound("There is no such page.")
    return CHANGES[change]


def _change_page(acc: IssuerAccess, credential: Credential, change: dict[str, Any], *, reason: str, error: str | None = None) -> Response:
    return console_page(
        acc, "console/credentials/change.html", title=change["title"], status=422 if error else 200,
        credential=credential, change=change, reason=reason, error=error, when=when,
        state_words=STATES[credential_state(credential, now=datetime.now(UTC))],
    )


def _correct_page(acc: IssuerAccess, credential: Credential, base_url: str, *, name: str, note: str, error: str | None = None) -> Response:
    return console_page(
        acc, "console/credentials/correct.html", title="Correct the learner's name and reissue", status=422 if error else 200,
        credential=credential, name=name, note=note, error=error, when=when, public_url=credential_url(base_url, credential.id),
    )


def _text(form: Any, name: str, limit: int) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


@router.post("/console/{issuer_id}/credentials/{credential_id}/{change}")
async def make_change(request: Request, acc: Awarder, credential_id: str, change: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    form = await request.form()
    now = datetime.now(UTC)
    base = f"/console/{acc.issuer.id}/credentials"
    if change == "correct":
        name, note = _text(form, "recipient_name", 600), _text(form, "note", 1000)
        credential = await _credential(session, acc, credential_id)
        error = None
        if not name:
            error = "Enter the learner's name as it should read."
        elif len(name) > 512:
            error = "The name can be at most 512 characters."
        elif name == (credential.recipient_name or "").strip():
            error = "The name is the same as the credential's: change it, or go back."
        if error is not None:
            return _correct_page(acc, credential, runtime.settings.base_url, name=name, note=note, error=error)
        done = await correct_and_reissue(
            session, principal=acc.principal, signing=awards.Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses),
            list_signing=list_signing(runtime), issuer_id=acc.issuer.id, credential_id=credential_id, recipient_name=name,
            note=note or None, now=now,
        )
        return RedirectResponse(f"{base}/{done.new.id}?done=reissued", status_code=303)
    spec = _change(change)
    reason = _text(form, "reason", 1000)
    if spec["reason_required"] and not reason:
        credential = await _credential(session, acc, credential_id)
        return _change_page(acc, credential, spec, reason=reason, error="Give the reason: it stays with the issuer's staff.")
    await change_status(
        session, principal=acc.principal, signing=list_signing(runtime), issuer_id=acc.issuer.id, credential_id=credential_id,
        change=spec["service"], reason=reason or None, now=now,
    )
    return RedirectResponse(f"{base}/{credential_id}?done={change}", status_code=303)


