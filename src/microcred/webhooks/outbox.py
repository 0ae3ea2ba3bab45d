"""The webhook outbox: :func:`microcred.events.record` puts one delivery per event and
subscribed endpoint into the transaction that made the event. Committed with the change, the
deliveries wait in the database for the dispatcher, however long the receiver is away and
however often the service restarts."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..audit.chain import timestamp
from ..db.base import new_id
from ..events import Event
from ..db.models import WebhookDelivery, WebhookEndpoint


__all__ = ["EVENT_TYPES", "enqueue", "payload"]

#: The events an endpoint may subscribe to. Everything else (issuer, key, achievement, client
#: changes) goes to the audit log only.
EVENT_TYPES: tuple[str, ...] = (
    "credential.issued",
    "credential.revoked",
    "credential.suspended",
    "credential.unsuspended",
    "pathway.completed",
)
_INSERT_BATCH = 1000


def payload(event: Event) -> bytes:
    """The body every attempt of the event sends (and signs), fixed when the event is recorded."""
    body: dict[str, Any] = {
        "id": event.id,
        "type": event.type,
        "timestamp": timestamp(event.at),
        "issuer_id": event.issuer_id,
        "subject": event.subject,
        "data": event.data,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=_iso).encode()


def _iso(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    raise TypeError(f"webhook data must be JSON values, not {type(value).__name__}")


async def enqueue(session: AsyncSession, events: Sequence[Event]) -> None:
    """Outbox rows for ``events``: one per event and enabled endpoint of its issuer subscribed
    to its type, inserted in bulk (a bulk-award chunk makes thousands)."""
    wanted = [e for e in events if e.issuer_id is not None and e.type in EVENT_TYPES]
    if not wanted:
        return
    issuers = sorted({e.issuer_id for e in wanted if e.issuer_id is not None})
    found = await session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.issuer_id, WebhookEndpoint.events).where(
            WebhookEndpoint.issuer_id.in_(issuers), WebhookEndpoint.enabled.is_(True), WebhookEndpoint.deleted_at.is_(None)
        )
    )
    endpoints: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    for endpoint_id, issuer_id, types in found:
        endpoints[issuer_id].append((endpoint_id, types))
    rows: list[dict[str, Any]] = []
    for event in wanted:
        subscribed = [endpoint_id for endpoint_id, types in endpoints.get(event.issuer_id or "", []) if event.type in types]
        if not subscribed:
            continue
        body = payload(event).decode()
        at = event.at.astimezone(UTC)
        rows += [
            {
                "id": new_id(),
                "endpoint_id": endpoint_id,
                "event_id": event.id,
                "event_type": event.type,
                "body": body,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": at,
                "created_at": at,
            }
            for endpoint_id in subscribed
        ]
    for start in range(0, len(rows), _INSERT_BATCH):
        await session.execute(insert(WebhookDelivery), rows[start : start + _INSERT_BATCH])
