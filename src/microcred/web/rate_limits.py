"""Rate limits per client address on the public endpoints that cost the most: verification
(every upload is parsed, canonicalized and its signatures checked; a URL is fetched first) and
OAuth dynamic client registration (anyone may register, and every registration is a row).

Over its limit a client gets 429 with ``Retry-After`` (whole seconds until a request would pass)
as problem+json, or, on the verify page, the page with the same words; every answer of a limited
route carries ``RateLimit-Policy`` and ``RateLimit`` (draft-ietf-httpapi-ratelimit-headers).
Other routes pay one dictionary look-up.

The count is GCRA (the generic cell rate algorithm): one number per client, the time its
"bucket" of ``limit`` requests would be full again, so a client may send ``limit`` requests at
once and then one every ``60 / limit`` seconds, and the answer says exactly when the next one
passes. Counted in integers (a minute is ``60_000_000 * limit`` units), so the limit holds exactly
whatever it is. We do not use the ``limits`` package (slowapi's engine): its in-memory storage
reads the wall clock itself (a test of the window would have to sleep or patch ``time``), and its
async storage starts a task per request that sweeps every stored key, one thread hop per key;
slowapi adds a decorator and a ``request`` argument to every limited route. What we need is the
twenty lines of :class:`Limiter`.

The client is the connecting address: behind a reverse proxy, :func:`microcred.app.create_app`
puts uvicorn's ``ProxyHeadersMiddleware`` in front of everything for the proxies listed in
``MICROCRED_TRUSTED_PROXIES``, which takes the right-most address of ``X-Forwarded-For`` that is
not one of them; from any other peer the header changes nothing. IPv6 clients count per /64 (one
host usually has a whole /64, and could otherwise take a fresh address for every request).

State is per process and in memory: with ``MICROCRED_WORKERS`` above 1 each worker counts for
itself, so a client may get up to ``workers`` times the limit (its keep-alive connection stays
with one worker, so mostly it does not). Where a strict shared limit matters, put it in the
reverse proxy (nginx ``limit_req``, HAProxy stick tables), keyed by the address it sees. Memory
stays bounded: a client whose bucket is full again is forgotten (checked on each limited
request, oldest first), and past ``max_clients`` the least recently seen one is dropped (it
starts afresh if it returns).
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..problems import TooManyRequests
from .problems import PROBLEM_JSON

__all__ = ["Clock", "LimitedRoute", "Limiter", "RateLimit", "RateLimits", "Verdict", "client_key"]

#: Seconds from an arbitrary start that never goes back (``time.monotonic``); tests pass their own.
Clock = Callable[[], float]
#: The answer to a refused request that is not problem+json (a page for people), given the
#: whole seconds until a request would pass; the rate-limit headers are added to it.
Refusal = Callable[[int], Response]

_MICROSECONDS = 1_000_000
_WINDOW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    #: requests that would pass right now (after this one, if it passed)
    remaining: int
    #: whole seconds until one more request would pass: the Retry-After of a refusal
    wait: int


class Limiter:
    """GCRA for one policy: ``limit`` requests a minute per client key, ``limit`` at once at most."""

    def __init__(self, name: str, limit: int, *, clock: Clock = time.monotonic, max_clients: int = 65_536) -> None:
        if limit < 1 or max_clients < 1:
            raise ValueError("a limiter needs a limit and room for at least one client")
        self.name, self.limit, self.max_clients = name, limit, max_clients
        self._clock = clock
        # Time is counted in units of 1/limit microsecond, so that one request's cost (a minute
        # divided by the limit) is a whole number of units.
        self._cost = _WINDOW_SECONDS * _MICROSECONDS
        self._window = self._cost * limit
        self._full_again: OrderedDict[str, int] = OrderedDict()  # least recently seen first

    def __len__(self) -> int:
        """How many clients it remembers."""
        return len(self._full_again)

    def hit(self, key: str) -> Verdict:
        """Count a request from ``key`` unless it is over the limit."""
        now = round(self._clock() * _MICROSECONDS) * self.limit
        self._forget_full(now)
        after = max(self._full_again.get(key, now), now) + self._cost
        if after - now > self._window:
            self._full_again.move_to_end(key)  # still sending: not the one to drop when memory is short
            return Verdict(False, 0, self._seconds(after - self._window - now))
        self._full_again[key] = after
        self._full_again.move_to_end(key)
        if len(self._full_again) > self.max_clients:
            self._full_again.popitem(last=False)
        room = self._window - (after - now)
        return Verdict(True, room // self._cost, self._seconds(self._cost - room % self._cost))

    def headers(self, verdict: Verdict) -> dict[str, str]:
        """``RateLimit-Policy`` and ``RateLimit`` for an answer under this policy: ``r`` requests
        may follow within ``t`` seconds."""
        return {
            "RateLimit-Policy": f'"{self.name}";q={self.limit};w={_WINDOW_SECONDS}',
            "RateLimit": f'"{self.name}";r={verdict.remaining};t={verdict.wait}',
        }

    def _forget_full(self, now: int) -> None:
        # A bucket is full again at most a minute after its client's last counted request, and
        # the least recently seen come first: whatever is left after the first one still in use
        # was seen later, and is forgotten within the minute.
        while self._full_again:
            key, full_again = next(iter(self._full_again.items()))
            if full_again > now:
                return
            del self._full_again[key]

    def _seconds(self, units: int) -> int:
        return -(-units // (self.limit * _MICROSECONDS))  # rounded up: a client told 0 would come back at once


@dataclass(frozen=True)
class LimitedRoute:
    method: str
    path: str
    #: counted only when this query parameter is given (the verify page's GET checks a URL
    #: only when it has one; the empty form costs nothing)
    query: str | None = None
    #: how a refusal is answered when not with problem+json
    page: Refusal | None = None


@dataclass(frozen=True)
class RateLimit:
    """A policy: its routes share one count per client. ``per_minute`` 0 turns it off."""

    name: str
    per_minute: int
    routes: Sequence[LimitedRoute]
    #: what is counted, for the refusal's words ("verifications")
    what: str = "requests"


def client_key(scope: Scope) -> str:
    """Whom a request is counted against: its client's address (a proxy's client, where the
    proxy is trusted), an IPv6 address's /64."""
    client = scope.get("client")
    host: str = client[0] if client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # a Unix socket's peer, or none: all such requests share one count
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return host


class RateLimits:
    """ASGI middleware: counts the requests of the given routes per client, refuses those over."""

    def __init__(self, app: ASGIApp, *, limits: Sequence[RateLimit], clock: Clock = time.monotonic) -> None:
        self.app = app
        self._routes: dict[tuple[str, str], tuple[Limiter, LimitedRoute, RateLimit]] = {}
        for policy in limits:
            if policy.per_minute == 0:
                continue
            limiter = Limiter(policy.name, policy.per_minute, clock=clock)
            for route in policy.routes:
                self._routes[(route.method, route.path)] = (limiter, route, policy)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._routes.get((scope["method"], scope["path"])) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        limiter, route, policy = found
        if route.query is not None and not _given(scope, route.query):
            await self.app(scope, receive, send)
            return
        verdict = limiter.hit(client_key(scope))
        headers = limiter.headers(verdict)
        if not verdict.allowed:
            response = _refusal(scope, route, policy, verdict.wait)
            response.headers.update({**headers, "Retry-After": str(verdict.wait)})
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _given(scope: Scope, parameter: str) -> bool:
    query = scope.get("query_string", b"").decode("latin-1")
    return any(name == parameter and value for name, value in parse_qsl(query, keep_blank_values=True))


def _refusal(scope: Scope, route: LimitedRoute, policy: RateLimit, wait: int) -> Response:
    if route.page is not None:
        return route.page(wait)
    problem = TooManyRequests(
        f"more than {policy.per_minute} {policy.what} a minute from your address; the next one is accepted in {wait} s"
    )
    return JSONResponse(problem.to_dict(instance=scope["path"]), status_code=problem.status, media_type=PROBLEM_JSON)
