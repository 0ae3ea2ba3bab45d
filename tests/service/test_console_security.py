"""The console's security properties, through the ASGI app (no browser): every issuer route tried
by staff of another issuer (404) and by each role below the one it needs (403), found from the
app's own routes so that pages added later are covered without editing this file; CSRF refused
on every unsafe route; the session cookie's flags; a new session id at every sign-in; sign-in
attempts limited per address and per IP, across workers; sessions ending when idle."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import func, select, update

from microcred.app import create_app
from microcred.config import Settings
from microcred.console.web import route_role
from microcred.db.models import AuditEntry, StaffRole, StaffSession, StaffSignInAttempt
from microcred.runtime import Runtime, build_runtime
from microcred.staff.roles import ROLES
from microcred.staff.service import ATTEMPT_WINDOW
from microcred.tokens import token_digest

from ..factories.service import ServiceClient
from .conftest import BASE_URL
from .console_helpers import add_staff, csrf_of, sign_in
from .console_routes import console_routes
from .smtp_server import Smtp, smtp, smtp_settings  # noqa: F401 (fixtures)
from .soft_authenticator import SoftAuthenticator

pytestmark = pytest.mark.asyncio
LOCAL = "http://localhost:8000"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def settings(settings: Settings, smtp: Smtp) -> Settings:
    return smtp_settings(settings, smtp).model_copy(update={"base_url": LOCAL})


@pytest_asyncio.fixture
async def app(settings: Settings, runtime: Runtime) -> FastAPI:
    return create_app(settings, runtime=runtime, migrate=False)


def _client(app: FastAPI, base_url: str = LOCAL, ip: str = "127.0.0.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)), base_url=base_url)


@pytest_asyncio.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app) as client:
        yield client


@pytest_asyncio.fixture
async def issuers(http: httpx.AsyncClient, runtime: Runtime) -> tuple[str, str]:
    api = await ServiceClient.start(http, runtime)
    await api.create_issuer("spe", name="Society of Precision Engineers")
    await api.create_issuer("other", name="Other Society")
    return "spe", "other"


def _issuer_routes(app: FastAPI) -> list[tuple[str, str, str]]:
    """Every (method, path, role) of the console's issuer pages, with the path's other
    parameters filled in (their objects need not exist: access is decided first)."""
    found = []
    for full_path, route in console_routes(app):
        if not full_path.startswith("/console/{issuer_id}"):
            continue
        role = route_role(route)
        assert role in ROLES, f"{full_path} has no access(role) dependency: every issuer page must say who may see it"
        path = re.sub(r"\{(?!issuer_id\})[^}]+\}", "00000000-0000-4000-8000-000000000000", full_path)
        found.extend((method, path, role) for method in sorted(route.methods or ()) if method != "HEAD")
    return found


async def _request(client: httpx.AsyncClient, method: str, path: str, csrf: str) -> httpx.Response:
    if method in _UNSAFE:
        return await client.request(method, path, headers={"X-CSRF-Token": csrf}, data={"csrf_token": csrf})
    return await client.request(method, path)


class TestRouteMatrix:
    async def test_every_issuer_route_hides_the_issuer_from_other_staff_and_refuses_lower_roles(self, app, runtime, issuers) -> None:
        routes = _issuer_routes(app)
        assert ("GET", "/console/{issuer_id}/staff", "owner") in routes  # the matrix sees the pages
        clients: dict[str, tuple[httpx.AsyncClient, str]] = {}
        try:
            for who, roles in {"stranger": {"other": "owner"}, **{role: {"spe": role} for role in ROLES}}.items():
                client = _client(app)
                member = await add_staff(runtime, f"{who}@staff.example", roles)
                await sign_in(client, runtime, member)
                clients[who] = (client, csrf_of((await client.get("/console/passkeys")).text))
            for method, template, need in routes:
                path = template.replace("{issuer_id}", "spe")
                client, csrf = clients["stranger"]
                answer = await _request(client, method, path, csrf)
                assert answer.status_code == 404, f"{method} {path}: another issuer's owner got {answer.status_code}"
                assert "not on its staff" in answer.text
                for lower in ROLES[: ROLES.index(need)]:
                    client, csrf = clients[lower]
                    answer = await _request(client, method, path, csrf)
                    assert answer.status_code == 403, f"{method} {path} needs {need}: a {lower} got {answer.status_code}"
                    assert f"needs the {need} role" in answer.text
            async with runtime.sessions() as session:
                # None of the refused requests changed anything.
                assert await session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.actor.like("staff:%"))) == 0
            for method, template, need in routes:
                path = template.replace("{issuer_id}", "spe")
                client, csrf = clients[need]
                answer = await _request(client, method, path, csrf)
                assert answer.status_code not in (401, 403), f"{method} {path}: a {need} was refused"
        finally:
            for client, _ in clients.values():
                await client.aclose()


    async def test_every_issuer_page_sends_a_browser_that_is_not_signed_in_to_sign_in(self, app, http, issuers) -> None:
        for method, template, _ in _issuer_routes(app):
            if method != "GET":
                continue
            path = template.replace("{issuer_id}", "spe")
            answer = await http.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/console/sign-in?next="), path


class TestCsrf:
    async def test_every_unsafe_console_route_refuses_a_request_without_the_token(self, app, http, runtime, issuers) -> None:
        admin = await add_staff(runtime, "root@staff.example", admin=True)
        await sign_in(http, runtime, admin)
        other = _client(app)
        await sign_in(other, runtime, await add_staff(runtime, "other@staff.example", admin=True))
        foreign = csrf_of((await other.get("/console/passkeys")).text)
        await other.aclose()
        unsafe = [
            (method, re.sub(r"\{[^}]+\}", "spe", path))
            for path, route in console_routes(app)
            for method in route.methods or ()
            if method in _UNSAFE
        ]
        assert ("POST", "/console/spe/staff/invite") in unsafe and ("POST", "/console/passkeys") in unsafe
        for method, path in unsafe:
            for attempt in ({}, {"data": {"csrf_token": "forged"}}, {"data": {"csrf_token": foreign}}, {"headers": {"X-CSRF-Token": foreign}}):
                answer = await http.request(method, path, **attempt)  # type: ignore[arg-type]
                assert answer.status_code == 403, f"{method} {path} {attempt}: {answer.status_code}"
        assert (await http.get("/console/spe/")).status_code == 200  # still signed in: sign-out was refused too

    async def test_an_invitation_without_the_token_invites_nobody(self, http, runtime, smtp, issuers) -> None:
        owner = await add_staff(runtime, "olga@spe.example", {"spe": "owner"})
        await sign_in(http, runtime, owner)
        answer = await http.post("/console/spe/staff/invite", data={"email": "eve@spe.example", "role": "owner"})
        assert answer.status_code == 403 and smtp.mailbox.to("eve@spe.example") == []
        async with runtime.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(StaffRole)) == 1


def _set_cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    cookies = {}
    for header in response.headers.get_list("set-cookie"):
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(header)
        for name in parsed:
            cookies[name] = parsed
    return cookies


class TestSessionCookie:
    async def _signed_in_cookie(self, client: httpx.AsyncClient, runtime: Runtime, smtp: Smtp) -> tuple[dict[str, SimpleCookie], dict[str, SimpleCookie]]:
        await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        page = await client.get("/console/sign-in")
        before = _set_cookies(page)
        await client.post("/console/sign-in", data={"email": "ana@spe.example", "csrf_token": csrf_of(page.text)})
        link = smtp.mailbox.link("ana@spe.example", path="/console/sign-in/confirm")
        parts = httpx.URL(link)
        confirm = await client.get(parts.raw_path.decode())
        answer = await client.post(
            "/console/sign-in/confirm", data={"csrf_token": csrf_of(confirm.text), "token": parts.params["token"], "next": "/console"}
        )
        assert answer.status_code == 303
        return before, _set_cookies(answer)

    async def test_on_plain_http_localhost_they_are_httponly_samesite_without_secure(self, http, runtime, smtp, issuers) -> None:
        before, after = await self._signed_in_cookie(http, runtime, smtp)
        for cookies, name in ((before, "microcred_console"), (after, "microcred_staff")):
            morsel = cookies[name][name]
            assert morsel["httponly"] and morsel["samesite"].lower() in ("lax", "strict") and not morsel["secure"]

    async def test_a_passkey_sign_in_sets_the_same_cookie_as_an_email_one(self, settings, runtime, issuers) -> None:
        """Over https (the email sign-in's cookie is checked in test_console_cookies.py)."""
        https = build_runtime(settings.model_copy(update={"base_url": BASE_URL}))
        try:
            await self._passkey_sign_in_over_https(https, runtime)
        finally:
            await https.close()

    async def _passkey_sign_in_over_https(self, https: Runtime, runtime: Runtime) -> None:
        app = create_app(https.settings, runtime=https, migrate=False)
        member = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        key = SoftAuthenticator(BASE_URL)
        async with _client(app, BASE_URL) as client:
            await sign_in(client, runtime, member)
            csrf = csrf_of((await client.get("/console/passkeys")).text)
            options = (await client.post("/console/passkeys/options", headers={"X-CSRF-Token": csrf})).json()
            assert options["rp"]["id"] == "badges.example.org"
            await client.post("/console/passkeys", json={"name": "Laptop", "credential": key.create(options)}, headers={"X-CSRF-Token": csrf})
        async with _client(app, BASE_URL) as client:
            page = await client.get("/console/sign-in")
            csrf = re.search(r'data-csrf="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            options = (await client.post("/console/sign-in/passkey/options", headers={"X-CSRF-Token": csrf})).json()
            answer = await client.post("/console/sign-in/passkey", json={"credential": key.get(options)}, headers={"X-CSRF-Token": csrf})
            assert answer.status_code == 200, answer.text
            morsel = _set_cookies(answer)["__Host-microcred_staff"]["__Host-microcred_staff"]
            assert morsel["secure"] and morsel["httponly"] and morsel["samesite"].lower() == "lax" and morsel["path"] == "/"


class TestSessionFixation:
    async def test_a_passkey_sign_in_never_keeps_a_planted_or_earlier_session_id(self, http, runtime, issuers) -> None:
        member = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        await sign_in(http, runtime, member)
        key = SoftAuthenticator(LOCAL)
        csrf = csrf_of((await http.get("/console/passkeys")).text)
        options = (await http.post("/console/passkeys/options", headers={"X-CSRF-Token": csrf})).json()
        await http.post("/console/passkeys", json={"name": "Laptop", "credential": key.create(options)}, headers={"X-CSRF-Token": csrf})
        earlier = http.cookies["microcred_staff"]
        planted = "planted-by-someone-else-0000000000000000"
        given = []
        for cookie in (earlier, planted):
            http.cookies.set("microcred_staff", cookie)
            page = await http.get("/console/sign-in")
            csrf = re.search(r'data-csrf="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            options = (await http.post("/console/sign-in/passkey/options", headers={"X-CSRF-Token": csrf})).json()
            answer = await http.post("/console/sign-in/passkey", json={"credential": key.get(options)}, headers={"X-CSRF-Token": csrf})
            assert answer.status_code == 200, answer.text
            given.append(_set_cookies(answer)["microcred_staff"]["microcred_staff"].value)
        assert earlier not in given and planted not in given and given[0] != given[1]
        async with runtime.sessions() as session:
            left = {row.token_hash for row in (await session.scalars(select(StaffSession))).all()}
        assert token_digest(earlier) not in left  # the session it replaced ended

    async def test_an_email_sign_in_never_keeps_the_earlier_session_id(self, http, runtime, issuers) -> None:
        member = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        await sign_in(http, runtime, member)
        earlier = http.cookies["microcred_staff"]
        await sign_in(http, runtime, member)
        assert http.cookies["microcred_staff"] != earlier


async def _ask(client: httpx.AsyncClient, address: str) -> httpx.Response:
    page = await client.get("/console/sign-in")
    return await client.post("/console/sign-in", data={"email": address, "csrf_token": csrf_of(page.text)})


async def _passkey_try(client: httpx.AsyncClient) -> httpx.Response:
    page = await client.get("/console/sign-in")
    csrf = re.search(r'data-csrf="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return await client.post("/console/sign-in/passkey/options", headers={"X-CSRF-Token": csrf})


class TestSignInRateLimit:
    async def test_one_address_gets_a_few_emails_then_none_whatever_the_ip(self, app, runtime, smtp, issuers) -> None:
        await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        for i in range(8):
            async with _client(app, ip=f"10.0.0.{i + 1}") as client:
                assert (await _ask(client, "ana@spe.example")).status_code == 200
        assert len(smtp.mailbox.to("ana@spe.example")) == 5

    async def test_one_ip_gets_429_past_the_limit_and_another_ip_is_not_held_up(self, app, runtime, smtp, issuers) -> None:
        await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        async with _client(app, ip="192.0.2.7") as guesser:
            answers = [(await _ask(guesser, f"guess{i}@spe.example")).status_code for i in range(20)]
            assert answers == [200] * 20
            refused = await _ask(guesser, "ana@spe.example")
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
            assert (await _passkey_try(guesser)).status_code == 429  # passkey sign-ins count against the same limit
        async with _client(app, ip="198.51.100.9") as colleague:
            assert (await _ask(colleague, "ana@spe.example")).status_code == 200
        assert len(smtp.mailbox.to("ana@spe.example")) == 1

    async def test_passkey_sign_in_attempts_count_per_ip(self, app, runtime, issuers) -> None:
        async with _client(app, ip="192.0.2.8") as guesser:
            answers = [(await _passkey_try(guesser)).status_code for _ in range(21)]
        assert answers[:20] == [200] * 20 and answers[20] == 429

    async def test_attempts_older_than_the_window_are_forgotten(self, app, runtime, issuers) -> None:
        """The table holds one window's worth of attempts, not every attempt ever made."""
        old = datetime.now(UTC) - ATTEMPT_WINDOW - timedelta(seconds=1)
        async with runtime.sessions() as session, session.begin():
            session.add_all(StaffSignInAttempt(address_hash="0" * 64, client_hash="1" * 64, at=old) for _ in range(30))
        async with _client(app, ip="192.0.2.10") as client:
            assert (await _ask(client, "ana@spe.example")).status_code == 200
            assert (await _passkey_try(client)).status_code == 200
        async with runtime.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(StaffSignInAttempt)) == 2

    async def test_the_limit_holds_across_workers(self, settings, runtime, issuers) -> None:
        """Two workers (two apps, each with its own engine and memory) share the count: it is
        kept in the database."""
        second_runtime = build_runtime(settings)
        try:
            first = create_app(settings, runtime=runtime, migrate=False)
            second = create_app(settings, runtime=second_runtime, migrate=False)
            answers = []
            async with _client(first, ip="192.0.2.9") as a, _client(second, ip="192.0.2.9") as b:
                for i in range(10):
                    answers.append((await _ask(a, f"a{i}@spe.example")).status_code)
                    answers.append((await _ask(b, f"b{i}@spe.example")).status_code)
                answers.append((await _ask(a, "last@spe.example")).status_code)
            assert answers == [200] * 20 + [429]
        finally:
            await second_runtime.close()


    async def test_requests_at_the_same_moment_do_not_slip_past_the_limit(self, settings, runtime, issuers) -> None:
        """Thirty requests from one client at once, on two workers: exactly the limit's twenty
        get through (the count and the new attempt are one step per client)."""
        second_runtime = build_runtime(settings)
        try:
            first = create_app(settings, runtime=runtime, migrate=False)
            second = create_app(settings, runtime=second_runtime, migrate=False)
            async with _client(first, ip="192.0.2.11") as a, _client(second, ip="192.0.2.11") as b:
                pages = [await client.get("/console/sign-in") for client in (a, b)]
                csrf = [csrf_of(page.text) for page in pages]
                answers = await asyncio.gather(
                    *(
                        (a, b)[i % 2].post("/console/sign-in", data={"email": f"c{i}@spe.example", "csrf_token": csrf[i % 2]})
                        for i in range(30)
                    )
                )
            statuses = sorted(answer.status_code for answer in answers)
            assert statuses == [200] * 20 + [429] * 10
        finally:
            await second_runtime.close()


class TestIdleTimeout:
    async def test_a_session_unused_for_the_idle_time_ends_and_one_in_use_goes_on(self, http, runtime, settings, issuers) -> None:
        member = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
        await sign_in(http, runtime, member)
        almost = datetime.now(UTC) - timedelta(seconds=settings.staff_idle_seconds - 60)
        async with runtime.sessions() as session, session.begin():
            await session.execute(update(StaffSession).values(last_seen_at=almost))
        assert (await http.get("/console/spe/")).status_code == 200  # in use: seen again now
        async with runtime.sessions() as session:
            row = await session.scalar(select(StaffSession))
        assert row is not None and row.last_seen_at > almost
        long_ago = datetime.now(UTC) - timedelta(seconds=settings.staff_idle_seconds + 1)
        async with runtime.sessions() as session, session.begin():
            await session.execute(update(StaffSession).values(last_seen_at=long_ago))
        answer = await http.get("/console/spe/")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/console/sign-in")
        async with runtime.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(StaffSession)) == 0  # ended, not only refused
