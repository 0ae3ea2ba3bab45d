"""Staff members and signed-in console clients for the console's tests.

``add_staff`` makes a member (with roles per issuer, or a service admin) straight in the database;
``sign_in`` signs an HTTP client in the way a person does: a one-time link (issued as the email
would carry it), its confirmation page, and that page's form. ``csrf_of`` reads the CSRF token a
page's forms carry.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import pytest_asyncio

from microcred.app import create_app
from microcred.config import Settings
from microcred.db.base import new_id
from microcred.db.models import StaffMember, StaffRole
from microcred.runtime import Runtime
from microcred.staff import service as staff_service

__all__ = ["LOCAL", "add_staff", "csrf_of", "http", "settings", "sign_in", "sign_in_browser", "sign_in_with_link"]

#: The base URL of the console tests' service: on localhost, so its development mailer writes
#: each email to ``data/mail/`` (a test reads the link from the message) and cookies are plain.
LOCAL = "http://localhost:8000"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Import into a test module (with ``http``) to serve the console at :data:`LOCAL`."""
    return settings.model_copy(update={"base_url": LOCAL})


@pytest_asyncio.fixture
async def http(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app (ASGI, no socket) at :data:`LOCAL`, keeping cookies."""
    app = create_app(settings, runtime=runtime, migrate=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=LOCAL) as client:
        yield client

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


async def add_staff(runtime: Runtime, email: str, roles: dict[str, str] | None = None, *, admin: bool = False) -> StaffMember:
    now = datetime.now(UTC)
    async with runtime.sessions() as session, session.begin():
        member = StaffMember(id=new_id(), email=email.lower(), is_admin=admin, created_at=now)
        session.add(member)
        await session.flush()
        for issuer_id, role in (roles or {}).items():
            session.add(StaffRole(staff_id=member.id, issuer_id=issuer_id, role=role, created_at=now))
    return member


async def sign_in_with_link(http: httpx.AsyncClient, link: str) -> httpx.Response:
    """Open an emailed sign-in link and press its Sign in button; the answer to that (a 303)."""
    parts = urlsplit(link)
    page = await http.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200, page.text
    query = parse_qs(parts.query)
    form = {"csrf_token": csrf_of(page.text), "token": query["token"][0], "next": query.get("next", ["/console"])[0]}
    return await http.post("/console/sign-in/confirm", data=form)


async def sign_in(http: httpx.AsyncClient, runtime: Runtime, member: StaffMember) -> None:
    """Sign ``http`` in as ``member`` with a fresh one-time link."""
    async with runtime.sessions() as session, session.begin():
        fresh = await session.get(StaffMember, member.id)
        assert fresh is not None
        token = await staff_service.issue_link(session, member=fresh, now=datetime.now(UTC))
    answer = await sign_in_with_link(http, f"/console/sign-in/confirm?token={token}")
    assert answer.status_code == 303, answer.text


async def sign_in_browser(page: Any, base_url: str, runtime: Runtime, member: StaffMember, next_path: str = "/console") -> None:
    """Sign a browser page in as ``member``: open a fresh one-time link (as from the email) and
    press Sign in, as a person does."""
    async with runtime.sessions() as session, session.begin():
        fresh = await session.get(StaffMember, member.id)
        assert fresh is not None
        token = await staff_service.issue_link(session, member=fresh, now=datetime.now(UTC))
    await page.goto(f"{base_url}/console/sign-in/confirm?{urlencode({'token': token, 'next': next_path})}")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_load_state()
