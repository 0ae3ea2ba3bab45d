"""Staff's side of learner emails: the delivery log, a retry of a failed email, the settings.

A retry and a change of the settings are recorded in the audit log (who, when, what changed);
the recipient's address stays out of it, in the email's own row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import EmailDelivery, Issuer
from ..events import Event, record
from ..problems import NotFound

__all__ = ["list_emails", "retry_email", "update_settings"]


async def list_emails(session: AsyncSession, *, issuer_id: str, status: str | None, limit: int = 50) -> Sequence[EmailDelivery]:
    """The issuer's newest emails (in one state, if asked)."""
    statement = select(EmailDelivery).where(EmailDelivery.issuer_id == issuer_id)
    if status:
        statement = statement.where(EmailDelivery.status == status)
    statement = statement.order_by(EmailDelivery.created_at.desc(), EmailDelivery.id.desc()).limit(limit)
    return (await session.scalars(statement)).all()


async def retry_email(session: AsyncSession, *, issuer_id: str, email_id: str, actor: str, now: datetime) -> EmailDelivery:
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
    await record(session, Event("email.retried", issuer_id, actor, email.credential_id, now, {"email_id": email.id, "kind": email.kind}))
    return email


async def update_settings(
    session: AsyncSession, *, issuer: Issuer, enabled: bool, rate: float, sender_name: str | None, reply_to: str | None, on_revocation: bool,
    actor: str, now: datetime,
) -> None:
    wanted = {
        "email_enabled": enabled, "email_rate_per_second": rate, "email_sender_name": sender_name, "email_reply_to": reply_to,
        "notify_on_revocation": on_revocation,
    }
    changed = sorted(name for name, value in wanted.items() if getattr(issuer, name) != value)
    for name in changed:
        setattr(issuer, name, wanted[name])
    await session.flush()
    if changed:
        await record(session, Event("issuer.updated", issuer.id, actor, issuer.id, now, {"fields": changed}))
