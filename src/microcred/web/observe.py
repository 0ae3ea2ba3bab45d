"""Each request's id, access line and latency, in one pass around the whole app.

The request id is the client's ``X-Request-ID`` when it is a sane one (1 to 128 letters, digits
and ``._:+/=-``: what proxies and tracing tools send, a UUID or a hex string), else a new random
one; the answer carries it back in ``X-Request-ID`` and every log record made while the request
is handled carries it too (:mod:`microcred.log_format`). An id that is too long or holds other
characters (spaces, quotes, control characters) is replaced, never copied into the logs.

When the app has answered: one access line (logger ``microcred.access``; the path without its
query string, which may hold tokens and search words) and one observation of
``microcred_http_request_duration_seconds`` labelled with the route's template
(``/api/v1/issuers/{issuer_id}/awards``), so a million credential ids stay one series.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..log_format import REQUEST_ID
from ..operations.metrics import HTTP_REQUEST_SECONDS

__all__ = ["ObserveRequests", "request_id_from"]

access_log = logging.getLogger("microcred.access")

_SANE_ID = re.compile(rb"[A-Za-z0-9._:+/=-]{1,128}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STATUS_CLASSES = {n: f"{n}xx" for n in range(1, 6)}


def request_id_from(scope: Scope) -> str:
    """The client's sane ``X-Request-ID``, else a new one (32 hex digits)."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"x-request-id":
            if _SANE_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return secrets.token_hex(16)


def _route(scope: Scope) -> str:
    """The template of the route that answered (a mount's with ``/{path}``), or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return "unmatched"
    return path + "/{path}" if isinstance(route, Mount) else path


class ObserveRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        header = (b"x-request-id", request_id.encode("ascii"))
        status = 500  # what the client gets when the app fails before answering
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            try:
                self._observe(scope, status, time.perf_counter() - started)
            finally:
                REQUEST_ID.reset(token)

    @staticmethod
    def _observe(scope: Scope, status: int, seconds: float) -> None:
        method, route = scope["method"], _route(scope)
        HTTP_REQUEST_SECONDS.labels(method if method in _METHODS else "other", route, _STATUS_CLASSES.get(status // 100, "other")).observe(seconds)
        if access_log.isEnabledFor(logging.INFO):
            client = scope["client"][0] if scope.get("client") else "-"
            milliseconds = round(seconds * 1000, 1)
            access_log.info(
                '%s "%s %s" %d %.1f ms', client, method, scope["path"], status, milliseconds,
                extra={"client": client, "method": method, "path": scope["path"], "route": route, "status": status, "duration_ms": milliseconds},
            )
