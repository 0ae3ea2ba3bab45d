"""The loop that sends learner emails, in the service process, like the webhook dispatcher:
claiming an email moves its next attempt past a lease (PostgreSQL skips rows another sender is
claiming), a failed attempt is retried with exponential backoff, and an email whose sender
stopped while sending it is sent when the lease lapses (or at once, if the sender handed it back).

Each issuer's emails go out no faster than its ``email_rate_per_second``: every email gets a
slot ``1/rate`` seconds after the issuer's previous one, and a claim takes at most a few seconds'
worth of an issuer's emails, so a 100,000-row batch never bursts. (The pace is kept per process:
run one sender per service, or divide the rate among them.)
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..config import Settings
from ..db.models import Credential, EmailDelivery, Issuer, Learner, LearnerAddress
from ..learners.mail import MailError, Mailer
from ..webhooks.dispatcher import Retry
from .message import Claimed, compose, email_language

__all__ = ["DUE_STATUSES", "EmailSender"]

log = logging.getLogger("microcred.delivery")

DUE_STATUSES = ("queued", "retrying")
#: A claim takes at most this many seconds' worth of one issuer's emails.
_HORIZON_SECONDS = 5.0
_ERROR_CHARS = 1000


class EmailSender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        mailer: Mailer,
        settings: Settings,
        *,
        retry: Retry | None = None,
        batch: int = 200,
        concurrency: int = 4,
        poll_seconds: float = 1.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.sessions, self.mailer, self.settings = sessions, mailer, settings
        self.retry = retry or Retry(settings.email_max_attempts, settings.email_retry_base_seconds, settings.email_retry_max_seconds)
        self.batch, self.poll_seconds, self.clock, self.jitter = batch, poll_seconds, clock, jitter
        self._slots = asyncio.Semaphore(concurrency)
        #: Per issuer, the monotonic time its next email may go out.
        self._next_slot: dict[str, float] = {}
        self.lease = timedelta(seconds=_HORIZON_SECONDS + 60)
        self.wake = asyncio.Event()

    async def run_once(self) -> int:
        """Claim the emails that are due and make one attempt at each, at each issuer's rate;
        how many were tried."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            claimed = await self._claim(session, now=now)
        unsettled = {c.delivery_id for c in claimed}
        sending: set[asyncio.Task[None]] = set()
        try:
            await asyncio.gather(*(self._attempt(c, self._slot(c), unsettled, sending) for c in claimed))
        except asyncio.CancelledError:
            # Stopping: hand back what was claimed but not yet being sent, due now, for the next
            # sender; let what is being sent finish and be logged, so none goes out twice.
            if unsettled:
                await asyncio.shield(self._release(sorted(unsettled), now))
            if sending:
                await asyncio.shield(asyncio.gather(*sending, return_exceptions=True))
            raise
        return len(claimed)

    async def run_forever(self) -> None:
        while True:
            try:
                while await self.run_once():
                    pass  # there may be more due at once
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not stop the loop; the lease lets us retry
                log.exception("email sender failed; retrying")
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass

    def _slot(self, claimed: Claimed) -> float:
        """The monotonic time this email may go out: 1/rate after the issuer's previous one."""
        start = max(time.monotonic(), self._next_slot.get(claimed.issuer_id, 0.0))
        self._next_slot[claimed.issuer_id] = start + 1.0 / max(claimed.rate, 0.001)
        return start

    async def _claim(self, session: AsyncSession, *, now: datetime) -> Sequence[Claimed]:
        due = (
            select(EmailDelivery.id, EmailDelivery.issuer_id, Issuer.email_rate_per_second)
            .join(Issuer, Issuer.id == EmailDelivery.issuer_id)
            .where(EmailDelivery.status.in_(DUE_STATUSES), EmailDelivery.next_attempt_at <= now)
            .order_by(EmailDelivery.next_attempt_at, EmailDelivery.created_at)
            .limit(self.batch)
            .with_for_update(of=EmailDelivery, skip_locked=True)
        )
        taken: dict[str, int] = {}
        ids: list[str] = []
        for delivery_id, issuer_id, rate in await session.execute(due):
            # At most a horizon's worth per issuer, counting what this sender still has queued.
            ahead = max(0.0, self._next_slot.get(issuer_id, 0.0) - time.monotonic())
            allowed = max(1, math.floor(max(0.0, _HORIZON_SECONDS - ahead) * rate))
            if taken.get(issuer_id, 0) < allowed:
                taken[issuer_id] = taken.get(issuer_id, 0) + 1
                ids.append(delivery_id)
        if not ids:
            return []
        await session.execute(
            update(EmailDelivery).where(EmailDelivery.id.in_(ids)).values(next_attempt_at=now + self.lease).execution_options(synchronize_session=False)
        )
        address = func.lower(EmailDelivery.recipient)
        # The learner's language: the account's own address, else an address they added.
        learner_language = func.coalesce(
            select(Learner.language).where(Learner.email == address).scalar_subquery(),
            select(Learner.language).join(LearnerAddress, LearnerAddress.learner_id == Learner.id).where(LearnerAddress.email == address).scalar_subquery(),
        )
        rows = await session.execute(
            select(
                EmailDelivery.id,
                EmailDelivery.issuer_id,
                EmailDelivery.credential_id,
                EmailDelivery.kind,
                EmailDelivery.recipient,
                Credential.recipient_name,
                EmailDelivery.attempts,
                Credential.document,
                Issuer.name,
                Issuer.email_sender_name,
                Issuer.email_reply_to,
                Issuer.email_rate_per_second,
                learner_language,
                Issuer.default_language,
            )
            .join(Credential, Credential.id == EmailDelivery.credential_id)
            .join(Issuer, Issuer.id == EmailDelivery.issuer_id)
            .where(EmailDelivery.id.in_(ids))
            .order_by(EmailDelivery.created_at, EmailDelivery.id)
        )
        # Each row: the Claimed fields, then the learner's and the issuer's language.
        return [replace(Claimed(*row[:-2]), language=email_language(row[-2], row[-1])) for row in rows]

    async def _release(self, delivery_ids: list[str], due: datetime) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(EmailDelivery)
                .where(EmailDelivery.id.in_(delivery_ids), EmailDelivery.status.in_(DUE_STATUSES))
                .values(next_attempt_at=due)
                .execution_options(synchronize_session=False)
            )

    async def _attempt(self, claimed: Claimed, slot: float, unsettled: set[str], sending: set[asyncio.Task[None]]) -> None:
        wait = slot - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        # From here the email is this sender's to settle (or, should the process die, the lease's).
        unsettled.discard(claimed.delivery_id)
        task = asyncio.ensure_future(self._send(claimed))
        sending.add(task)
        await asyncio.shield(task)

    async def _send(self, claimed: Claimed) -> None:
        error: MailError | None = None
        async with self._slots:
            try:
                await self.mailer.send(compose(claimed, self.settings))
            except MailError as exc:
                error = exc
        attempts = claimed.attempts + 1
        at = self.clock()
        if error is None:
            changes: dict[str, object] = {"status": "sent", "sent_at": at, "last_error": None}
        elif error.permanent:
            changes = {"status": "failed", "last_error": f"refused for good: {error.reason}"[:_ERROR_CHARS]}
        elif attempts >= self.retry.max_attempts:
            changes = {"status": "failed", "last_error": f"gave up after {attempts} attempts; last: {error.reason}"[:_ERROR_CHARS]}
        else:
            retry_at = at + timedelta(seconds=self.retry.delay(attempts, self.jitter()))
            changes = {"status": "retrying", "next_attempt_at": retry_at, "last_error": error.reason[:_ERROR_CHARS]}
        changes["attempts"] = attempts
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(EmailDelivery)
                .where(EmailDelivery.id == claimed.delivery_id, EmailDelivery.status.in_(DUE_STATUSES))
                .values(**changes)
                .execution_options(synchronize_session=False)
            )
