from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from ..schemas_common import ApiModel

EventType = Literal["credential.issued", "credential.revoked", "credential.suspended", "credential.unsuspended", "pathway.completed"]
EndpointUrl = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
EventTypes = Annotated[list[EventType], Field(min_length=1, max_length=5, description="the event types to receive")]


class WebhookCreate(ApiModel):
    url: EndpointUrl = Field(description="an https URL on a public host; deliveries are POSTed here")
    events: EventTypes
    enabled: bool = True


class WebhookUpdate(ApiModel):
    url: EndpointUrl | None = None
    events: EventTypes | None = None
    enabled: bool | None = Field(default=None, description="false pauses deliveries: they wait, and go out once enabled again")


class WebhookOut(BaseModel):
    id: str
    issuer_id: str
    url: str
    events: list[str]
    enabled: bool
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="the signing secret (`whsec_` + base64 of the HMAC key), shown this once: store it now. "
        "Each delivery carries `webhook-signature: v1,<base64 HMAC-SHA256 of '{webhook-id}.{webhook-timestamp}.{body}'>`"
    )


class WebhookList(BaseModel):
    items: list[WebhookOut]


class AttemptOut(BaseModel):
    at: datetime
    status_code: int | None = Field(description="the HTTP status the endpoint answered; null when no answer came")
    error: str | None = Field(description="why the attempt failed (connection refused, timeout, a status other than 2xx...)")
    duration_ms: int


class DeliveryOut(BaseModel):
    id: str
    event_id: str = Field(description="sent as webhook-id: the same on every attempt")
    event_type: str
    status: Literal["pending", "delivered", "failed"] = Field(
        description="pending: waiting for its next attempt; delivered: answered 2xx; failed: every attempt failed"
    )
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    log: list[AttemptOut] = Field(description="every attempt, oldest first")


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
