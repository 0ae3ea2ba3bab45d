"""Rate limits on the public endpoints that cost the most (web/rate_limits.py): a client over the
limit gets 429 with Retry-After, counted per address (the one a trusted proxy names, never one a
client made up), every way to verify sharing one count and registration its own; the count
refills with time (an injected clock); other routes are never limited."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import pytest_asyncio

from microcred.app import create_app
from microcred.config import Settings, SettingsError, load_settings
from microcred.runtime import Runtime
from microcred.web.rate_limits import Limiter

from ..factories.service import ServiceClient
from .conftest import is_problem

LIMIT = 3  # a minute: one request every 20 seconds, three at once
#: A URL the verifier refuses before any network traffic (a loopback address).
UNFETCHABLE = "https://127.0.0.1/credential.json"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The limits keep nothing in the database: one backend is enough."""
    return sqlite_url


class ManualClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


Connect = Callable[..., Any]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def limited(settings: Settings) -> Settings:
    return settings.model_copy(update={"verify_requests_per_minute": LIMIT, "oauth_registrations_per_minute": LIMIT})


@pytest_asyncio.fixture
async def connect(limited: Settings, runtime: Runtime, clock: ManualClock) -> AsyncIterator[Connect]:
    """``connect(address, settings=limited)``: an HTTP client whose requests come from ``address``."""
    apps: dict[str, Any] = {}

    @asynccontextmanager
    async def from_address(address: str, settings: Settings = limited) -> AsyncIterator[httpx.AsyncClient]:
        key = settings.model_dump_json()
        if key not in apps:  # one app (one count) per settings, shared by every address
            apps[key] = create_app(settings, runtime=runtime, migrate=False, rate_limit_clock=clock)
        transport = httpx.ASGITransport(app=apps[key], client=(address, 40_000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http

    yield from_address


#: One request to each way to verify (all counted together): (method, path, keyword arguments).
VERIFY_REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/api/v1/verify", {"content": b"{}", "headers": {"Content-Type": "application/ld+json"}}),
    ("GET", "/api/v1/verify", {"params": {"url": UNFETCHABLE}}),
    ("POST", "/credentials/verify", {"json": {}}),
    ("POST", "/presentations/verify", {"json": {}}),
    ("POST", "/verify", {"files": {"file": ("badge.json", b"{}", "application/json")}}),
    ("GET", "/verify", {"params": {"url": UNFETCHABLE}}),
    ("POST", "/catalogue/gap-check", {"data": {"urls": UNFETCHABLE}}),
]


async def use_up(http: httpx.AsyncClient, path: str = "/api/v1/verify", **kwargs: Any) -> None:
    """Spend the client's whole quota on ``path`` (a verification, unless said otherwise)."""
    if not kwargs:
        kwargs = {"params": {"url": UNFETCHABLE}}
    method = "GET" if "params" in kwargs else "POST"
    for _ in range(LIMIT):
        response = await http.request(method, path, **kwargs)
        assert response.status_code != 429, response.text


async def is_refused(http: httpx.AsyncClient) -> httpx.Response:
    response = await http.get("/api/v1/verify", params={"url": UNFETCHABLE})
    is_problem(response, 429)
    return response


@pytest.mark.asyncio
class TestVerification:
    @pytest.mark.parametrize("method,path,kwargs", VERIFY_REQUESTS, ids=[f"{m} {p}" for m, p, _ in VERIFY_REQUESTS])
    async def test_each_way_to_verify_is_counted_and_refused_past_the_limit(
        self, connect: Connect, method: str, path: str, kwargs: dict[str, Any]
    ) -> None:
        async with connect("198.51.100.7") as http:
            remaining = []
            for _ in range(LIMIT):
                response = await http.request(method, path, **kwargs)
                assert response.status_code != 429, response.text
                assert response.headers["RateLimit-Policy"] == f'"verify";q={LIMIT};w=60'
                remaining.append(response.headers["RateLimit"])
            assert remaining == ['"verify";r=2;t=20', '"verify";r=1;t=20', '"verify";r=0;t=20']
            refused = await http.request(method, path, **kwargs)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "20"
        assert refused.headers["RateLimit"] == '"verify";r=0;t=20'

    async def test_every_way_to_verify_shares_one_count(self, connect: Connect) -> None:
        async with connect("198.51.100.7") as http:
            for method, path, kwargs in VERIFY_REQUESTS[:LIMIT]:
                assert (await http.request(method, path, **kwargs)).status_code != 429
            for method, path, kwargs in VERIFY_REQUESTS:
                assert (await http.request(method, path, **kwargs)).status_code == 429, f"{method} {path}"

    async def test_over_the_limit_the_api_answers_problem_json_with_retry_after(self, connect: Connect) -> None:
        async with connect("198.51.100.7") as http:
            await use_up(http)
            response = await http.post("/credentials/verify", json={})
        problem = is_problem(response, 429)
        assert problem["instance"] == "/credentials/verify"
        assert "3 verifications a minute" in problem["detail"] and "20 s" in problem["detail"]
        assert response.headers["Retry-After"] == "20"

    async def test_over_the_limit_the_verify_page_says_so_in_the_readers_language(self, connect: Connect) -> None:
        async with connect("198.51.100.7") as http:
            await use_up(http)
            english = await http.post("/verify", files={"file": ("badge.json", b"{}", "application/json")})
            dutch = await http.get("/verify", params={"url": UNFETCHABLE}, headers={"Accept-Language": "nl"})
            form = await http.get("/verify")
        assert english.status_code == 429 and english.headers["content-type"].startswith("text/html")
        assert english.headers["Retry-After"] == "20"
        assert "Try again in 20 seconds." in english.text
        assert dutch.status_code == 429 and "Probeer het over 20 seconden opnieuw." in dutch.text
        assert form.status_code == 200, "the empty form checks nothing, so it is never refused"

    async def test_another_address_is_not_limited(self, connect: Connect) -> None:
        async with connect("198.51.100.7") as first, connect("198.51.100.8") as second:
            await use_up(first)
            await is_refused(first)
            response = await second.get("/api/v1/verify", params={"url": UNFETCHABLE})
        assert response.status_code == 422 and response.headers["RateLimit"] == '"verify";r=2;t=20'

    async def test_an_ipv6_client_counts_per_64(self, connect: Connect) -> None:
        async with (
            connect("2001:db8:1:2::1") as host,
            connect("2001:db8:1:2:ffff::9") as same_network,
            connect("2001:db8:1:3::1") as next_network,
        ):
            await use_up(host)
            await is_refused(same_network)
            assert (await next_network.get("/api/v1/verify", params={"url": UNFETCHABLE})).status_code == 422

    async def test_the_count_refills_with_time(self, connect: Connect, clock: ManualClock) -> None:
        async with connect("198.51.100.7") as http:
            await use_up(http)
            clock.advance(19)
            assert (await is_refused(http)).headers["Retry-After"] == "1"
            clock.advance(1)
            assert (await http.get("/api/v1/verify", params={"url": UNFETCHABLE})).status_code == 422
            await is_refused(http)
            clock.advance(60)  # a whole window: the full quota again
            await use_up(http)
            await is_refused(http)

    async def test_a_limit_of_zero_turns_it_off(self, connect: Connect, limited: Settings) -> None:
        unlimited = limited.model_copy(update={"verify_requests_per_minute": 0})
        async with connect("198.51.100.7", unlimited) as http:
            for _ in range(3 * LIMIT):
                response = await http.get("/api/v1/verify", params={"url": UNFETCHABLE})
                assert response.status_code == 422 and "RateLimit" not in response.headers
            await use_up(http, "/oauth/register", json={})
            assert (await http.post("/oauth/register", json={})).status_code == 429, "the other limit still holds"


@pytest.mark.asyncio
class TestRegistration:
    async def test_registration_has_its_own_limit(self, connect: Connect) -> None:
        async with connect("198.51.100.7") as http:
            for _ in range(LIMIT):
                response = await http.post("/oauth/register", json={})
                assert response.status_code == 400 and response.headers["RateLimit"].startswith('"registration";')
            refused = await http.post("/oauth/register", json={"client_name": "x", "redirect_uris": ["https://host.example/cb"]})
            verified = await http.get("/api/v1/verify", params={"url": UNFETCHABLE})
        problem = is_problem(refused, 429)
        assert "3 client registrations a minute" in problem["detail"]
        assert refused.headers["Retry-After"] == "20"
        assert refused.headers["RateLimit-Policy"] == f'"registration";q={LIMIT};w=60'
        assert verified.status_code == 422, "verifications are counted apart"


@pytest.mark.asyncio
class TestForwardedAddresses:
    async def test_a_made_up_forwarded_address_changes_nothing(self, connect: Connect) -> None:
        async with connect("198.51.100.7") as http:
            for n in range(LIMIT):
                headers = {"X-Forwarded-For": f"203.0.113.{n}"}
                assert (await http.get("/api/v1/verify", params={"url": UNFETCHABLE}, headers=headers)).status_code == 422
            response = await http.get("/api/v1/verify", params={"url": UNFETCHABLE}, headers={"X-Forwarded-For": "203.0.113.99"})
        is_problem(response, 429)

    async def test_behind_a_trusted_proxy_the_client_it_names_is_counted(self, connect: Connect, limited: Settings) -> None:
        proxied = limited.model_copy(update={"trusted_proxies": ("10.0.0.0/8",)})
        async with connect("10.0.0.5", proxied) as proxy:
            # The client's own X-Forwarded-For (first) is kept by the proxy, which appends the
            # address it saw: the right-most address that is not a trusted proxy is the client.
            for spoofed in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
                headers = {"X-Forwarded-For": f"{spoofed}, 203.0.113.7, 10.0.0.9"}
                assert (await proxy.get("/api/v1/verify", params={"url": UNFETCHABLE}, headers=headers)).status_code == 422
            over = await proxy.get("/api/v1/verify", params={"url": UNFETCHABLE}, headers={"X-Forwarded-For": "203.0.113.7"})
            other = await proxy.get("/api/v1/verify", params={"url": UNFETCHABLE}, headers={"X-Forwarded-For": "203.0.113.8"})
        is_problem(over, 429)
        assert other.status_code == 422, "another client behind the same proxy has its own count"


class TestSettings:
    def test_a_trusted_proxy_must_be_an_address_or_network(self) -> None:
        with pytest.raises(SettingsError) as caught:
            load_settings(key_passphrase="x", trusted_proxies="10.0.0.0/8, proxy.internal")
        assert "MICROCRED_TRUSTED_PROXIES" in str(caught.value) and "'proxy.internal' is not an IP address" in str(caught.value)
        assert load_settings(key_passphrase="x", trusted_proxies="10.1.2.3/8, ::1").trusted_proxies == ("10.0.0.0/8", "::1")


@pytest.mark.asyncio
class TestOtherRoutes:
    async def test_an_authenticated_admin_endpoint_is_not_limited(self, connect: Connect, runtime: Runtime) -> None:
        async with connect("198.51.100.7") as http:
            service = await ServiceClient.start(http, runtime)
            await use_up(http)
            for _ in range(3 * LIMIT):
                response = await http.get("/api/v1/issuers", headers=service.admin)
                assert response.status_code == 200 and "RateLimit" not in response.headers


class TestLimiter:
    def test_clients_whose_count_is_full_again_are_forgotten(self, clock: ManualClock) -> None:
        limiter = Limiter("verify", LIMIT, clock=clock)
        for n in range(1000):
            limiter.hit(f"client-{n}")
        assert len(limiter) == 1000
        clock.advance(20)  # each of them has a whole quota again
        limiter.hit("another")
        assert len(limiter) == 1

    def test_past_its_room_it_forgets_the_least_recently_seen(self, clock: ManualClock) -> None:
        limiter = Limiter("verify", 1, clock=clock, max_clients=10)
        for n in range(20):
            assert limiter.hit(f"client-{n}").allowed
        assert len(limiter) == 10
        assert limiter.hit("client-0").allowed, "forgotten: it starts afresh"
        assert not limiter.hit("client-19").allowed
