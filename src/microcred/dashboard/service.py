"""The figures of an issuer's console dashboard: awards this week and month, jobs in progress,
webhook deliveries failing, revocations, recent audit entries and how credentials are used."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..db.models import AuditEntry
from ..issuers.service import get_issuer
from ..usage.service import UsageSummary, issuer_usage
from .repository import DashboardRepository

__all__ = ["Dashboard", "dashboard", "month_start", "week_start"]

#: How many days of usage the dashboard sums.
USAGE_DAYS = 30


def week_start(now: datetime) -> datetime:
    """Monday 00:00 of ``now``'s week (ISO weeks), in ``now``'s time zone (UTC on the server)."""
    return datetime.combine(now.date() - timedelta(days=now.weekday()), time.min, tzinfo=now.tzinfo)


def month_start(now: datetime) -> datetime:
    return datetime.combine(now.date().replace(day=1), time.min, tzinfo=now.tzinfo)


@dataclass(frozen=True)
class Dashboard:
    awards_this_week: int
    awards_this_month: int
    jobs_running: int
    jobs_queued: int
    webhooks_failed: int
    webhooks_retrying: int
    revoked_total: int
    revoked_this_month: int
    suspended_now: int
    recent_audit: Sequence[AuditEntry]
    usage: UsageSummary
    usage_days: int = USAGE_DAYS


async def dashboard(session: AsyncSession, *, principal: Principal, issuer_id: str, now: datetime, recent: int = 10) -> Dashboard:
    await get_issuer(session, principal=principal, issuer_id=issuer_id)
    repository = DashboardRepository(session)
    jobs = await repository.jobs_by_status(issuer_id)
    failed, retrying = await repository.failing_deliveries(issuer_id)
    return Dashboard(
        awards_this_week=await repository.awards_since(issuer_id, week_start(now)),
        awards_this_month=await repository.awards_since(issuer_id, month_start(now)),
        jobs_running=jobs.get("running", 0),
        jobs_queued=jobs.get("queued", 0),
        webhooks_failed=failed,
        webhooks_retrying=retrying,
        revoked_total=await repository.revoked(issuer_id),
        revoked_this_month=await repository.revoked(issuer_id, since=month_start(now)),
        suspended_now=await repository.suspended(issuer_id),
        recent_audit=await repository.recent_audit(issuer_id, limit=recent),
        usage=await issuer_usage(session, issuer_id, now=now, days=USAGE_DAYS),
    )
