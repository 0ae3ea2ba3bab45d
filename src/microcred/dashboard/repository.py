from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import AuditEntry, Credential, Job, WebhookDelivery, WebhookEndpoint

__all__ = ["DashboardRepository"]


class DashboardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def awards_since(self, issuer_id: str, since: datetime) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).select_from(Credential).where(Credential.issuer_id == issuer_id, Credential.issued_at >= since)
            )
            or 0
        )

    async def revoked(self, issuer_id: str, *, since: datetime | None = None) -> int:
        """Revoked credentials (revoked since ``since``, if given): the partial index of revoked ones."""
        statement = select(func.count()).select_from(Credential).where(Credential.issuer_id == issuer_id, Credential.revoked_at.is_not(None))
        if since is not None:
            statement = statement.where(Credential.revoked_at >= since)
        return int(await self.session.scalar(statement) or 0)

    async def suspended(self, issuer_id: str) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(Credential)
                .where(Credential.issuer_id == issuer_id, Credential.suspended_at.is_not(None), Credential.revoked_at.is_(None))
            )
            or 0
        )

    async def jobs_by_status(self, issuer_id: str) -> dict[str, int]:
        rows = await self.session.execute(
            select(Job.status, func.count()).where(Job.issuer_id == issuer_id, Job.status.in_(("queued", "running"))).group_by(Job.status)
        )
        return {status: int(n) for status, n in rows}

    async def failing_deliveries(self, issuer_id: str) -> tuple[int, int]:
        """(given up, being retried): deliveries to the issuer's endpoints that failed for good,
        and those still pending after a failed attempt."""
        rows = await self.session.execute(
            select(WebhookDelivery.status, func.count())
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookEndpoint.issuer_id == issuer_id,
                ((WebhookDelivery.status == "failed") | and_(WebhookDelivery.status == "pending", WebhookDelivery.attempts > 0)),
            )
            .group_by(WebhookDelivery.status)
        )
        counts = {status: int(n) for status, n in rows}
        return counts.get("failed", 0), counts.get("pending", 0)

    async def recent_audit(self, issuer_id: str, *, limit: int) -> Sequence[AuditEntry]:
        return (
            await self.session.scalars(
                select(AuditEntry).where(AuditEntry.issuer_id == issuer_id).order_by(AuditEntry.seq.desc()).limit(limit)
            )
        ).all()
