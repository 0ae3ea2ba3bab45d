"""Learner emails: each credential of a batch reaches its learner once, no faster than the
issuer's rate; a rolled-back award sends none; emails left by a stopped service are sent by the
next; a failing SMTP server is retried, then the email is marked failed in words."""

from __future__ import annotations

import asyncio
import base64
import io
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select, update

from microcred.app import create_app
from microcred.awards.service import Signing
from microcred.config import Settings
from microcred.db.models import AuditEntry, Credential, EmailDelivery, Issuer
from microcred.delivery.sender import EmailSender
from microcred.jobs.worker import JobRunner
from microcred.learners.mail import SmtpMailer
from microcred.runtime import Runtime
from microcred.webhooks.dispatcher import Retry

from ..factories.service import ServiceClient, award_body, award_then_roll_back, count, metric_samples
from .ports import refused_port
from .smtp_server import LoopbackController, Smtp, smtp, smtp_settings, text_of  # noqa: F401 (fixtures)

pytestmark = pytest.mark.asyncio


@pytest.fixture
def settings(settings: Settings, smtp: Smtp) -> Settings:
    return smtp_settings(settings, smtp)


class Clock:
    """The sender's time (for backoff), moved on by the test instead of waited for."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def sender(runtime: Runtime, settings: Settings, clock: Clock | None = None, *, max_attempts: int = 3, batch: int = 200) -> EmailSender:
    return EmailSender(
        runtime.sessions,
        SmtpMailer(settings, keep_open=True),
        settings,
        batch=batch,
        retry=Retry(max_attempts=max_attempts, base_seconds=10, max_seconds=60),
        clock=clock or Clock(),
        jitter=lambda: 0.5,
    )


async def set_issuer(runtime: Runtime, issuer_id: str, **values: Any) -> None:
    async with runtime.sessions() as session, session.begin():
        await session.execute(update(Issuer).where(Issuer.id == issuer_id).values(**values))


async def statuses(runtime: Runtime) -> list[tuple[str, str, int, str | None]]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(EmailDelivery.recipient, EmailDelivery.status, EmailDelivery.attempts, EmailDelivery.last_error).order_by(EmailDelivery.recipient)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def drain(emails: EmailSender) -> None:
    """Send everything that is due, then close the sender's SMTP connections."""
    try:
        while await emails.run_once():
            pass
    finally:
        assert isinstance(emails.mailer, SmtpMailer)
        emails.mailer.close()


async def test_a_2000_row_batch_sends_one_email_per_credential_once_at_the_issuers_rate(
    service: ServiceClient, smtp: Smtp, settings: Settings
) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    rate = 1000.0
    await set_issuer(service.runtime, issuer["id"], email_rate_per_second=rate, email_sender_name="Precision Engineers", email_reply_to="office@precision-engineers.example")
    n = 2000
    rows = [award_body(achievement["id"], external_id=f"bulk-{i}", recipient={"email": f"learner{i}@example.org", "name": f"Learner {i}"}) for i in range(n)]
    response = await service.http.post(f"/api/v1/issuers/{issuer['id']}/awards/batch", json=rows, headers=service.admin)
    assert response.status_code == 202, response.text
    runtime = service.runtime
    runner = JobRunner(runtime.sessions, Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses), chunk_rows=500)
    while await runner.run_once() is not None:
        pass
    assert await count(runtime, Credential) == n
    assert smtp.mailbox.messages == []  # queued with the awards, sent by the sender only

    started = time.monotonic()
    await drain(sender(runtime, settings))
    elapsed = time.monotonic() - started

    messages = smtp.mailbox.messages
    assert len(messages) == n
    assert len({m["Message-ID"] for m in messages}) == n  # none twice
    assert {str(m["To"]) for m in messages} == {f"learner{i}@example.org" for i in range(n)}
    assert elapsed >= (n - 1) / rate * 0.95  # not faster than the rate allows
    assert {status for _, status, _, _ in await statuses(runtime)} == {"sent"}

    # What the learner reads: the achievement, the issuer, the credential and the backpack.
    message = smtp.mailbox.newest("learner7@example.org")
    assert str(message["From"]) == "Precision Engineers <badges@badges.example.org>"
    assert str(message["Reply-To"]) == "office@precision-engineers.example"
    body = text_of(message)
    assert "Precision Turning for Instrument Makers" in str(message["Subject"]) and "Society of Precision Engineers" in body and "Learner 7" in body
    async with runtime.sessions() as session:
        credential_id = await session.scalar(select(Credential.id).where(Credential.external_id == "bulk-7"))
    assert smtp.mailbox.link("learner7@example.org", path=f"/credentials/{credential_id}")
    assert smtp.mailbox.link("learner7@example.org", path="/me") == "https://badges.example.org/me"


async def test_the_notice_is_branded_with_the_issuers_colours_and_logo_carried_inside(service: ServiceClient, smtp: Smtp, settings: Settings) -> None:
    issuer = await service.create_issuer()
    logo = io.BytesIO()
    Image.new("RGB", (64, 32), (25, 72, 122)).save(logo, format="PNG")
    saved = await service.http.put(
        f"/api/v1/issuers/{issuer['id']}/branding",
        json={"logo": "data:image/png;base64," + base64.b64encode(logo.getvalue()).decode(), "colours": {"brand": "#c81e1e", "accent": "#0b57d0"}},
        headers=service.admin,
    )
    assert saved.status_code == 200, saved.text
    achievement = await service.create_achievement(issuer["id"])
    assert (await service.award(issuer["id"], achievement["id"], recipient={"email": "branded@example.org", "name": "Bo"})).status_code == 201
    await drain(sender(service.runtime, settings))
    message = smtp.mailbox.newest("branded@example.org")
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None and message.get_body(preferencelist=("plain",)) is not None  # both, same words
    html = html_part.get_content()
    assert "#c81e1e" in html and "Precision Turning for Instrument Makers" in html and "Bo" in html
    cid = re.search(r'src="cid:([^"]+)"', html)
    assert cid, html
    [image] = [part for part in message.walk() if part.get("Content-ID") == f"<{cid.group(1)}>"]
    assert image.get_content_type() == "image/png" and image.get_content() == logo.getvalue()  # inside the email, not fetched
    assert not re.search(r"""src=["']?https?:""", html)


async def test_a_small_batch_at_a_low_rate_takes_as_long_as_the_rate_demands(service: ServiceClient, smtp: Smtp, settings: Settings) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    await set_issuer(service.runtime, issuer["id"], email_rate_per_second=5.0)
    for i in range(8):
        assert (await service.award(issuer["id"], achievement["id"], recipient={"email": f"slow{i}@example.org"})).status_code == 201
    started = time.monotonic()
    await drain(sender(service.runtime, settings))
    assert len(smtp.mailbox.messages) == 8
    assert time.monotonic() - started >= 7 / 5.0 * 0.95  # 8 emails at 5 per second: at least 1.4 s


async def test_two_senders_together_keep_the_issuers_rate_and_send_none_twice(service: ServiceClient, smtp: Smtp, settings: Settings) -> None:
    """Two service processes each run a sender: the issuer's rate is the service's, not each one's."""
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    rate, n = 4.0, 16
    await set_issuer(service.runtime, issuer["id"], email_rate_per_second=rate)
    for i in range(n):
        assert (await service.award(issuer["id"], achievement["id"], recipient={"email": f"pair{i}@example.org"})).status_code == 201
    started = time.monotonic()
    # small claims, so both senders really share the work (one would otherwise take all 16 at once)
    await asyncio.gather(drain(sender(service.runtime, settings, batch=5)), drain(sender(service.runtime, settings, batch=5)))
    elapsed = time.monotonic() - started
    messages = smtp.mailbox.messages
    assert len(messages) == n and len({m["Message-ID"] for m in messages}) == n
    assert elapsed >= (n - 1) / rate * 0.95, elapsed  # 16 at 4 per second between them: at least 3.6 s, not half that


async def test_no_email_when_the_issuer_turned_delivery_off_and_none_on_revocation_unless_asked(
    service: ServiceClient, smtp: Smtp, settings: Settings
) -> None:
    quiet = await service.create_issuer()
    await set_issuer(service.runtime, quiet["id"], email_enabled=False)
    assert (await service.award(quiet["id"], (await service.create_achievement(quiet["id"]))["id"])).status_code == 201
    loud = await service.create_issuer()
    achievement = await service.create_achievement(loud["id"])
    await set_issuer(service.runtime, loud["id"], email_rate_per_second=1000.0)
    first = (await service.award(loud["id"], achievement["id"], recipient={"email": "first@example.org"})).json()
    second = (await service.award(loud["id"], achievement["id"], recipient={"email": "second@example.org"})).json()
    base = f"/api/v1/issuers/{loud['id']}/credentials"
    assert (await service.http.post(f"{base}/{first['id']}/revoke", json={"reason": "x"}, headers=service.admin)).status_code == 200
    await set_issuer(service.runtime, loud["id"], notify_on_revocation=True)
    assert (await service.http.post(f"{base}/{second['id']}/revoke", json={"reason": "x"}, headers=service.admin)).status_code == 200
    await drain(sender(service.runtime, settings))
    subjects = sorted((str(m["To"]), str(m["Subject"])) for m in smtp.mailbox.messages)
    assert [to for to, _ in subjects] == ["first@example.org", "second@example.org", "second@example.org"]
    assert sum("revoked" in subject for _, subject in subjects) == 1


async def test_a_pathway_credential_is_emailed_once_beside_its_courses(service: ServiceClient, smtp: Smtp, settings: Settings) -> None:
    issuer = (await service.create_issuer())["id"]
    courses = [await service.create_achievement(issuer, name=f"Course {n}") for n in "AB"]
    track = await service.create_achievement(issuer, name="Instrument Maker Track")
    created = await service.http.post(
        f"/api/v1/issuers/{issuer}/pathways",
        json={"name": "Instrument Maker Track", "achievement_id": track["id"], "components": [{"achievement_id": c["id"]} for c in courses]},
        headers=service.admin,
    )
    assert created.status_code == 201, created.text
    for course in courses:
        assert (await service.award(issuer, course["id"], recipient={"email": "stacker@example.org", "name": "Sam"})).status_code == 201
    await drain(sender(service.runtime, settings))
    await drain(sender(service.runtime, settings))  # a second pass finds nothing more to send
    subjects = sorted(str(m["Subject"]) for m in smtp.mailbox.to("stacker@example.org"))
    assert len(subjects) == 3 and len({m["Message-ID"] for m in smtp.mailbox.messages}) == 3
    assert sum("Instrument Maker Track" in subject for subject in subjects) == 1, subjects


async def test_a_rolled_back_award_sends_no_email(service: ServiceClient, smtp: Smtp, settings: Settings) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    runtime = service.runtime
    await award_then_roll_back(runtime, issuer["id"], achievement["id"], written_with_it=EmailDelivery)
    assert await count(runtime, EmailDelivery) == 0
    assert await sender(runtime, settings).run_once() == 0
    assert smtp.mailbox.messages == []


async def test_emails_left_by_a_stopped_service_are_sent_by_the_next_none_twice(
    settings: Settings, runtime: Runtime, service: ServiceClient, smtp: Smtp
) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    await set_issuer(runtime, issuer["id"], email_rate_per_second=4.0)
    n = 8
    for i in range(n):
        assert (await service.award(issuer["id"], achievement["id"], recipient={"email": f"r{i}@example.org"})).status_code == 201

    first = create_app(settings, runtime=runtime, migrate=False)
    async with first.router.lifespan_context(first):
        await wait_until(lambda: len(smtp.mailbox.messages) >= 2)
    # Stopped part-way: the rest still waits in the outbox.
    left = [row for row in await statuses(runtime) if row[1] != "sent"]
    assert 0 < len(left) < n
    assert len(smtp.mailbox.messages) == n - len(left)

    second = create_app(settings, runtime=runtime, migrate=False)
    async with second.router.lifespan_context(second):
        await wait_until(lambda: len(smtp.mailbox.messages) >= n)
        await asyncio.sleep(0.3)  # room for a duplicate to show up, were there one
    messages = smtp.mailbox.messages
    assert len(messages) == n and len({m["Message-ID"] for m in messages}) == n
    assert {str(m["To"]) for m in messages} == {f"r{i}@example.org" for i in range(n)}
    assert {status for _, status, _, _ in await statuses(runtime)} == {"sent"}


async def wait_until(condition: Any, *, attempts: int = 400) -> None:
    """Poll for what the background sender should bring about (bounded, never timed)."""
    for _ in range(attempts):
        if condition():
            return
        await asyncio.sleep(0.05)
    pytest.fail("the sender never got there")


class Refusing:
    """An SMTP server that refuses every recipient for good (a hard bounce)."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:  # noqa: N802
        return "550 5.1.1 <%s>: mailbox unavailable" % address


@pytest.fixture
def refusing() -> Iterator[tuple[str, int]]:
    controller = LoopbackController(Refusing())
    controller.start()
    try:
        yield "127.0.0.1", controller.port
    finally:
        controller.stop()


@pytest.fixture
def closed_port() -> Iterator[int]:
    with refused_port() as port:
        yield port


async def test_an_unreachable_smtp_server_is_retried_then_failed_and_a_hard_bounce_fails_at_once(
    service: ServiceClient, smtp: Smtp, settings: Settings, refusing: tuple[str, int], closed_port: int
) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    assert (await service.award(issuer["id"], achievement["id"], recipient={"email": "away@example.org"})).status_code == 201
    runtime = service.runtime
    clock = Clock()
    down = settings.model_copy(update={"smtp_port": closed_port})  # nothing listens there
    emails = sender(runtime, down, clock, max_attempts=3)
    before = await metric_samples(service.http)
    assert await emails.run_once() == 1
    [(_, status, attempts, error)] = await statuses(runtime)
    assert (status, attempts) == ("retrying", 1) and error is not None and "connection refused" in error
    assert await emails.run_once() == 0  # not before its backoff
    clock.advance(10)
    assert await emails.run_once() == 1
    clock.advance(20)
    assert await emails.run_once() == 1
    clock.advance(3600)
    assert await emails.run_once() == 0  # given up
    [(_, status, attempts, error)] = await statuses(runtime)
    assert (status, attempts) == ("failed", 3) and error is not None and error.startswith("gave up after 3 attempts") and "connection refused" in error
    given_up = await metric_samples(service.http)  # what an operator's Prometheus sees
    attempts_total = "microcred_email_attempts_total"
    assert given_up[attempts_total, "retrying"] - before[attempts_total, "retrying"] == 2
    assert given_up[attempts_total, "failed"] - before[attempts_total, "failed"] == 1
    assert given_up["microcred_email_deliveries", "failed"] == 1 and given_up["microcred_email_deliveries", "queued"] == 0

    # A 5xx from the server is a hard bounce: failed at the first attempt, with the server's words.
    async with runtime.sessions() as session, session.begin():
        await session.execute(update(EmailDelivery).values(status="queued", attempts=0, next_attempt_at=clock(), last_error=None))
    host, port = refusing
    bouncing = sender(runtime, settings.model_copy(update={"smtp_host": host, "smtp_port": port}), clock)
    assert await bouncing.run_once() == 1
    [(_, status, attempts, error)] = await statuses(runtime)
    assert (status, attempts) == ("failed", 1) and error is not None and "550" in error and "mailbox unavailable" in error
    assert smtp.mailbox.messages == []
    assert (await metric_samples(service.http))["microcred_email_attempts_total", "failed"] - given_up["microcred_email_attempts_total", "failed"] == 1


async def test_staff_see_a_failed_email_in_words_and_a_manager_retries_it(
    service: ServiceClient, smtp: Smtp, settings: Settings, runtime: Runtime, refusing: tuple[str, int]
) -> None:
    from .console_helpers import add_staff, csrf_of, sign_in

    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    assert (await service.award(issuer["id"], achievement["id"], recipient={"email": "gone@example.org"})).status_code == 201
    host, port = refusing
    await drain(sender(runtime, settings.model_copy(update={"smtp_host": host, "smtp_port": port})))

    async def staff(email: str, role: str) -> httpx.AsyncClient:
        app = create_app(settings, runtime=runtime, migrate=False)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=settings.base_url)
        await sign_in(http, runtime, await add_staff(runtime, email, {issuer["id"]: role}))
        return http

    page = f"/console/{issuer['id']}/emails"
    viewer = await staff("viewer@example.org", "viewer")
    try:
        seen = await viewer.get(page, params={"status": "failed"})
        assert seen.status_code == 200, seen.text
        assert "gone@example.org" in seen.text and "550" in seen.text and "mailbox unavailable" in seen.text
        assert "/retry" not in seen.text and "Save settings" not in seen.text  # a viewer reads only
    finally:
        await viewer.aclose()
    manager = await staff("manager@example.org", "manager")
    try:
        shown = await manager.get(page)
        token = csrf_of(shown.text)
        [email_id] = [row for row in await ids(runtime)]
        retried = await manager.post(f"{page}/{email_id}/retry", data={"csrf_token": token})
        assert retried.status_code == 200 and "queued again" in retried.text
        saved = await manager.post(
            f"{page}/settings", data={"csrf_token": token, "enabled": "1", "rate": "abc", "sender_name": "", "reply_to": ""}
        )
        assert saved.status_code == 422 and "Enter a number from 0.1 to 1000." in saved.text
        saved = await manager.post(
            f"{page}/settings",
            data={"csrf_token": token, "enabled": "1", "rate": "2.5", "sender_name": "SPE Exams", "reply_to": "exams@spe.example"},
        )
        assert saved.status_code == 200 and "saved" in saved.text
    finally:
        await manager.aclose()
    async with runtime.sessions() as session:  # both are in the audit log, by the manager, without the address
        entries = (await session.execute(select(AuditEntry).where(AuditEntry.action.in_(("email.retried", "issuer.updated"))))).scalars().all()
    by_action = {e.action: e for e in entries}
    assert set(by_action) == {"email.retried", "issuer.updated"} and all(e.actor.startswith("staff:") for e in entries)
    assert by_action["issuer.updated"].data["fields"] == ["email_rate_per_second", "email_reply_to", "email_sender_name"]
    assert "gone@example.org" not in str([e.data for e in entries])
    await drain(sender(runtime, settings))  # the SMTP server takes it now
    message = smtp.mailbox.newest("gone@example.org")
    assert str(message["From"]).startswith("SPE Exams <") and str(message["Reply-To"]) == "exams@spe.example"
    async with runtime.sessions() as session:
        found = await session.scalar(select(Issuer).where(Issuer.id == issuer["id"]))
        assert found is not None and (found.email_rate_per_second, found.notify_on_revocation) == (2.5, False)


async def ids(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as session:
        return list((await session.scalars(select(EmailDelivery.id))).all())


async def test_the_issuer_api_reads_and_changes_the_email_settings(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    assert issuer["emails"] == {"enabled": True, "rate_per_second": 10.0, "sender_name": None, "reply_to": None, "notify_on_revocation": False}
    url = f"/api/v1/issuers/{issuer['id']}"
    changed = await service.http.patch(
        url, json={"emails": {"rate_per_second": 2, "reply_to": "office@example.org", "notify_on_revocation": True}}, headers=service.admin
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["emails"] == {"enabled": True, "rate_per_second": 2.0, "sender_name": None, "reply_to": "office@example.org", "notify_on_revocation": True}
    refused = await service.http.patch(url, json={"emails": {"rate_per_second": 0, "sender_name": "A <b>"}}, headers=service.admin)
    assert refused.status_code == 422
    pointers = {e["pointer"] for e in refused.json()["errors"]}
    assert pointers == {"#/emails/rate_per_second", "#/emails/sender_name"}
