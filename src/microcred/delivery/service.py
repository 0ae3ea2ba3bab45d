"""Staff's side of learner emails: the delivery log, a retry of a failed email, the settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import EmailDelivery, Issuer
from ..problems import NotFound

__all__ = ["list_emails", "retry_email", "update_settings"]


async def list_emails(session: AsyncSession, *, issuer_id: str, status: str | None, limit: int = 50) -> Sequence[EmailDelivery]:
    """The issuer's newest emails (in one state, if asked)."""
    statement = select(EmailDelivery).where(EmailDelivery.issuer_id == issuer_id)
    if status:
        statement = statement.where(EmailDelivery.status == status)
    statement = statement.order_by(EmailDelivery.created_at.desc(), EmailDelivery.id.desc()).limit(limit)
    return (await session.scalars(statement)).all()


async def retry_email(session: AsyncSession, *, issuer_id: str, email_id: str, now: datetime) -> EmailDelivery:
    """A failed email queued again, due now, with its attempts counted afresh."""
    email = await session.scalar(select(EmailDelivery).where(EmailDelivery.id == email_id, EmailDelivery.issuer_id == issuer_id))
    if email is None:
        raise NotFound("No such email for this issuer.")
    await session.execute(
        update(EmailDelivery)
        .where(EmailDelivery.id == email_id, EmailDelivery.status == "failed")
        .values(status="queued", attempts=0, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(email)
    return email


async def update_settings(
    session: AsyncSession, *, issuer: Issuer, enabled: bool, rate: float, sender_name: str | None, reply_to: str | None, on_revocation: bool
) -> None:
    issuer.email_enabled, issuer.email_rate_per_second = enabled, rate
    issuer.email_sender_name, issuer.email_reply_to, issuer.notify_on_revocation = sender_name, reply_to, on_revocation
    await session.flush()
