"""The security headers every response carries, set in one place so no page or download can be
left without them (the credential page, /verify and the downloads once were).

HTML pages: a Content-Security-Policy that allows the pages' one inline ``<style>`` (by hash) and
stylesheets from this service (an issuer's colours on its credential pages),
images (a badge image may be a data: URI or on another https host), forms posted to this service
only, and no framing; downloads and every other answer: nothing active at all (``sandbox``, so an
SVG opened in the browser runs no script). Both: ``X-Content-Type-Options: nosniff``,
``X-Frame-Options: DENY`` and ``Referrer-Policy: no-referrer``. A route that sets one of these
headers itself (the learners' pages) keeps its own.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityHeaders", "html_policy"]

_OTHER_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"
#: FastAPI's interactive API documentation (/docs, /redoc) loads its scripts from a CDN.
_API_DOCS = ("/docs", "/docs/oauth2-redirect", "/redoc")


def html_policy(style_source: str) -> str:
    """``style_source``: the CSP source of the pages' inline style (``'sha256-…'``)."""
    return (
        f"default-src 'none'; style-src {style_source} 'self'; img-src 'self' data: https:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, style_source: str) -> None:
        self.app = app
        self.html = html_policy(style_source)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] in _API_DOCS

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                html = headers.get("content-type", "").startswith("text/html")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                if not docs:
                    headers.setdefault("X-Frame-Options", "DENY")
                    headers.setdefault("Content-Security-Policy", self.html if html else _OTHER_POLICY)
            await send(message)

        await self.app(scope, receive, with_headers)
