"""The console's cookies on a real (https) deployment: the session cookie is HttpOnly, SameSite,
Secure and host-only (``__Host-``), and so is the pre-session browser id."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from microcred.app import create_app
from microcred.config import Settings
from microcred.runtime import Runtime

from ..factories.service import ServiceClient
from .console_helpers import add_staff, sign_in

pytestmark = pytest.mark.asyncio
BASE = "https://badges.example.org"


@pytest_asyncio.fixture
async def http(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, runtime=runtime, migrate=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client


async def test_cookies_are_host_only_secure_httponly_and_samesite(http: httpx.AsyncClient, runtime: Runtime) -> None:
    await (await ServiceClient.start(http, runtime)).create_issuer("spe")
    page = await http.get("/console/sign-in")
    browser_cookie = page.headers["set-cookie"]
    assert browser_cookie.startswith("__Host-microcred_console=")
    member = await add_staff(runtime, "ana@spe.example", {"spe": "viewer"})
    await sign_in(http, runtime, member)
    jar = {cookie.name: cookie for cookie in http.cookies.jar}
    session = jar["__Host-microcred_staff"]
    assert session.secure and session.path == "/" and not session.domain_specified
    assert session.has_nonstandard_attr("HttpOnly") and session.get_nonstandard_attr("SameSite", "").lower() == "lax"
    for flag in ("Secure", "HttpOnly", "SameSite=lax", "Path=/"):
        assert flag.lower() in browser_cookie.lower()
    assert (await http.get("/console/spe/")).status_code == 200
