"""Webhooks (manager): the issuer's endpoints (add, delete), and each one's delivery log with a
retry button for a delivery that failed. The same service calls as the webhooks API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Form, Query
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ..problems import ProblemError
from ..web.deps import RuntimeDep, SessionDep
from ..webhooks import service as webhooks
from ..webhooks.dispatcher import webhook_fetch_policy
from ..webhooks.outbox import EVENT_TYPES
from ..webhooks.schemas import WebhookCreate, WebhookUpdate
from ..webhooks.signing import SecretBox
from .form_errors import FormErrors, attempt, from_problem, from_validation
from .web import IssuerAccess, access, console_page, console_router

__all__ = ["router"]

router = console_router()

Manager = Annotated[IssuerAccess, Depends(access("manager"))]

INPUTS = {"/url": "url", "/events": "events"}
LABELS = {"url": "Endpoint URL", "events": "Events to send"}
EVENT_WORDS = {
    "credential.issued": "A credential is issued",
    "credential.revoked": "A credential is revoked",
    "credential.suspended": "A credential is suspended",
    "credential.unsuspended": "A credential is unsuspended",
    "pathway.completed": "A learner completes a pathway",
}


async def _index(
    session: AsyncSession,
    acc: IssuerAccess,
    *,
    status: int = 200,
    errors: FormErrors | None = None,
    values: dict[str, object] | None = None,
    secret: str | None = None,
    secret_for: str | None = None,
    notice: str | None = None,
) -> Response:
    endpoints = await webhooks.list_endpoints(session, principal=acc.principal, issuer_id=acc.issuer.id)
    return console_page(
        acc, "console/webhooks/index.html", status=status, title="Webhooks",
        endpoints=endpoints, errors=errors or FormErrors(), labels=LABELS,
        event_words=[(e, EVENT_WORDS.get(e, e)) for e in EVENT_TYPES],
        values=values or {"url": "", "events": ["credential.issued", "credential.revoked"]},
        secret=secret, secret_for=secret_for, notice=notice,
    )


@router.get("/console/{issuer_id}/webhooks")
async def webhook_list(acc: Manager, session: SessionDep) -> Response:
    return await _index(session, acc)


@router.post("/console/{issuer_id}/webhooks")
async def create_webhook(
    acc: Manager,
    session: SessionDep,
    runtime: RuntimeDep,
    url: Annotated[str, Form(max_length=2048)] = "",
    events: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Register an endpoint; its signing secret is shown on the answer page, once."""
    chosen = [e for e in (events or []) if e]
    values: dict[str, object] = {"url": url.strip(), "events": chosen}
    try:
        data = WebhookCreate.model_validate({"url": url.strip(), "events": chosen})
    except ValidationError as exc:
        errors = from_validation(exc, INPUTS)
        if "events" in errors.fields and not chosen:
            errors.fields["events"] = "Choose at least one event."
        return await _index(session, acc, status=422, errors=errors, values=values)
    settings = runtime.settings
    try:
        async with attempt(session):
            created = await webhooks.create_endpoint(
                session,
                principal=acc.principal,
                issuer_id=acc.issuer.id,
                data=data,
                url_policy=webhook_fetch_policy(settings),
                secrets=SecretBox(settings.key_passphrase.get_secret_value()),
                now=datetime.now(UTC),
            )
    except ProblemError as problem:
        if problem.status in (403, 404) and not problem.errors:
            raise
        return await _index(session, acc, status=problem.status, errors=from_problem(problem, INPUTS), values=values)
    return await _index(session, acc, status=201, secret=created.secret, secret_for=created.url)


@router.post("/console/{issuer_id}/webhooks/{webhook_id}/pause")
async def pause_webhook(acc: Manager, session: SessionDep, runtime: RuntimeDep, webhook_id: str) -> Response:
    """Deliveries wait (and are kept) until the endpoint is resumed."""
    return await _switch(session, acc, runtime, webhook_id, enabled=False)


@router.post("/console/{issuer_id}/webhooks/{webhook_id}/resume")
async def resume_webhook(acc: Manager, session: SessionDep, runtime: RuntimeDep, webhook_id: str) -> Response:
    """What waited goes out."""
    return await _switch(session, acc, runtime, webhook_id, enabled=True)


async def _switch(session: AsyncSession, acc: IssuerAccess, runtime: RuntimeDep, webhook_id: str, *, enabled: bool) -> Response:
    endpoint = await webhooks.update_endpoint(
        session, principal=acc.principal, issuer_id=acc.issuer.id, endpoint_id=webhook_id, data=WebhookUpdate(enabled=enabled),
        url_policy=webhook_fetch_policy(runtime.settings), now=datetime.now(UTC),
    )
    said = "resumed: what waited is sent now" if enabled else "paused: its deliveries wait until it is resumed"
    return await _index(session, acc, notice=f"The endpoint {endpoint.url} is {said}.")


@router.post("/console/{issuer_id}/webhooks/{webhook_id}/delete")
async def delete_webhook(acc: Manager, session: SessionDep, webhook_id: str) -> Response:
    endpoint = await webhooks.get_endpoint(session, principal=acc.principal, issuer_id=acc.issuer.id, endpoint_id=webhook_id)
    url = endpoint.url
    await webhooks.delete_endpoint(session, principal=acc.principal, issuer_id=acc.issuer.id, endpoint_id=webhook_id, now=datetime.now(UTC))
    return await _index(session, acc, notice=f"The endpoint {url} is deleted: nothing more is sent to it.")


_Status = Annotated[str | None, Query(pattern="^(|pending|delivered|failed)$")]


async def _log(
    session: AsyncSession, acc: IssuerAccess, webhook_id: str, *, status: str | None, cursor: str | None, notice: str | None = None, code: int = 200
) -> Response:
    endpoint = await webhooks.get_endpoint(session, principal=acc.principal, issuer_id=acc.issuer.id, endpoint_id=webhook_id)
    page = await webhooks.list_deliveries(
        session, principal=acc.principal, issuer_id=acc.issuer.id, endpoint_id=webhook_id, status=status, cursor=cursor, limit=25
    )
    return console_page(
        acc, "console/webhooks/log.html", status=code, title="Delivery log",
        endpoint=endpoint, page=page, shown_status=status or "", notice=notice,
    )


@router.get("/console/{issuer_id}/webhooks/{webhook_id}")
async def delivery_log(
    acc: Manager, session: SessionDep, webhook_id: str, status: _Status = None, cursor: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    """The endpoint's deliveries, newest first, each with its attempts."""
    return await _log(session, acc, webhook_id, status=status or None, cursor=cursor)


@router.post("/console/{issuer_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/retry")
async def retry_delivery(acc: Manager, session: SessionDep, webhook_id: str, delivery_id: str) -> Response:
    try:
        async with attempt(session):
            await webhooks.retry_delivery(
                session, principal=acc.principal, issuer_id=acc.issuer.id, endpoint_id=webhook_id, delivery_id=delivery_id, now=datetime.now(UTC)
            )
    except ProblemError as problem:
        if problem.status != 409:
            raise
        return await _log(session, acc, webhook_id, status=None, cursor=None, notice=problem.detail, code=409)
    return await _log(session, acc, webhook_id, status=None, cursor=None, notice="The delivery is queued to be sent again now.")


@router.post("/console/{issuer_id}/webhooks/{webhook_id}/test")
async def test_webhook(acc: Manager, session: SessionDep, webhook_id: str) -> Response:
    await webhooks.send_test(session, principal=acc.principal, issuer_id=acc.issuer.id, endpoint_id=webhook_id, now=datetime.now(UTC))
    return await _log(session, acc, webhook_id, status=None, cursor=None, notice="A webhook.test event is queued for this endpoint.")
