"""The language of each web request, chosen once, before any page or message is written.

In order: ``?lang=`` (the switcher's link; it also sets a cookie so the next page stays in that
language), the cookie, the signed-in learner's setting (:func:`prefer`), then the browser's
``Accept-Language``, then English. HTML answers say which language they are in
(``Content-Language``) and that they vary with the header and the cookie, so a shared cache
never hands a Dutch page to an English reader.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Final
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .languages import LANGUAGE_NAMES, SUPPORTED, negotiate, supported_or_none
from .messages import reset_language, set_language

__all__ = ["COOKIE", "LanguageChoice", "RequestLanguage", "current_request", "language_links", "prefer"]

COOKIE: Final = "microcred_lang"
_YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class RequestLanguage:
    language: str
    #: the person chose it here (``?lang=`` or the cookie): a learner's setting does not override it
    chosen: bool
    path: str
    #: the query without ``lang``, for the switcher's links
    query: tuple[tuple[str, str], ...]


_request: Final[ContextVar[RequestLanguage | None]] = ContextVar("microcred_request_language", default=None)


def current_request() -> RequestLanguage | None:
    return _request.get()


def prefer(language: str | None) -> None:
    """A signed-in learner's language setting: it counts unless the person chose on this browser."""
    chosen = _request.get()
    if language in SUPPORTED and chosen is not None and not chosen.chosen:
        set_language(language)
        _request.set(RequestLanguage(language, False, chosen.path, chosen.query))


def language_links() -> list[tuple[str, str, str | None]]:
    """The switcher: (language, its name in itself, link to this page in it or None for the current)."""
    chosen = _request.get()
    out: list[tuple[str, str, str | None]] = []
    for language in SUPPORTED:
        if chosen is not None and language == chosen.language:
            out.append((language, LANGUAGE_NAMES[language], None))
            continue
        query = urlencode([*(chosen.query if chosen else ()), ("lang", language)])
        out.append((language, LANGUAGE_NAMES[language], f"{chosen.path if chosen else ''}?{query}"))
    return out


class LanguageChoice:
    """ASGI middleware: picks the request's language and marks HTML answers with it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        asked = next((supported_or_none(v) for k, v in query if k == "lang"), None)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        cookie = _cookie(headers.get("cookie", ""))
        language = asked or cookie or negotiate(headers.get("accept-language"))
        choice = RequestLanguage(language, asked is not None or cookie is not None, scope.get("path", "/"),
                                 tuple((k, v) for k, v in query if k != "lang"))
        language_token = set_language(language)
        token = _request.set(choice)
        secure = scope.get("scheme") == "https"

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                if out.get("content-type", "").startswith("text/html"):
                    out["Content-Language"] = (_request.get() or choice).language
                    out.add_vary_header("Accept-Language")
                    out.add_vary_header("Cookie")
                    if asked is not None and asked != cookie:
                        flags = "; Secure" if secure else ""
                        out.append("Set-Cookie", f"{COOKIE}={asked}; Max-Age={_YEAR}; Path=/; HttpOnly; SameSite=Lax{flags}")
            await send(message)

        try:
            await self.app(scope, receive, marked)
        finally:
            _request.reset(token)
            reset_language(language_token)


def _cookie(header: str) -> str | None:
    if COOKIE not in header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header from elsewhere on the site is not ours to judge
        return None
    morsel = jar.get(COOKIE)
    return supported_or_none(morsel.value) if morsel is not None else None
