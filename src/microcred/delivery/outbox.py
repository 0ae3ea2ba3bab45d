"""The email outbox: :func:`microcred.events.record` calls :func:`enqueue` with the events of a
transaction, so an email exists exactly when its credential does (a rolled-back award leaves
none; a committed one keeps its email through any restart)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.base import new_id
from ..events import Event
from ..db.models import Credential, EmailDelivery, Issuer


__all__ = ["KINDS", "enqueue"]

#: The event types that email a learner, and the kind of email each makes. A pathway's
#: credential is recorded as credential.issued too: the unique (credential, kind) keeps it one email.
KINDS = {"credential.issued": "issued", "pathway.completed": "issued", "credential.revoked": "revoked"}
_LOOKUP_BATCH = 1000


async def enqueue(session: AsyncSession, events: Sequence[Event]) -> None:
    """Queue one email per credential and kind among ``events``, for credentials with a
    recipient email whose issuer sends emails (and, for revocations, asked for them)."""
    wanted: dict[tuple[str, str], Event] = {}
    for event in events:
        kind = KINDS.get(event.type)
        if kind is not None and event.issuer_id is not None:
            wanted.setdefault((event.subject, kind), event)
    if not wanted:
        return
    credential_ids = sorted({credential_id for credential_id, _ in wanted})
    found: dict[str, tuple[str, bool, bool]] = {}
    for start in range(0, len(credential_ids), _LOOKUP_BATCH):
        rows = await session.execute(
            select(Credential.id, Credential.recipient_email, Issuer.email_enabled, Issuer.notify_on_revocation)
            .join(Issuer, Issuer.id == Credential.issuer_id)
            .where(Credential.id.in_(credential_ids[start : start + _LOOKUP_BATCH]), Credential.recipient_email.is_not(None))
        )
        for credential_id, email, enabled, on_revocation in rows:
            if email:
                found[credential_id] = (email, enabled, on_revocation)
    values: list[dict[str, Any]] = []
    for (credential_id, kind), event in wanted.items():
        if credential_id not in found:
            continue
        email, enabled, on_revocation = found[credential_id]
        if not enabled or (kind == "revoked" and not on_revocation):
            continue
        at = event.at.astimezone(UTC)
        values.append(
            {
                "id": new_id(),
                "issuer_id": event.issuer_id,
                "credential_id": credential_id,
                "kind": kind,
                "recipient": email,
                "status": "queued",
                "attempts": 0,
                "next_attempt_at": at,
                "created_at": at,
            }
        )
    if values:
        await session.execute(insert(EmailDelivery), values)
