"""``GET /metrics`` for Prometheus, kept off the public internet by default.

With ``MICROCRED_METRICS_TOKEN`` set, a scrape must send it as a bearer token (Prometheus's
``authorization: {credentials_file: ...}``), from wherever it comes. Without one, /metrics
answers only to a client on this machine that did not come through a proxy: a reverse proxy on
the same host connects from loopback too, so a request that carries a forwarding header
(``Forwarded``, ``X-Forwarded-For``, ``X-Real-IP``) is refused, as it would be from the internet.
"""

from __future__ import annotations

import hmac
import ipaddress
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from ..problems import Forbidden, Unauthorized
from ..web.deps import RuntimeDep, SessionDep
from ..web.openapi import PROBLEMS
from .metrics import CONTENT_TYPE
from .service import scrape

__all__ = ["router"]

router = APIRouter(tags=["operations"])

_FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def _on_this_machine(host: str | None) -> bool:
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


async def may_scrape(request: Request, runtime: RuntimeDep) -> None:
    token = runtime.settings.metrics_token.get_secret_value()
    if token:
        scheme, _, sent = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), token.encode()):
            raise Unauthorized("/metrics needs the metrics token: send it as Authorization: Bearer TOKEN")
        return
    forwarded = any(name in request.headers for name in _FORWARDING_HEADERS)
    if forwarded or not _on_this_machine(request.client.host if request.client else None):
        raise Forbidden(
            "/metrics answers only to this machine, not through a proxy; set MICROCRED_METRICS_TOKEN to scrape it from elsewhere"
        )


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"description": "The Prometheus text exposition format (0.0.4)", "content": {"text/plain": {"schema": {"type": "string"}}}},
        401: {**PROBLEMS[401], "description": "MICROCRED_METRICS_TOKEN is set and was not sent as the bearer token"},
        403: {**PROBLEMS[403], "description": "No metrics token is set and the client is not on this machine (or came through a proxy)"},
    },
)
async def metrics(_allowed: Annotated[None, Depends(may_scrape)], session: SessionDep) -> Response:
    """Prometheus metrics: request latency by route, credentials issued and signing time, and
    the job, webhook and email backlogs (see the README's Monitoring section)."""
    return Response(await scrape(session, now=datetime.now(UTC)), media_type=CONTENT_TYPE)
