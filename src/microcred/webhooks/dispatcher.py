"""The loop that sends the outbox, in the service process. Several processes may run it against
one database: claiming a delivery moves its next attempt past a lease (PostgreSQL skips rows
another dispatcher is claiming), so each attempt is made by one of them, and a delivery whose
dispatcher died while sending is tried again when the lease lapses.

Delivery is at least once: a receiver that took a delivery but whose answer was lost (a
timeout, a restart between sending and logging) gets it again, with the same ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..config import Settings
from ..db.base import new_id
from ..db.models import WebhookDelivery
from ..fetch import FetchError, FetchPolicy, SafeFetcher
from ..operations.metrics import WEBHOOK_ATTEMPTS
from .repository import Claimed, WebhookRepository
from .signing import SecretBox, SecretError, signed_headers

__all__ = ["Retry", "WebhookDispatcher", "webhook_fetch_policy"]

log = logging.getLogger("microcred.webhooks")

#: What a receiver's answer may hold that we read (and then drop).
_ANSWER_BYTES = 16 * 1024
#: Longest error text kept per attempt.
_ERROR_CHARS = 1000


def webhook_fetch_policy(settings: Settings) -> FetchPolicy:
    """Endpoints are hosts issuers name: https on public addresses only, as for any fetch; plain
    http and loopback only where the settings allow this machine (development and tests)."""
    loopback = settings.webhook_allow_loopback if settings.webhook_allow_loopback is not None else settings.verify_allow_loopback
    return FetchPolicy(
        allow_http=loopback, allow_loopback=loopback, max_body_bytes=_ANSWER_BYTES, total_timeout=settings.webhook_timeout_seconds, max_redirects=0
    )


@dataclass(frozen=True)
class Retry:
    """Exponential backoff with jitter: after the n-th failed attempt, wait between half and all
    of ``base_seconds * 2**(n-1)`` (at most ``max_seconds``); give up after ``max_attempts``."""

    max_attempts: int = 12
    base_seconds: float = 5.0
    max_seconds: float = 6 * 3600.0

    def delay(self, attempts: int, jitter: float) -> float:
        """Seconds to wait after ``attempts`` failed attempts; ``jitter`` is drawn from [0, 1)."""
        ceiling = min(self.max_seconds, self.base_seconds * 2.0 ** min(attempts - 1, 60))
        return float(ceiling * (0.5 + jitter / 2))


class WebhookDispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        fetcher: SafeFetcher,
        secrets: SecretBox,
        *,
        retry: Retry | None = None,
        batch: int = 50,
        concurrency: int = 8,
        poll_seconds: float = 1.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.sessions, self.fetcher, self.secrets = sessions, fetcher, secrets
        self.retry = retry or Retry()
        self.batch, self.poll_seconds, self.clock, self.jitter = batch, poll_seconds, clock, jitter
        self._slots = asyncio.Semaphore(concurrency)
        #: A claimed delivery is another dispatcher's again after this (the send's whole deadline, and a margin).
        self.lease = timedelta(seconds=fetcher.policy.total_timeout + 30)
        self.wake = asyncio.Event()

    @classmethod
    def from_settings(cls, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> WebhookDispatcher:
        return cls(
            sessions,
            SafeFetcher(webhook_fetch_policy(settings)),
            SecretBox(settings.key_passphrase.get_secret_value()),
            retry=Retry(settings.webhook_max_attempts, settings.webhook_retry_base_seconds, settings.webhook_retry_max_seconds),
        )

    async def run_once(self) -> int:
        """Claim the deliveries that are due and make one attempt at each; how many were tried."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            claimed = await WebhookRepository(session).claim_due(now=now, until=now + self.lease, limit=self.batch)
        unsettled = {delivery.delivery_id for delivery in claimed}
        try:
            await asyncio.gather(*(self._attempt(delivery, unsettled) for delivery in claimed))
        except asyncio.CancelledError:
            # The service is stopping: hand back what was claimed but not settled, so the next
            # dispatcher need not wait for the lease. (If this fails too, the lease still lapses.)
            if unsettled:
                await asyncio.shield(self._release(sorted(unsettled), now))
            raise
        return len(claimed)

    async def _release(self, delivery_ids: list[str], due: datetime) -> None:
        async with self.sessions() as session, session.begin():
            await WebhookRepository(session).release(delivery_ids, due=due)

    async def run_forever(self) -> None:
        while True:
            try:
                while await self.run_once() == self.batch:
                    pass  # a full batch: there may be more due at once
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not stop the loop; the lease lets us retry
                log.exception("webhook dispatcher failed; retrying")
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass

    async def _attempt(self, delivery: Claimed, unsettled: set[str]) -> None:
        async with self._slots:
            at = self.clock()
            started = time.monotonic()
            status_code: int | None = None
            error: str | None = None
            try:
                secret = await asyncio.to_thread(self.secrets.open, delivery.sealed_secret, endpoint_id=delivery.endpoint_id)
                body = delivery.body.encode()
                headers = signed_headers(secret, message_id=delivery.event_id, timestamp=int(at.timestamp()), body=body)
                answer = await self.fetcher.post(delivery.url, body, headers=headers | {"User-Agent": "microcred-webhooks"})
                status_code = answer.status
            except FetchError as exc:
                status_code, error = exc.status, str(exc)
            except SecretError as exc:
                error = str(exc)
            duration_ms = round((time.monotonic() - started) * 1000)
        await self._settle(delivery.delivery_id, delivery.endpoint_id, delivery.attempts + 1, at=at, status_code=status_code, error=error, duration_ms=duration_ms)
        unsettled.discard(delivery.delivery_id)

    async def _settle(
        self, delivery_id: str, endpoint_id: str, attempts: int, *, at: datetime, status_code: int | None, error: str | None, duration_ms: int
    ) -> None:
        if error is None:
            outcome, changes = "delivered", {"status": "delivered", "delivered_at": at, "last_error": None}
        elif attempts >= self.retry.max_attempts:
            outcome, changes = "failed", {"status": "failed", "last_error": f"gave up after {attempts} attempts; last: {error}"[:_ERROR_CHARS]}
        else:
            retry_at = self.clock() + timedelta(seconds=self.retry.delay(attempts, self.jitter()))
            outcome, changes = "retrying", {"next_attempt_at": retry_at, "last_error": error[:_ERROR_CHARS]}
        changes["attempts"] = WebhookDelivery.attempts + 1
        attempt = {
            "id": new_id(),
            "delivery_id": delivery_id,
            "endpoint_id": endpoint_id,
            "at": at,
            "status_code": status_code,
            "error": error[:_ERROR_CHARS] if error else None,
            "duration_ms": duration_ms,
        }
        async with self.sessions() as session, session.begin():
            await WebhookRepository(session).settle(delivery_id, attempt, changes)
        WEBHOOK_ATTEMPTS.labels(outcome).inc()
