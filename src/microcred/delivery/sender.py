"""The loop that sends learner emails, in the service process, like the webhook dispatcher:
claiming an email moves its next attempt past a lease (PostgreSQL skips rows another sender is
claiming), a failed attempt is retried with exponential backoff, and an email whose sender
stopped while sending it is sent when the lease lapses (or at once, if the sender handed it back).

Each issuer's emails go out no faster than its ``email_rate_per_second``: every email gets a
slot ``1/rate`` seconds after the issuer's previous one, and a claim takes at most a few seconds'
worth of an issuer's emails, so a 100,000-row batch never bursts. The slots are kept in the
database (``email_paces``), so the rate holds for the whole service, however many processes and
hosts run a sender.

What became of each email is written in batches (every ``_SETTLE_EVERY`` emails or
``_SETTLE_SECONDS``, and whatever is left when a claim is done or the sender stops), not one
transaction per email: on SQLite every write waits for the single writer, which a bulk job
beside the sender holds most of the time. The price is bounded: should the process die
between sending and settling, at most that many emails go out again when their lease lapses.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..config import Settings
from ..db.models import Credential, EmailDelivery, EmailPace, Issuer, Learner, LearnerAddress
from ..learners.mail import MailError, Mailer
from ..operations.metrics import EMAIL_ATTEMPTS
from ..webhooks.dispatcher import Retry
from .message import Claimed, compose, email_language

__all__ = ["DUE_STATUSES", "EmailSender"]

log = logging.getLogger("microcred.delivery")

DUE_STATUSES = ("queued", "retrying")
#: A claim takes at most this many seconds' worth of one issuer's emails.
_HORIZON_SECONDS = 5.0
_ERROR_CHARS = 1000
#: Outcomes are written once this many are waiting, or once the oldest has waited this long.
_SETTLE_EVERY = 100
_SETTLE_SECONDS = 0.5


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
        #: Per claimed email, how many seconds after its claim it may go out.
        self._delay: dict[str, float] = {}
        #: Issuers' logos by content hash (at most 256 KB each; at most 64 kept).
        self._logo_cache: dict[str, bytes] = {}
        self.lease = timedelta(seconds=_HORIZON_SECONDS + 60)
        self.wake = asyncio.Event()
        #: Outcomes not yet written (:meth:`_settle`): the email's id and the columns it changes.
        self._outcomes: list[dict[str, object]] = []
        self._oldest_outcome = 0.0
        self._settling = asyncio.Lock()

    async def run_once(self) -> int:
        """Claim the emails that are due and make one attempt at each, at each issuer's rate;
        how many were tried."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            claimed = await self._claim(session, now=now)
        unsettled = {c.delivery_id for c in claimed}
        sending: set[asyncio.Task[None]] = set()
        started = time.monotonic()
        slots = {c.delivery_id: started + self._delay.pop(c.delivery_id, 0.0) for c in claimed}
        try:
            await asyncio.gather(*(self._attempt(c, slots[c.delivery_id], unsettled, sending) for c in claimed))
        except asyncio.CancelledError:
            # Stopping: hand back what was claimed but not yet being sent, due now, for the next
            # sender; let what is being sent finish and be logged, so none goes out twice.
            if unsettled:
                await asyncio.shield(self._release(sorted(unsettled), now))
            if sending:
                await asyncio.shield(asyncio.gather(*sending, return_exceptions=True))
            await asyncio.shield(self._settle())
            raise
        await self._settle()
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

    async def _claim(self, session: AsyncSession, *, now: datetime) -> Sequence[Claimed]:
        due = (
            select(EmailDelivery.id, EmailDelivery.issuer_id, Issuer.email_rate_per_second)
            .join(Issuer, Issuer.id == EmailDelivery.issuer_id)
            .where(EmailDelivery.status.in_(DUE_STATUSES), EmailDelivery.next_attempt_at <= now)
            .order_by(EmailDelivery.next_attempt_at, EmailDelivery.created_at)
            .limit(self.batch)
            .with_for_update(of=EmailDelivery, skip_locked=True)
        )
        found = (await session.execute(due)).all()
        if not found:
            return []
        # Slots are real time (not self.clock, which tests move for backoff): the rate is a promise
        # to mail providers, kept across senders and hosts.
        wall = datetime.now(UTC)
        paces = await self._paces(session, sorted({issuer_id for _, issuer_id, _ in found}), wall)
        horizon = wall + timedelta(seconds=_HORIZON_SECONDS)
        ids: list[str] = []
        for delivery_id, issuer_id, rate in found:
            # Each email 1/rate after the issuer's previous one, taken by any sender; at most a
            # horizon's worth ahead, so the rest stays for whichever sender is free then.
            slot = max(wall, paces[issuer_id])
            if slot >= horizon:
                continue
            self._delay[delivery_id] = (slot - wall).total_seconds()
            paces[issuer_id] = slot + timedelta(seconds=1.0 / max(rate, 0.001))
            ids.append(delivery_id)
        for issuer_id, next_slot in paces.items():
            await session.execute(update(EmailPace).where(EmailPace.issuer_id == issuer_id).values(next_slot_at=next_slot))
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
                learner_language.label("learner_language"),
                Issuer.default_language,
                Issuer.brand_colour,
                Issuer.accent_colour,
                Issuer.logo_digest,
                Issuer.logo_media_type,
            )
            .join(Credential, Credential.id == EmailDelivery.credential_id)
            .join(Issuer, Issuer.id == EmailDelivery.issuer_id)
            .where(EmailDelivery.id.in_(ids))
            .order_by(EmailDelivery.created_at, EmailDelivery.id)
        )
        found_rows = rows.all()
        logos = await self._logos(session, {(row.issuer_id, row.logo_digest) for row in found_rows if row.logo_digest})
        # Each row: the Claimed fields, then the languages and the issuer's branding.
        return [
            replace(
                Claimed(*row[:12]),
                language=email_language(row.learner_language, row.default_language),
                brand_colour=row.brand_colour,
                accent_colour=row.accent_colour,
                logo=(row.logo_media_type, logos[row.logo_digest]) if row.logo_digest in logos else None,
            )
            for row in found_rows
        ]

    async def _logos(self, session: AsyncSession, wanted: set[tuple[str, str]]) -> dict[str, bytes]:
        """The issuers' logos by content hash, read once per sender (a logo's hash names its
        bytes for good: a new logo is a new hash)."""
        missing = [(issuer_id, digest) for issuer_id, digest in wanted if digest not in self._logo_cache]
        for issuer_id, digest in missing:
            logo = await session.scalar(select(Issuer.logo).where(Issuer.id == issuer_id, Issuer.logo_digest == digest))
            if logo is not None:
                if len(self._logo_cache) >= 64:  # many issuers: start again rather than grow
                    self._logo_cache.clear()
                self._logo_cache[digest] = logo
        return {digest: self._logo_cache[digest] for _, digest in wanted if digest in self._logo_cache}

    async def _paces(self, session: AsyncSession, issuer_ids: list[str], now: datetime) -> dict[str, datetime]:
        """Each issuer's next free slot, its row locked until the claim commits (a sender
        claiming at the same moment waits for it, then starts after these emails)."""
        rows = [{"issuer_id": issuer_id, "next_slot_at": now} for issuer_id in issuer_ids]
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        await session.execute(insert(EmailPace).values(rows).on_conflict_do_nothing(index_elements=["issuer_id"]))
        locked = select(EmailPace.issuer_id, EmailPace.next_slot_at).where(EmailPace.issuer_id.in_(issuer_ids)).order_by(EmailPace.issuer_id)
        return {issuer_id: next_slot for issuer_id, next_slot in await session.execute(locked.with_for_update())}

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
        self._record(claimed, error)
        if len(self._outcomes) >= _SETTLE_EVERY or time.monotonic() - self._oldest_outcome >= _SETTLE_SECONDS:
            await self._settle()

    def _record(self, claimed: Claimed, error: MailError | None) -> None:
        """Keep what became of an email until :meth:`_settle` writes it."""
        attempts = claimed.attempts + 1
        at = self.clock()
        outcome: dict[str, object] = {"delivery_id": claimed.delivery_id, "attempts": attempts, "sent_at": None, "retry_at": None}
        if error is None:
            outcome.update(status="sent", sent_at=at, last_error=None)
        elif error.permanent:
            outcome.update(status="failed", last_error=f"refused for good: {error.reason}"[:_ERROR_CHARS])
        elif attempts >= self.retry.max_attempts:
            outcome.update(status="failed", last_error=f"gave up after {attempts} attempts; last: {error.reason}"[:_ERROR_CHARS])
        else:
            retry_at = at + timedelta(seconds=self.retry.delay(attempts, self.jitter()))
            outcome.update(status="retrying", retry_at=retry_at, last_error=error.reason[:_ERROR_CHARS])
        if not self._outcomes:
            self._oldest_outcome = time.monotonic()
        self._outcomes.append(outcome)

    async def _settle(self) -> None:
        """Write every outcome kept so far, in one transaction (one statement, run for each)."""
        async with self._settling:
            outcomes, self._outcomes = self._outcomes, []
            if not outcomes:
                return
            table = cast(Table, EmailDelivery.__table__)
            settle = (
                update(table)
                .where(table.c.id == bindparam("delivery_id"), or_(*(table.c.status == due for due in DUE_STATUSES)))  # no IN: run for each
                .values(
                    status=bindparam("status"),
                    attempts=bindparam("attempts"),
                    last_error=bindparam("last_error"),
                    sent_at=func.coalesce(bindparam("sent_at", type_=table.c.sent_at.type), table.c.sent_at),
                    next_attempt_at=func.coalesce(bindparam("retry_at", type_=table.c.next_attempt_at.type), table.c.next_attempt_at),
                )
            )
            try:
                async with self.sessions() as session, session.begin():
                    await session.execute(settle, outcomes)
            except BaseException:
                self._outcomes[:0] = outcomes  # kept for the next try; the lease covers a lost process
                raise
            for status, count in Counter(str(outcome["status"]) for outcome in outcomes).items():
                EMAIL_ATTEMPTS.labels(status).inc(count)
