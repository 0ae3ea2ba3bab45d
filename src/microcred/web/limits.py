"""Request body limits, enforced while reading (a client cannot dodge them by lying in
Content-Length or by streaming), and, where a large body is allowed to callers with an API key,
the key checked before a byte of the body is read."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..auth.service import authenticate
from ..problems import PROBLEM_BASE, ProblemError

__all__ = ["BATCH_PATH", "BodyLimit", "CONSOLE_BULK_PATH", "may_award"]

#: The routes that take files of 100,000 rows: the API's batch, and the console's bulk upload.
BATCH_PATH = re.compile(r"^/api/v1/issuers/([^/]+)/awards/batch$")
CONSOLE_BULK_PATH = re.compile(r"^/console/([^/]+)/bulk$")

#: Raises the ProblemError (401, 403, 404) that a caller with this Authorization header may not
#: award for this issuer.
Authorize = Callable[[str, str | None], Awaitable[None]]
#: Whether the request's headers (its staff session cookie) may upload a bulk file for this issuer.
ConsoleAuthorize = Callable[[str, dict[bytes, bytes]], Awaitable[bool]]


def may_award(sessions: async_sessionmaker[AsyncSession]) -> Authorize:
    """The check the batch route's own dependencies make (an API key with the award scope on
    the issuer), made before its body is read."""

    async def check(issuer_id: str, authorization: str | None) -> None:
        async with sessions() as session:
            principal = await authenticate(session, authorization)
        principal.require(issuer_id, "award")

    return check


class BodyLimit:
    """413 problem+json for a body over ``default`` bytes (``batch`` for the bulk-award route,
    where files of 100,000 rows arrive, once ``authorize`` let the caller in; ``verify`` for the
    verify endpoints, which take badge images and PDFs). The console's bulk upload gets ``batch``
    too when ``console_upload`` says the signed-in member may upload for the issuer, else
    ``default``. A Content-Length over the limit is refused before reading; a body without one
    is counted as it streams in."""

    def __init__(
        self, app: ASGIApp, *, default: int, batch: int, verify: int | None = None, authorize: Authorize | None = None,
        console_upload: ConsoleAuthorize | None = None,
    ) -> None:
        self.app, self.default, self.batch = app, default, batch
        self.verify = verify or default
        self.authorize = authorize
        self.console_upload = console_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        batch = BATCH_PATH.match(path) if scope["method"] == "POST" else None
        limit = self.batch if batch else self.verify if path in ("/api/v1/verify", "/verify", "/catalogue/gap-check") else self.default
        headers = dict(scope.get("headers", []))
        upload = CONSOLE_BULK_PATH.match(path) if scope["method"] == "POST" and self.console_upload is not None else None
        if upload and self.console_upload is not None and await self.console_upload(upload.group(1), headers):
            limit = self.batch
        if batch and self.authorize is not None:
            # Nobody may make this process hold a large body before showing a key that may
            # award for the issuer: the same answer the route would give, without reading.
            authorization = headers.get(b"authorization")
            try:
                await self.authorize(batch.group(1), authorization.decode("latin-1") if authorization is not None else None)
            except ProblemError as problem:
                await _send_problem(send, problem.status, problem.to_dict(instance=path), problem.headers)
                return
        if b"content-length" in headers:
            try:
                declared = int(headers[b"content-length"])
            except ValueError:
                declared = 0
            if declared > limit:
                await _reject(send, limit)
                return
        # Read the body before the app sees it (FastAPI reads it whole anyway), refusing it as
        # soon as it passes the limit; then replay it. Not streamed to the route: its
        # dependencies hold a database connection (the key lookup), which a slow upload would pin.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay_disconnect(message), send)
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await _reject(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _replay_disconnect(message: Message) -> Receive:
    async def receive() -> Message:
        return message

    return receive


async def _reject(send: Send, limit: int) -> None:
    problem = {
        "type": PROBLEM_BASE + "payload-too-large",
        "title": "Payload too large",
        "status": 413,
        "detail": f"the request body exceeds {limit} bytes",
    }
    await _send_problem(send, 413, problem, {})


async def _send_problem(send: Send, status: int, problem: dict[str, object], headers: dict[str, str]) -> None:
    body = json.dumps(problem).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                *((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
