from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = ["Claimed", "WebhookRepository"]


@dataclass(frozen=True)
class Claimed:
    """What a dispatcher needs to send a delivery it claimed."""

    delivery_id: str
    event_id: str
    body: str
    attempts: int  # made so far
    endpoint_id: str
    url: str
    sealed_secret: str


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        self.session.add(endpoint)
        await self.session.flush()
        return endpoint

    async def get(self, issuer_id: str, endpoint_id: str, *, for_update: bool = False) -> WebhookEndpoint | None:
        statement = select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.issuer_id == issuer_id, WebhookEndpoint.deleted_at.is_(None)
        )
        if for_update:
            # FOR NO KEY UPDATE: outbox inserts (a key-share lock on the endpoint) go on beside it,
            # so an award holding the audit chain's head never waits for an endpoint being edited.
            statement = statement.with_for_update(key_share=True)
        return await self.session.scalar(statement)

    async def for_issuer(self, issuer_id: str) -> Sequence[WebhookEndpoint]:
        statement = (
            select(WebhookEndpoint)
            .where(WebhookEndpoint.issuer_id == issuer_id, WebhookEndpoint.deleted_at.is_(None))
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
        return (await self.session.scalars(statement)).all()

    async def cancel_pending(self, endpoint_id: str, *, reason: str) -> None:
        await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "pending")
            .values(status="failed", last_error=reason)
            .execution_options(synchronize_session=False)
        )

    async def add_delivery(self, delivery: WebhookDelivery) -> WebhookDelivery:
        self.session.add(delivery)
        await self.session.flush()
        return delivery

    async def delivery(self, endpoint_id: str, delivery_id: str, *, for_update: bool = False) -> WebhookDelivery | None:
        statement = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id)
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def deliveries(
        self, endpoint_id: str, *, status: str | None, after: tuple[datetime, str] | None, limit: int
    ) -> Sequence[WebhookDelivery]:
        """Newest first; ``after`` is the (created_at, id) of the last delivery of the page before."""
        statement = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        if status is not None:
            statement = statement.where(WebhookDelivery.status == status)
        if after is not None:
            at, delivery_id = after
            statement = statement.where(
                or_(WebhookDelivery.created_at < at, and_(WebhookDelivery.created_at == at, WebhookDelivery.id < delivery_id))
            )
        statement = statement.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit)
        return (await self.session.scalars(statement)).all()

    async def attempts(self, delivery_ids: Sequence[str]) -> dict[str, list[WebhookAttempt]]:
        found: dict[str, list[WebhookAttempt]] = defaultdict(list)
        if delivery_ids:
            statement = select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids)).order_by(WebhookAttempt.at, WebhookAttempt.id)
            for attempt in await self.session.scalars(statement):
                found[attempt.delivery_id].append(attempt)
        return found

    # -- the dispatcher's side -----------------------------------------------------------------

    async def claim_due(self, *, now: datetime, until: datetime, limit: int) -> Sequence[Claimed]:
        """Take up to ``limit`` deliveries that are due, by moving their next attempt to ``until``
        (the lease: should this dispatcher die while sending, another tries again after it).
        Deliveries another dispatcher is claiming at this moment are skipped, not waited for."""
        due = (
            select(WebhookDelivery.id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
                WebhookEndpoint.enabled.is_(True),
                WebhookEndpoint.deleted_at.is_(None),
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        )
        ids = list((await self.session.scalars(due)).all())
        if not ids:
            return []
        await self.session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).values(next_attempt_at=until).execution_options(synchronize_session=False)
        )
        claimed = await self.session.execute(
            select(
                WebhookDelivery.id,
                WebhookDelivery.event_id,
                WebhookDelivery.body,
                WebhookDelivery.attempts,
                WebhookEndpoint.id,
                WebhookEndpoint.url,
                WebhookEndpoint.sealed_secret,
            )
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.id.in_(ids))
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.created_at)
        )
        return [Claimed(*row) for row in claimed]

    async def release(self, delivery_ids: Sequence[str], *, due: datetime) -> None:
        """Give claimed deliveries back, due at ``due``, without counting an attempt."""
        await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(delivery_ids), WebhookDelivery.status == "pending")
            .values(next_attempt_at=due)
            .execution_options(synchronize_session=False)
        )

    async def settle(self, delivery_id: str, attempt: dict[str, Any], changes: dict[str, Any]) -> None:
        """Log one attempt and move the delivery on (unless its endpoint was deleted meanwhile,
        which settled it). The log row goes first: it takes its endpoint's key-share lock before
        the delivery's row lock, the order every writer keeps."""
        await self.session.execute(insert(WebhookAttempt), [attempt])
        await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending")
            .values(**changes)
            .execution_options(synchronize_session=False)
        )
