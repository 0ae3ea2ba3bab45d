"""What happened, recorded in the same transaction as the change itself.

Services describe each change they make as an :class:`Event` and hand it to :func:`record`
before their transaction commits. Recording hands the events to the subscribers the
composition root (:mod:`microcred.runtime`) wired into the session factory: the webhook and
learner email outboxes and the audit log, each writing inside that transaction, so an event
exists exactly when its change does (a rolled-back award leaves no webhook behind, and a crash
after commit loses none). This module knows none of them: features import events, never the
other way round.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from .db.base import new_id

__all__ = ["SUBSCRIBERS", "Event", "Subscriber", "record"]


@dataclass(frozen=True)
class Event:
    #: e.g. credential.issued, credential.revoked, credential.suspended, credential.unsuspended,
    #: pathway.completed, key.rotated, issuer.created, achievement.published, client.created,
    #: client.updated, client.revoked, client.rotated
    type: str
    #: The issuer the change belongs to (None for service-wide admin actions).
    issuer_id: str | None
    #: Who did it: an API client id, an OAuth client, or "system" (e.g. a pathway completed by an award).
    actor: str
    #: What it is about (a credential id, an achievement id, a key id...).
    subject: str
    at: datetime
    #: What a webhook receiver or an auditor needs to know; never secrets or private keys.
    #: JSON values (datetimes are written as ISO 8601 text).
    data: dict[str, Any] = field(default_factory=dict)
    #: Kept in the audit log only, never sent to webhooks (e.g. the reason for a revocation).
    private: dict[str, Any] = field(default_factory=dict)
    #: The event's identity: the audit entry's ``event_id`` and the ``webhook-id`` every delivery
    #: of it carries (the same on a retry, so receivers can drop duplicates).
    id: str = field(default_factory=new_id)


#: Writes what ``events`` mean for one concern (the audit log, an outbox) in the session's transaction.
Subscriber = Callable[[AsyncSession, Sequence["Event"]], Awaitable[None]]
#: The key of the subscribers, in order, in a session factory's ``info``.
SUBSCRIBERS = "microcred.event_subscribers"


async def record(session: AsyncSession, *events: Event) -> None:
    """Record ``events`` in ``session``'s transaction: each subscriber, in the order wired.

    Call it once per transaction, with all of its events, as the last write before commit: the
    audit log (the last subscriber) locks the heads of the events' chains (their issuers') from
    there to the commit, so recording early would hold them across the rest of the transaction
    (and a write after it could wait, holding a head, for a lock held by a transaction waiting
    for that head). Once also because one call locks every chain it needs in one order: two
    calls could lock issuer B's chain after A's while another transaction, holding B's, waits
    for A's.
    """
    if not events:
        return
    subscribers: Sequence[Subscriber] | None = session.info.get(SUBSCRIBERS)
    if subscribers is None:  # a session from a factory the root did not build would lose the audit entry
        raise RuntimeError("this session's factory has no event subscribers: build it with microcred.runtime")
    for subscriber in subscribers:
        await subscriber(session, events)
