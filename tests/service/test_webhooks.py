"""Webhooks: every event reaches a receiver that was down when it happened, signed, once per
event id; nothing is sent for a change that rolled back; undelivered events outlive a restart."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from microcred.app import create_app
from microcred.awards.service import Signing
from microcred.config import Settings
from microcred.db.models import AuditEntry, Credential, WebhookDelivery, WebhookEndpoint
from microcred.fetch import SafeFetcher
from microcred.runtime import Runtime
from microcred.webhooks.dispatcher import Retry, WebhookDispatcher, webhook_fetch_policy
from microcred.webhooks.signing import SecretBox

from ..factories.service import ServiceClient, award_body, award_then_roll_back, count, metric_samples
from .conftest import is_problem
from .ports import held_port

pytestmark = pytest.mark.asyncio

EVENTS = ["credential.issued", "credential.revoked", "credential.suspended", "credential.unsuspended"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Receivers listen on 127.0.0.1 over plain http, as only development settings allow."""
    return settings.model_copy(update={"webhook_allow_loopback": True, "webhook_timeout_seconds": 5.0})


# --- a receiver on loopback ---------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    """A real HTTP endpoint on a port of its own: closed (connections refused) until started,
    then answering each POST with ``status``. The port is held from the start (``held_port``), so
    no other test process is given it while the endpoint is still closed."""

    port: socket.socket
    status: int = 204
    received: list[Received] = field(default_factory=list)
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port.getsockname()[1]}/hooks/microcred"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, sock=self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.port.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {name.strip().lower(): value.strip() for name, value in (line.split(":", 1) for line in head[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.received.append(Received(headers, body, self.status))
            writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
        finally:
            writer.close()

    def delivered(self) -> list[Received]:
        """What it took (answered 2xx)."""
        return [r for r in self.received if 200 <= r.answered < 300]


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    made = Receiver(held_port())
    try:
        yield made
    finally:
        await made.stop()


def signature_holds(secret: str, received: Received) -> bool:
    """Standard Webhooks: base64 HMAC-SHA256 under the secret's key of '{id}.{timestamp}.{body}'."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{received.headers['webhook-id']}.{received.headers['webhook-timestamp']}.".encode() + received.body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, received.headers["webhook-signature"])


# --- helpers ------------------------------------------------------------------------------------


class Clock:
    """The dispatcher's time, moved on by the test instead of waited for."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def dispatcher(runtime: Runtime, clock: Clock) -> WebhookDispatcher:
    settings = runtime.settings
    return WebhookDispatcher(
        runtime.sessions,
        SafeFetcher(webhook_fetch_policy(settings)),
        SecretBox(settings.key_passphrase.get_secret_value()),
        retry=Retry(max_attempts=5, base_seconds=10, max_seconds=60),
        clock=clock,
        jitter=lambda: 0.5,
    )


async def register(service: ServiceClient, issuer_id: str, url: str, events: list[str] = EVENTS) -> dict[str, Any]:
    response = await service.http.post(f"/api/v1/issuers/{issuer_id}/webhooks", json={"url": url, "events": events}, headers=service.admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def awarded(service: ServiceClient, issuer_id: str, achievement_id: str, **overrides: Any) -> dict[str, Any]:
    response = await service.award(issuer_id, achievement_id, **overrides)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def deliveries(service: ServiceClient, issuer_id: str, webhook_id: str) -> list[dict[str, Any]]:
    response = await service.http.get(f"/api/v1/issuers/{issuer_id}/webhooks/{webhook_id}/deliveries", headers=service.admin)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# --- tests --------------------------------------------------------------------------------------


async def test_a_receiver_that_was_down_gets_every_event_once_it_is_back(service: ServiceClient, receiver: Receiver) -> None:
    issuer = await service.create_issuer(offers_suspension=True)
    achievement = await service.create_achievement(issuer["id"])
    hook = await register(service, issuer["id"], receiver.url)
    secret = hook["secret"]
    # Another issuer's events never reach this issuer's endpoint.
    other = await service.create_issuer()
    await awarded(service, other["id"], (await service.create_achievement(other["id"]))["id"])

    # While the receiver is down: three awards (one retried, which is no new event), a revocation
    # with a reason, a suspension.
    emails = [f"learner{n}@example.org" for n in range(3)]
    credentials = [
        await awarded(service, issuer["id"], achievement["id"], external_id=f"lms-{n}", recipient={"email": email, "name": f"Learner {n}"})
        for n, email in enumerate(emails)
    ]
    retry = await service.award(issuer["id"], achievement["id"], external_id="lms-0", recipient={"email": emails[0], "name": "Learner 0"})
    assert retry.status_code == 200
    base = f"/api/v1/issuers/{issuer['id']}/credentials"
    reason = "the assessment was found to be plagiarised"
    revoked = await service.http.post(f"{base}/{credentials[0]['id']}/revoke", json={"reason": reason}, headers=service.admin)
    assert revoked.status_code == 200
    assert (await service.http.post(f"{base}/{credentials[1]['id']}/suspend", headers=service.admin)).status_code == 200
    made = {("credential.issued", c["id"]) for c in credentials} | {
        ("credential.revoked", credentials[0]["id"]),
        ("credential.suspended", credentials[1]["id"]),
    }

    clock = Clock()
    sender = dispatcher(service.runtime, clock)
    assert await sender.run_once() == 5  # the port is closed: every attempt fails
    assert receiver.received == []
    await receiver.start()
    receiver.status = 503  # up, but not ready yet
    assert await sender.run_once() == 0  # nothing is due before its backoff
    clock.advance(10)
    assert await sender.run_once() == 5
    assert len(receiver.received) == 5 and receiver.delivered() == []
    receiver.status = 200
    clock.advance(20)
    assert await sender.run_once() == 5
    clock.advance(3600)
    assert await sender.run_once() == 0  # all delivered: nothing left to send

    delivered = receiver.delivered()
    assert {(r.event["type"], r.event["subject"]) for r in delivered} == made
    ids = [r.headers["webhook-id"] for r in delivered]
    assert len(ids) == len(set(ids)) == 5  # each event once
    assert {r.headers["webhook-id"] for r in receiver.received} == set(ids)  # the failed attempts carried the same ids
    for r in receiver.received:
        assert signature_holds(secret, r), r.headers
        assert r.headers["webhook-id"] == r.event["id"]
        assert r.headers["content-type"] == "application/json"
        assert not any(email in r.body.decode() for email in emails) and reason not in r.body.decode()
    issued = {r.event["subject"]: r.event for r in delivered if r.event["type"] == "credential.issued"}
    first = issued[credentials[0]["id"]]
    assert first["issuer_id"] == issuer["id"]
    assert first["data"]["url"] == credentials[0]["url"] and first["data"]["achievement_id"] == achievement["id"]
    assert (first["data"]["recipient_name"], first["data"]["external_id"]) == ("Learner 0", "lms-0")

    # The delivery log: refused, 503, then taken, for each.
    log = await deliveries(service, issuer["id"], hook["id"])
    assert len(log) == 5
    for delivery in log:
        assert (delivery["status"], delivery["attempts"], delivery["next_attempt_at"]) == ("delivered", 3, None)
        attempts = delivery["log"]
        assert [a["status_code"] for a in attempts] == [None, 503, 200]
        assert "could not connect" in attempts[0]["error"] and "503" in attempts[1]["error"] and attempts[2]["error"] is None
        assert all(a["duration_ms"] >= 0 for a in attempts)


async def test_a_rolled_back_award_leaves_no_delivery_and_no_audit_entry(service: ServiceClient, receiver: Receiver) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    await register(service, issuer["id"], receiver.url)
    audited = await count(service.runtime, AuditEntry)
    runtime = service.runtime
    await award_then_roll_back(runtime, issuer["id"], achievement["id"], written_with_it=WebhookDelivery)
    assert await count(runtime, Credential) == 0
    assert await count(runtime, WebhookDelivery) == 0
    assert await count(runtime, AuditEntry) == audited
    clock = Clock()
    assert await dispatcher(runtime, clock).run_once() == 0


async def test_undelivered_events_are_sent_by_the_next_service_instance(
    settings: Settings, runtime: Runtime, service: ServiceClient, receiver: Receiver
) -> None:
    """The service stops (its dispatcher cancelled) with deliveries the receiver never took; a new
    instance on the same database sends them."""
    quick = settings.model_copy(update={"webhook_retry_base_seconds": 0.05, "webhook_retry_max_seconds": 0.1})
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    hook = await register(service, issuer["id"], receiver.url)

    first = create_app(quick, runtime=runtime, migrate=False)
    async with first.router.lifespan_context(first):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://first") as http:
            for n in range(3):
                response = await http.post(f"/api/v1/issuers/{issuer['id']}/awards", json=award_body(achievement["id"]), headers=service.admin)
                assert response.status_code == 201, response.text
        await wait_until(lambda: all_tried(service, issuer["id"], hook["id"], 3))
    # Stopped: nothing delivered, every delivery still pending.
    log = await deliveries(service, issuer["id"], hook["id"])
    assert [d["status"] for d in log] == ["pending"] * 3 and receiver.delivered() == []

    await receiver.start()
    second = create_app(quick, runtime=runtime, migrate=False)
    async with second.router.lifespan_context(second):
        await wait_until(lambda: all_delivered(service, issuer["id"], hook["id"]))
    log = await deliveries(service, issuer["id"], hook["id"])
    assert [d["status"] for d in log] == ["delivered"] * 3
    assert {r.headers["webhook-id"] for r in receiver.delivered()} == {d["event_id"] for d in log}


async def all_tried(service: ServiceClient, issuer_id: str, webhook_id: str, expected: int) -> bool:
    log = await deliveries(service, issuer_id, webhook_id)
    return len(log) == expected and all(d["attempts"] >= 1 for d in log)


async def all_delivered(service: ServiceClient, issuer_id: str, webhook_id: str) -> bool:
    return all(d["status"] == "delivered" for d in await deliveries(service, issuer_id, webhook_id))


async def wait_until(condition: Any, *, attempts: int = 400) -> None:
    """Poll a condition the background dispatcher should bring about (bounded, never timed)."""
    for _ in range(attempts):
        if await condition():
            return
        await asyncio.sleep(0.05)
    pytest.fail("the dispatcher never got there")


async def test_endpoints_are_checked_at_registration_and_the_secret_is_shown_once(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    path = f"/api/v1/issuers/{issuer['id']}/webhooks"
    for url in ("http://hooks.example/in", "https://10.0.0.7/in", "https://169.254.169.254/latest", "ftp://hooks.example/", "https://u:p@hooks.example/", "not a url"):
        body = is_problem(await service.http.post(path, json={"url": url, "events": ["credential.issued"]}, headers=service.admin), 422)
        assert body["errors"][0]["pointer"] == "#/url", (url, body)
    body = is_problem(await service.http.post(path, json={"url": "https://hooks.example/in", "events": ["issuer.updated"]}, headers=service.admin), 422)
    assert body["errors"][0]["pointer"] == "#/events/0"

    created = await register(service, issuer["id"], "https://hooks.example/in", ["credential.revoked"])
    assert created["secret"].startswith("whsec_") and len(base64.b64decode(created["secret"][6:])) == 32
    listed = (await service.http.get(path, headers=service.admin)).json()["items"]
    one = (await service.http.get(f"{path}/{created['id']}", headers=service.admin)).json()
    assert [item["id"] for item in listed] == [created["id"]]
    assert "secret" not in listed[0] and "secret" not in one
    async with service.runtime.sessions() as session:
        stored = await session.get(WebhookEndpoint, created["id"])
    assert stored is not None and created["secret"] not in stored.sealed_secret

    patched = await service.http.patch(f"{path}/{created['id']}", json={"url": "https://192.168.1.10/in"}, headers=service.admin)
    assert is_problem(patched, 422)["errors"][0]["pointer"] == "#/url"
    patched = await service.http.patch(f"{path}/{created['id']}", json={"events": ["credential.issued"], "enabled": False}, headers=service.admin)
    assert (patched.json()["events"], patched.json()["enabled"]) == (["credential.issued"], False)

    manage = service.auth(await service.issuer_key(issuer["id"], "manage"))
    award_only = service.auth(await service.issuer_key(issuer["id"], "award"))
    is_problem(await service.http.get(path, headers=award_only), 403)
    assert (await service.http.delete(f"{path}/{created['id']}", headers=manage)).status_code == 204
    is_problem(await service.http.get(f"{path}/{created['id']}", headers=manage), 404)
    assert (await service.http.get(path, headers=manage)).json()["items"] == []


async def test_a_paused_endpoint_gets_nothing_new_and_a_deleted_one_drops_what_waited(service: ServiceClient, receiver: Receiver) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    paused = await register(service, issuer["id"], receiver.url, ["credential.issued"])
    deleted = await register(service, issuer["id"], receiver.url, ["credential.issued"])
    path = f"/api/v1/issuers/{issuer['id']}/webhooks"
    await awarded(service, issuer["id"], achievement["id"])  # one delivery for each
    assert (await service.http.patch(f"{path}/{paused['id']}", json={"enabled": False}, headers=service.admin)).status_code == 200
    await awarded(service, issuer["id"], achievement["id"])  # only for the enabled one
    assert len(await deliveries(service, issuer["id"], paused["id"])) == 1
    assert len(await deliveries(service, issuer["id"], deleted["id"])) == 2
    assert (await service.http.delete(f"{path}/{deleted['id']}", headers=service.admin)).status_code == 204
    await receiver.start()
    clock = Clock()
    sender = dispatcher(service.runtime, clock)
    assert await sender.run_once() == 0  # the paused delivery waits; the deleted endpoint's were dropped
    assert receiver.received == []
    async with service.runtime.sessions() as session:
        dropped = (await session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == deleted["id"]))).all()
    assert [(d.status, d.last_error) for d in dropped] == [("failed", "endpoint deleted")] * 2

    assert (await service.http.patch(f"{path}/{paused['id']}", json={"enabled": True}, headers=service.admin)).status_code == 200
    assert await sender.run_once() == 1  # resumed: what waited goes out
    assert [r.event["type"] for r in receiver.delivered()] == ["credential.issued"]


async def test_a_test_delivery_and_giving_up_after_the_last_attempt(service: ServiceClient, receiver: Receiver) -> None:
    issuer = await service.create_issuer()
    hook = await register(service, issuer["id"], receiver.url)
    queued = await service.http.post(f"/api/v1/issuers/{issuer['id']}/webhooks/{hook['id']}/test", headers=service.admin)
    assert queued.status_code == 202 and queued.json()["status"] == "pending" and queued.json()["event_type"] == "webhook.test"
    clock = Clock()
    sender = dispatcher(service.runtime, clock)
    before = await metric_samples(service.http)
    for _ in range(5):  # Retry(max_attempts=5); the port stays closed
        assert await sender.run_once() == 1
        clock.advance(3600)
    assert await sender.run_once() == 0
    [delivery] = await deliveries(service, issuer["id"], hook["id"])
    assert (delivery["status"], delivery["attempts"], len(delivery["log"])) == ("failed", 5, 5)
    assert delivery["last_error"].startswith("gave up after 5 attempts")
    after = await metric_samples(service.http)  # what an operator's Prometheus sees
    attempts = "microcred_webhook_attempts_total"
    assert after[attempts, "retrying"] - before[attempts, "retrying"] == 4 and after[attempts, "failed"] - before[attempts, "failed"] == 1
    assert after["microcred_webhook_deliveries", "failed"] == 1 and after["microcred_webhook_deliveries", "pending"] == 0
    await receiver.start()
    assert await sender.run_once() == 0 and receiver.received == []  # failed for good


async def test_a_full_bulk_chunk_queues_one_delivery_per_credential(service: ServiceClient, receiver: Receiver) -> None:
    from microcred.jobs.worker import JobRunner

    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    hook = await register(service, issuer["id"], receiver.url, ["credential.issued"])
    rows = [award_body(achievement["id"], external_id=f"bulk-{n}") for n in range(30)]
    response = await service.http.post(f"/api/v1/issuers/{issuer['id']}/awards/batch", json=rows, headers=service.admin)
    assert response.status_code == 202, response.text
    runtime = service.runtime
    runner = JobRunner(runtime.sessions, Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses), chunk_rows=25)
    assert await runner.run_once() == response.json()["id"]
    await receiver.start()
    clock = Clock()
    sender = dispatcher(runtime, clock)
    while await sender.run_once():
        pass
    delivered = receiver.delivered()
    assert len(delivered) == 30 and {r.event["data"]["external_id"] for r in delivered} == {f"bulk-{n}" for n in range(30)}
    page = await service.http.get(f"/api/v1/issuers/{issuer['id']}/webhooks/{hook['id']}/deliveries", params={"limit": 20}, headers=service.admin)
    rest = await service.http.get(
        f"/api/v1/issuers/{issuer['id']}/webhooks/{hook['id']}/deliveries", params={"limit": 20, "cursor": page.json()["next_cursor"]}, headers=service.admin
    )
    assert len(page.json()["items"]) == 20 and len(rest.json()["items"]) == 10 and rest.json()["next_cursor"] is None
    assert len({d["id"] for d in page.json()["items"] + rest.json()["items"]}) == 30


@pytest.mark.parametrize("url", ["http://127.0.0.1:9009/hook", "https://localhost/hook"])
async def test_a_receiver_on_this_machine_is_refused_with_the_development_setting_named(url: str) -> None:
    from microcred.fetch import FetchPolicy
    from microcred.problems import UnprocessableContent
    from microcred.webhooks.service import _checked_url

    with pytest.raises(UnprocessableContent) as refused:
        _checked_url(url, FetchPolicy())
    [error] = refused.value.errors
    assert error["pointer"] == "#/url" and "MICROCRED_WEBHOOK_ALLOW_LOOPBACK=true" in error["detail"]
    with pytest.raises(UnprocessableContent) as refused:
        _checked_url("https://10.0.0.7/hook", FetchPolicy())
    assert "MICROCRED_WEBHOOK_ALLOW_LOOPBACK" not in refused.value.errors[0]["detail"]


async def test_a_failed_delivery_retried_goes_out_once_more_and_is_audited(service: ServiceClient, receiver: Receiver) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    hook = await register(service, issuer["id"], receiver.url, ["credential.issued"])
    credential = await awarded(service, issuer["id"], achievement["id"])
    clock = Clock()
    sender = dispatcher(service.runtime, clock)
    for _ in range(5):  # Retry(max_attempts=5); the port stays closed
        assert await sender.run_once() == 1
        clock.advance(3600)
    [failed] = await deliveries(service, issuer["id"], hook["id"])
    assert failed["status"] == "failed"
    path = f"/api/v1/issuers/{issuer['id']}/webhooks/{hook['id']}/deliveries/{failed['id']}/retry"

    await receiver.start()
    retried = await service.http.post(path, headers=service.admin)
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "pending" and len(retried.json()["log"]) == 5
    is_problem(await service.http.post(path, headers=service.admin), 409)  # already waiting
    assert await sender.run_once() == 1
    [delivery] = await deliveries(service, issuer["id"], hook["id"])
    assert (delivery["status"], delivery["attempts"], delivery["log"][-1]["status_code"]) == ("delivered", 6, 204)
    [received] = receiver.delivered()
    assert received.headers["webhook-id"] == failed["event_id"] and received.event["subject"] == credential["id"]
    is_problem(await service.http.post(path, headers=service.admin), 409)  # delivered: nothing to retry

    # Another issuer's key cannot see it; the retry is in the audit log with who asked.
    other = await service.create_issuer()
    theirs = service.auth(await service.issuer_key(other["id"], "manage"))
    is_problem(await service.http.post(path, headers=theirs), 404)
    entries = (await service.http.get(f"/api/v1/issuers/{issuer['id']}/audit", params={"action": "webhook.delivery_retried"}, headers=service.admin)).json()["items"]
    [entry] = [e for e in entries if e["action"] == "webhook.delivery_retried"]
    assert entry["subject"] == failed["id"] and entry["data"]["event_id"] == failed["event_id"] and entry["data"]["attempts"] == 5
    async with service.runtime.sessions() as session:
        admin_id = (await session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "webhook.created"))).one()
    assert entry["actor"] == admin_id
