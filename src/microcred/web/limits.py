"""Request body limits, enforced while reading (a client cannot dodge them by lying in
Content-Length or by streaming)."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..problems import PROBLEM_BASE

__all__ = ["BodyLimit"]


class BodyLimit:
    """413 problem+json for a body over ``default`` bytes (``batch`` for paths ending in
    ``/awards/batch``, where files of 100,000 rows arrive; ``verify`` for the verify endpoints,
    which take badge images and PDFs)."""

    def __init__(self, app: ASGIApp, *, default: int, batch: int, verify: int | None = None) -> None:
        self.app, self.default, self.batch = app, default, batch
        self.verify = verify or default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = self.batch if path.endswith("/awards/batch") else self.verify if path in ("/api/v1/verify", "/verify") else self.default
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await _reject(send, limit)
                    return
        # Read the body before the app sees it (FastAPI reads it whole anyway), refusing it as
        # soon as it passes the limit; then replay it.
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
    body = json.dumps(
        {
            "type": PROBLEM_BASE + "payload-too-large",
            "title": "Payload too large",
            "status": 413,
            "detail": f"the request body exceeds {limit} bytes",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
