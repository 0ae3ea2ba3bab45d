"""A credential's timeline, from the audit log, the webhook delivery log and the usage counts.

For the issuer's staff only: it shows the private reasons of revocations and suspensions, which
no public page, status list or webhook carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..awards.repository import CredentialRepository
from ..db.models import Credential
from ..issuers.service import get_issuer
from ..problems import NotFound
from ..staff.repository import StaffRepository
from ..usage.service import KINDS, UsageSummary, credential_usage
from .repository import TimelineRepository

__all__ = ["CredentialTimeline", "TimelineEntry", "actor_names", "credential_timeline"]

_ACTIONS = {
    "credential.issued": "Issued",
    "credential.revoked": "Revoked",
    "credential.suspended": "Suspended",
    "credential.unsuspended": "Reinstated",
}
_DELIVERY = {"delivered": "delivered", "failed": "failed (gave up)", "pending": "pending"}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    #: issued | revoked | suspended | unsuspended | used | webhook | other
    kind: str
    title: str
    #: who did it (an API client, a staff member "staff:<id>", a job, "system"), for changes
    actor: str | None = None
    #: the private reason of a change, or what a webhook endpoint answered
    detail: str | None = None
    #: a credential this entry points to (the replacement of a superseded one, or what it replaces)
    credential_id: str | None = None


@dataclass(frozen=True)
class CredentialTimeline:
    credential: Credential
    entries: list[TimelineEntry]
    usage: UsageSummary


def _audit_entry(action: str, at: datetime, actor: str, data: dict[str, Any]) -> TimelineEntry:
    kind = action.removeprefix("credential.") if action in _ACTIONS else "other"
    title = _ACTIONS.get(action, action)
    linked = None
    if action == "credential.issued" and isinstance(data.get("replaces"), str):
        title, linked = "Issued as the corrected replacement of an earlier credential", data["replaces"]
    if action == "credential.revoked" and isinstance(data.get("superseded_by"), str):
        title, linked = "Revoked: superseded by a corrected credential", data["superseded_by"]
    reason = data.get("reason")
    note = data.get("note")
    detail = "; ".join(str(part) for part in (reason, note) if part) or None
    return TimelineEntry(at=at, kind=kind, title=title, actor=actor, detail=detail, credential_id=linked)


def _uses(counts: dict[str, int]) -> str:
    return ", ".join(f"{KINDS.get(kind, kind).lower()}: {n}" for kind, n in sorted(counts.items(), key=lambda kv: list(KINDS).index(kv[0]) if kv[0] in KINDS else 99))


async def credential_timeline(session: AsyncSession, *, principal: Principal, issuer_id: str, credential_id: str) -> CredentialTimeline:
    """Everything that happened to the credential, oldest first (uses: one entry per day)."""
    await get_issuer(session, principal=principal, issuer_id=issuer_id)
    credential = await CredentialRepository(session).get(issuer_id, credential_id)
    if credential is None:
        raise NotFound(f"no credential {credential_id!r}")
    repository = TimelineRepository(session)
    audit = await repository.audit_about(issuer_id, credential.id)
    entries = [_audit_entry(e.action, e.at, e.actor, e.data) for e in audit]
    for delivery, url in await repository.deliveries_of(issuer_id, [e.event_id for e in audit]):
        state = _DELIVERY.get(delivery.status, delivery.status)
        attempts = f"{delivery.attempts} attempt{'s' if delivery.attempts != 1 else ''}"
        entries.append(
            TimelineEntry(
                at=delivery.delivered_at or delivery.created_at,
                kind="webhook",
                title=f"Webhook {delivery.event_type} to {url}: {state} ({attempts})",
                detail=delivery.last_error if delivery.status != "delivered" else None,
            )
        )
    usage = await credential_usage(session, credential.id)
    for day, counts in usage.by_day:
        entries.append(TimelineEntry(at=datetime.combine(day, time.max, tzinfo=UTC), kind="used", title=f"Used: {_uses(counts)}"))
    entries.sort(key=lambda e: e.at)
    return CredentialTimeline(credential=credential, entries=entries, usage=usage)


async def actor_names(session: AsyncSession, actors: list[str]) -> dict[str, str]:
    """Actors in words: a staff member ("staff:<id>") by their email address; the others as they are."""
    named: dict[str, str] = {}
    staff = StaffRepository(session)
    for actor in dict.fromkeys(actors):
        if actor.startswith("staff:") and (member := await staff.get(actor.removeprefix("staff:"))) is not None:
            named[actor] = member.email
        elif actor.startswith("job:"):
            named[actor] = "a bulk upload"
        else:
            named[actor] = actor
    return named
