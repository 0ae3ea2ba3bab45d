from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from ..web.deps import PrincipalDep, RuntimeDep, SessionDep
from ..web.openapi import PROBLEMS
from ..web.routes import StrictJsonRoute
from . import service
from .dispatcher import webhook_fetch_policy
from .schemas import DeliveryOut, DeliveryPage, WebhookCreate, WebhookCreated, WebhookList, WebhookOut, WebhookUpdate
from .signing import SecretBox

router = APIRouter(prefix="/api/v1/issuers/{issuer_id}/webhooks", tags=["webhooks"], responses=PROBLEMS, route_class=StrictJsonRoute)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookCreated)
async def create_webhook(issuer_id: str, body: WebhookCreate, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> WebhookCreated:
    """Register an endpoint for some of the issuer's events (`manage` scope). The answer holds
    the signing secret, shown this once. Deliveries are POSTed as JSON with Standard Webhooks
    headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`) and retried with backoff
    until the endpoint answers 2xx."""
    settings = runtime.settings
    return await service.create_endpoint(
        session,
        principal=principal,
        issuer_id=issuer_id,
        data=body,
        url_policy=webhook_fetch_policy(settings),
        secrets=SecretBox(settings.key_passphrase.get_secret_value()),
        now=datetime.now(UTC),
    )


@router.get("", response_model=WebhookList)
async def list_webhooks(issuer_id: str, principal: PrincipalDep, session: SessionDep) -> WebhookList:
    return WebhookList(items=[service.endpoint_out(e) for e in await service.list_endpoints(session, principal=principal, issuer_id=issuer_id)])


@router.get("/{webhook_id}", response_model=WebhookOut)
async def get_webhook(issuer_id: str, webhook_id: str, principal: PrincipalDep, session: SessionDep) -> WebhookOut:
    endpoint = await service.get_endpoint(session, principal=principal, issuer_id=issuer_id, endpoint_id=webhook_id)
    return service.endpoint_out(endpoint)


@router.patch("/{webhook_id}", response_model=WebhookOut)
async def update_webhook(
    issuer_id: str, webhook_id: str, body: WebhookUpdate, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> WebhookOut:
    """Change the URL or the event types, or pause (`"enabled": false`) and resume deliveries."""
    endpoint = await service.update_endpoint(
        session,
        principal=principal,
        issuer_id=issuer_id,
        endpoint_id=webhook_id,
        data=body,
        url_policy=webhook_fetch_policy(runtime.settings),
        now=datetime.now(UTC),
    )
    return service.endpoint_out(endpoint)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_webhook(issuer_id: str, webhook_id: str, principal: PrincipalDep, session: SessionDep) -> Response:
    """Stop deliveries to the endpoint for good; what it had not received yet is dropped."""
    await service.delete_endpoint(session, principal=principal, issuer_id=issuer_id, endpoint_id=webhook_id, now=datetime.now(UTC))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryPage)
async def list_deliveries(
    issuer_id: str,
    webhook_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    delivery_status: Annotated[Literal["pending", "delivered", "failed"] | None, Query(alias="status")] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DeliveryPage:
    """The delivery log: the endpoint's deliveries, newest first, each with every attempt
    (time, HTTP status or error, duration)."""
    return await service.list_deliveries(
        session, principal=principal, issuer_id=issuer_id, endpoint_id=webhook_id, status=delivery_status, cursor=cursor, limit=limit
    )


@router.post("/{webhook_id}/test", status_code=status.HTTP_202_ACCEPTED, response_model=DeliveryOut)
async def test_webhook(issuer_id: str, webhook_id: str, principal: PrincipalDep, session: SessionDep) -> DeliveryOut:
    """Queue a `webhook.test` event for this endpoint; its delivery shows in the log."""
    return await service.send_test(session, principal=principal, issuer_id=issuer_id, endpoint_id=webhook_id, now=datetime.now(UTC))


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    response_model=DeliveryOut,
    responses={409: {**PROBLEMS[400], "description": "The delivery is not failed (pending or delivered)"}},
)
async def retry_delivery(issuer_id: str, webhook_id: str, delivery_id: str, principal: PrincipalDep, session: SessionDep) -> DeliveryOut:
    """Send a failed delivery once more, now (same body, same `webhook-id`): one more attempt,
    logged like the others. Recorded in the audit log."""
    return await service.retry_delivery(
        session, principal=principal, issuer_id=issuer_id, endpoint_id=webhook_id, delivery_id=delivery_id, now=datetime.now(UTC)
    )
