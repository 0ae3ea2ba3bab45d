from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import AuditEntry, WebhookDelivery, WebhookEndpoint

__all__ = ["TimelineRepository"]


class TimelineRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def audit_about(self, issuer_id: str, subject: str, *, limit: int = 500) -> Sequence[AuditEntry]:
        """The issuer's audit entries about ``subject``, oldest first."""
        statement = (
            select(AuditEntry)
            .where(AuditEntry.subject == subject, AuditEntry.issuer_id == issuer_id)
            .order_by(AuditEntry.seq)
            .limit(limit)
        )
        return (await self.session.scalars(statement)).all()

    async def deliveries_of(self, issuer_id: str, event_ids: Sequence[str]) -> list[tuple[WebhookDelivery, str]]:
        """The webhook deliveries of these events to the issuer's endpoints, with each endpoint's URL."""
        if not event_ids:
            return []
        rows = await self.session.execute(
            select(WebhookDelivery, WebhookEndpoint.url)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.event_id.in_(list(event_ids)), WebhookEndpoint.issuer_id == issuer_id)
            .order_by(WebhookDelivery.created_at)
        )
        return [(delivery, url) for delivery, url in rows]
