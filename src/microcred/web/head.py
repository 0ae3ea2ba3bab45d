"""HEAD answered wherever GET is, as HTTP requires (RFC 9110 §9.3.2).

FastAPI routes declared with ``get`` refuse HEAD with a 405, so link checkers, crawlers and
``curl -I`` could not read a credential page's or a download's headers. Here a HEAD request is
handled as the GET it stands for, and the answer goes out with the GET's headers (its
Content-Length included) and no body. The route that answered is handed back to the request's
own scope, for the request log and metrics outside (:mod:`microcred.web.observe`).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HeadAsGet"]


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        finished = False

        async def headers_only(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.body":
                if finished:
                    return
                finished = not message.get("more_body", False)
                message = {"type": "http.response.body", "body": b"", "more_body": not finished}
            await send(message)

        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, headers_only)
        finally:
            if "route" in as_get:
                scope["route"] = as_get["route"]
