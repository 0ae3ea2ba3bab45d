"""Registering webhook endpoints, and reading their delivery logs."""

from __future__ import annotations

import asyncio
from datetime import datetime
from ipaddress import ip_address

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..db.base import new_id
from ..db.models import WebhookDelivery, WebhookEndpoint
from ..events import Event, record
from ..fetch import FetchError, FetchPolicy, check_url
from ..issuers.repository import IssuerRepository
from ..pagination import decode_cursor, encode_cursor
from ..problems import BadRequest, Conflict, NotFound, UnprocessableContent, field_error
from .outbox import payload
from .repository import WebhookRepository
from .schemas import AttemptOut, DeliveryOut, DeliveryPage, WebhookCreate, WebhookCreated, WebhookOut, WebhookUpdate
from .signing import SecretBox, new_secret

__all__ = [
    "create_endpoint",
    "delete_endpoint",
    "endpoint_out",
    "get_endpoint",
    "list_deliveries",
    "list_endpoints",
    "retry_delivery",
    "send_test",
    "update_endpoint",
]


def _checked_url(url: str, policy: FetchPolicy) -> str:
    """Refuse, naming ``/url``, what no delivery could be sent to. The host's addresses are
    checked again on every delivery (a name may resolve elsewhere later)."""
    try:
        parsed = check_url(url, policy)
    except FetchError as exc:
        detail = str(exc)
        if not policy.allow_loopback and exc.reason in ("scheme", "address") and _loopback(_host(url)):
            detail += " (for a receiver on this machine in development, set MICROCRED_WEBHOOK_ALLOW_LOOPBACK=true)"
        raise UnprocessableContent(f"url: {detail}", errors=[field_error("/url", detail)]) from None
    if parsed.fragment:
        raise UnprocessableContent("url: must not have a #fragment", errors=[field_error("/url", "must not have a #fragment")])
    if parsed.scheme == "http" and not _loopback(parsed.host):
        detail = "must be an https URL (plain http is allowed for this machine only, in development)"
        raise UnprocessableContent(f"url: {detail}", errors=[field_error("/url", detail)])
    return str(parsed)


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host
    except httpx.InvalidURL:
        return ""


def _loopback(host: str) -> bool:
    if host.rstrip(".").lower().rsplit(".", 1)[-1] == "localhost":
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def endpoint_out(endpoint: WebhookEndpoint) -> WebhookOut:
    return WebhookOut(
        id=endpoint.id,
        issuer_id=endpoint.issuer_id,
        url=endpoint.url,
        events=endpoint.events,
        enabled=endpoint.enabled,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


def _described(endpoint: WebhookEndpoint) -> dict[str, object]:
    return {"url": endpoint.url, "events": list(endpoint.events), "enabled": endpoint.enabled}


async def _issuer(session: AsyncSession, principal: Principal, issuer_id: str) -> None:
    principal.require(issuer_id, "manage")
    if await IssuerRepository(session).get(issuer_id) is None:
        raise NotFound(f"no issuer {issuer_id!r}")


async def create_endpoint(
    session: AsyncSession,
    *,
    principal: Principal,
    issuer_id: str,
    data: WebhookCreate,
    url_policy: FetchPolicy,
    secrets: SecretBox,
    now: datetime,
) -> WebhookCreated:
    """Register an endpoint; the answer carries its signing secret, shown this once."""
    await _issuer(session, principal, issuer_id)
    url = _checked_url(data.url, url_policy)
    endpoint_id, secret = new_id(), new_secret()
    sealed = await asyncio.to_thread(secrets.seal, secret, endpoint_id=endpoint_id)
    endpoint = await WebhookRepository(session).add(
        WebhookEndpoint(
            id=endpoint_id,
            issuer_id=issuer_id,
            url=url,
            events=sorted(set(data.events)),
            enabled=data.enabled,
            sealed_secret=sealed,
            created_at=now,
            updated_at=now,
        )
    )
    await record(session, Event("webhook.created", issuer_id, principal.client_id, endpoint.id, now, _described(endpoint)))
    return WebhookCreated(**endpoint_out(endpoint).model_dump(), secret=secret)


async def list_endpoints(session: AsyncSession, *, principal: Principal, issuer_id: str) -> list[WebhookEndpoint]:
    await _issuer(session, principal, issuer_id)
    return list(await WebhookRepository(session).for_issuer(issuer_id))


async def get_endpoint(
    session: AsyncSession, *, principal: Principal, issuer_id: str, endpoint_id: str, for_update: bool = False
) -> WebhookEndpoint:
    await _issuer(session, principal, issuer_id)
    endpoint = await WebhookRepository(session).get(issuer_id, endpoint_id, for_update=for_update)
    if endpoint is None:
        raise NotFound(f"no webhook {endpoint_id!r}")
    return endpoint


async def update_endpoint(
    session: AsyncSession,
    *,
    principal: Principal,
    issuer_id: str,
    endpoint_id: str,
    data: WebhookUpdate,
    url_policy: FetchPolicy,
    now: datetime,
) -> WebhookEndpoint:
    """Change the URL, the event types, or pause and resume deliveries (``enabled``)."""
    endpoint = await get_endpoint(session, principal=principal, issuer_id=issuer_id, endpoint_id=endpoint_id, for_update=True)
    before = _described(endpoint)
    if data.url is not None:
        endpoint.url = _checked_url(data.url, url_policy)
    if data.events is not None:
        endpoint.events = sorted(set(data.events))
    if data.enabled is not None:
        endpoint.enabled = data.enabled
    after = _described(endpoint)
    if after != before:
        endpoint.updated_at = now
        await session.flush()
        changed = sorted(k for k in after if after[k] != before[k])
        await record(session, Event("webhook.updated", issuer_id, principal.client_id, endpoint.id, now, {**after, "changed": changed}))
    return endpoint


async def delete_endpoint(session: AsyncSession, *, principal: Principal, issuer_id: str, endpoint_id: str, now: datetime) -> None:
    """Stop deliveries for good: the endpoint's secret is wiped and what it had not yet received
    fails with "endpoint deleted"."""
    endpoint = await get_endpoint(session, principal=principal, issuer_id=issuer_id, endpoint_id=endpoint_id, for_update=True)
    endpoint.deleted_at, endpoint.enabled, endpoint.sealed_secret, endpoint.updated_at = now, False, "", now
    await session.flush()
    await WebhookRepository(session).cancel_pending(endpoint.id, reason="endpoint deleted")
    await record(session, Event("webhook.deleted", issuer_id, principal.client_id, endpoint.id, now, {"url": endpoint.url}))


async def send_test(session: AsyncSession, *, principal: Principal, issuer_id: str, endpoint_id: str, now: datetime) -> DeliveryOut:
    """Queue a ``webhook.test`` event for this endpoint alone (whatever its event types), to see
    the receiver answer in the delivery log. Not an event of the issuer: nothing is audited."""
    endpoint = await get_endpoint(session, principal=principal, issuer_id=issuer_id, endpoint_id=endpoint_id)
    event = Event("webhook.test", issuer_id, principal.client_id, endpoint.id, now, {"webhook_id": endpoint.id})
    delivery = await WebhookRepository(session).add_delivery(
        WebhookDelivery(
            id=new_id(),
            endpoint_id=endpoint.id,
            event_id=event.id,
            event_type=event.type,
            body=payload(event).decode(),
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return _delivery_out(delivery, [])


def _delivery_out(delivery: WebhookDelivery, attempts: list[AttemptOut]) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        status=delivery.status,  # type: ignore[arg-type]
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if delivery.status == "pending" else None,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
        last_error=delivery.last_error,
        log=attempts,
    )


async def list_deliveries(
    session: AsyncSession,
    *,
    principal: Principal,
    issuer_id: str,
    endpoint_id: str,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> DeliveryPage:
    """The endpoint's deliveries, newest first, each with its log of attempts."""
    endpoint = await get_endpoint(session, principal=principal, issuer_id=issuer_id, endpoint_id=endpoint_id)
    repository = WebhookRepository(session)
    found = await repository.deliveries(endpoint.id, status=status, after=decode_cursor(cursor) if cursor else None, limit=limit + 1)
    page = found[:limit]
    attempts = await repository.attempts([d.id for d in page])
    items = [
        _delivery_out(
            d, [AttemptOut(at=a.at, status_code=a.status_code, error=a.error, duration_ms=a.duration_ms) for a in attempts.get(d.id, [])]
        )
        for d in page
    ]
    more = len(found) > limit and page
    return DeliveryPage(items=items, next_cursor=encode_cursor(page[-1].created_at, page[-1].id) if more else None)


async def retry_delivery(
    session: AsyncSession, *, principal: Principal, issuer_id: str, endpoint_id: str, delivery_id: str, now: datetime
) -> DeliveryOut:
    """Send a failed delivery once more, now (its receiver is fixed): it is pending again, with
    the same body and ``webhook-id``, for one more attempt; should that fail too, it is failed
    again. A pending or delivered one is left as it is (409)."""
    endpoint = await get_endpoint(session, principal=principal, issuer_id=issuer_id, endpoint_id=endpoint_id)
    repository = WebhookRepository(session)
    delivery = await repository.delivery(endpoint.id, delivery_id, for_update=True)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id!r} of webhook {endpoint_id!r}")
    if delivery.status != "failed":
        raise Conflict(f"delivery {delivery_id!r} is {delivery.status}; only a failed delivery is retried")
    delivery.status, delivery.next_attempt_at = "pending", now
    await session.flush()
    data = {"webhook_id": endpoint.id, "url": endpoint.url, "event_id": delivery.event_id, "event_type": delivery.event_type, "attempts": delivery.attempts}
    await record(session, Event("webhook.delivery_retried", issuer_id, principal.client_id, delivery.id, now, data))
    attempts = await repository.attempts([delivery.id])
    return _delivery_out(delivery, [AttemptOut(at=a.at, status_code=a.status_code, error=a.error, duration_ms=a.duration_ms) for a in attempts.get(delivery.id, [])])
