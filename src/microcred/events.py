"""What happened, recorded in the same transaction as the change itself.

Services describe each change they make as an :class:`Event` and hand it to :func:`record`
before their transaction commits. Recording writes the audit log entry and the webhook outbox
rows inside that transaction, so an event exists exactly when its change does: a rolled-back
award leaves no webhook behind, and a crash after commit loses none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["Event", "record"]


@dataclass(frozen=True)
class Event:
    #: e.g. credential.issued, credential.revoked, credential.suspended, credential.unsuspended,
    #: pathway.completed, key.rotated, issuer.created, achievement.published, client.created
    type: str
    #: The issuer the change belongs to (None for service-wide admin actions).
    issuer_id: str | None
    #: Who did it: an API client id, an OAuth client, or "system" (e.g. a pathway completed by an award).
    actor: str
    #: What it is about (a credential id, an achievement id, a key id...).
    subject: str
    at: datetime
    #: What a webhook receiver or an auditor needs to know; never secrets or private keys.
    data: dict[str, Any] = field(default_factory=dict)


async def record(session: AsyncSession, *events: Event) -> None:
    """Record ``events`` in ``session``'s transaction (audit log and webhook outbox).

    Call it as the last write before commit: the audit chain's head is locked from here to the
    commit, so recording early would hold that lock across the rest of the transaction.
    """
    if not events:
        return
    # Filled in by the audit log and webhooks (issue 5); until then recording is a no-op.
