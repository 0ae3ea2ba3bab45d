"""The console's credentials pages in a browser (headless Chromium against the live service on
loopback), as the certifying body's office uses them: an awarder finds a credential, revokes it
with a reason, and its public page says Revoked; an awarder corrects a misspelt name, and the new
credential's page shows the corrected name while the old one says Revoked. Every page of the
area (dashboard, search, credential, revoke form, correction form) is checked with axe-core: no
serious or critical violation.

Chromium runs as in test_public_browser.py: loopback only (every other request refused and
recorded; a test fails if one was tried). Without /usr/bin/chromium the tests skip, unless
MICROCRED_TEST_REQUIRE_BROWSER=1, where they fail. axe-core comes from npm
(tests/interop/js/node_modules/axe-core), injected by the browser itself (an init script, which
the console's CSP does not apply to), never served by the console.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright

from microcred.db.models import StaffMember
from microcred.runtime import Runtime
from microcred.staff import service as staff_service

from .console_helpers import add_staff
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.asyncio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[1] / "interop" / "js" / "node_modules" / "axe-core" / "axe.min.js"
LOOPBACK_ONLY_FLAGS = [
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-sync",
    "--no-pings",
    "--dns-prefetch-disable",
]
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1"})
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
TABLET: dict[str, Any] = {"viewport": {"width": 820, "height": 1180}, "is_mobile": True, "has_touch": True}


def _chromium() -> str:
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    message = f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (apt-get install chromium) to run the browser tests"
    if os.environ.get("MICROCRED_TEST_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Browsing:
    browser: Browser
    refused: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)

    async def page(self, device: dict[str, Any]) -> Page:
        context = await self.browser.new_context(**device, locale="en-GB", service_workers="block")
        self.contexts.append(context)
        await context.add_init_script(path=str(AXE))
        await context.route("**/*", self._loopback_only)
        context.set_default_timeout(15_000)  # a missing element fails the test in seconds, not minutes
        return await context.new_page()

    async def _loopback_only(self, route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK_HOSTS:
            await route.continue_()
        else:
            self.refused.append(route.request.url)
            await route.abort("blockedbyclient")


@pytest_asyncio.fixture
async def browsing() -> AsyncIterator[Browsing]:
    executable = _chromium()
    assert AXE.is_file(), f"axe-core is missing at {AXE}: run npm ci in tests/interop/js"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=LOOPBACK_ONLY_FLAGS)
        browsing = Browsing(browser)
        try:
            yield browsing
        finally:
            for context in browsing.contexts:
                await context.close()
            await browser.close()
    assert browsing.refused == [], f"a page tried to reach beyond loopback: {browsing.refused}"


@dataclass(frozen=True)
class Office:
    issuer_id: str
    credential_id: str
    public_url: str


@pytest_asyncio.fixture
async def office(live: LiveService) -> Office:
    """An issuer, one achievement awarded to Zoë, whose name the LMS misspelt."""
    issuer = await live.client.create_issuer(name="Society of Precision Engineers")
    achievement = await live.client.create_achievement(issuer["id"])
    response = await live.client.award(issuer["id"], achievement["id"], recipient={"email": "zoe@example.org", "name": "Zoë Jnasen"})
    assert response.status_code == 201, response.text
    return Office(issuer["id"], response.json()["id"], response.json()["url"])


async def _signed_in(browsing: Browsing, live: LiveService, runtime: Runtime, email: str, roles: dict[str, str]) -> Page:
    """A browser page signed in as a new staff member, through the emailed link's confirmation."""
    member = await add_staff(runtime, email, roles)
    async with runtime.sessions() as session, session.begin():
        fresh = await session.get(StaffMember, member.id)
        assert fresh is not None
        token = await staff_service.issue_link(session, member=fresh, now=datetime.now(UTC))
    page = await browsing.page(DESKTOP)
    await page.goto(f"{live.base_url}/console/sign-in/confirm?token={token}")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{live.base_url}/console/**")
    return page


async def _axe(page: Page) -> None:
    """No serious or critical WCAG 2.x A/AA violation on the page, once it has loaded (its styles too)."""
    await page.wait_for_load_state("load")
    violations = await page.evaluate(
        """async () => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}});
            return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }"""
    )
    assert violations == [], f"{page.url}: {violations}"


async def _public_status(page: Page, url: str) -> tuple[str | None, str]:
    response = await page.goto(url)
    assert response is not None and response.status == 200
    banner = page.get_by_role("status")
    return await banner.get_attribute("data-status"), " ".join((await banner.inner_text()).split())


async def test_an_awarder_revokes_a_credential_and_its_public_page_says_revoked(
    browsing: Browsing, live: LiveService, runtime: Runtime, office: Office
) -> None:
    page = await _signed_in(browsing, live, runtime, "awa@spe.example", {office.issuer_id: "awarder"})
    assert (await page.goto(f"{live.base_url}/console/{office.issuer_id}/")) is not None
    assert await page.locator("#awards-week").inner_text() == "1"
    await _axe(page)

    await page.get_by_role("link", name="Credentials", exact=True).click()
    await page.get_by_label("Learner's name or email address").fill("jnasen")
    await page.get_by_label("Status").select_option(label="Valid")
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("link", name="Zoë Jnasen").click()
    await _axe(page)
    assert await page.locator("#credential-status").inner_text() == "Valid"

    await page.get_by_role("link", name="Revoke", exact=True).click()
    await _axe(page)
    await page.get_by_label("Reason").fill("exam fraud found by the examiner")
    await page.get_by_role("button", name="Revoke the credential").click()
    await page.get_by_text("The credential is revoked.").wait_for()
    assert await page.locator("#credential-status").inner_text() == "Revoked"
    assert await page.locator("#revocation-reason").inner_text() == "exam fraud found by the examiner"  # shown to staff
    await _axe(page)

    await page.get_by_role("link", name=office.public_url).click()
    banner = page.get_by_role("status")
    await banner.wait_for()
    assert await banner.get_attribute("data-status") == "revoked"
    assert " ".join((await banner.inner_text()).split()).startswith("✕ Revoked")
    assert "exam fraud" not in await page.content()


async def test_an_awarder_corrects_a_misspelt_name_and_the_new_credential_shows_it_while_the_old_says_revoked(
    browsing: Browsing, live: LiveService, runtime: Runtime, office: Office
) -> None:
    page = await _signed_in(browsing, live, runtime, "awa@spe.example", {office.issuer_id: "awarder"})
    await page.goto(f"{live.base_url}/console/{office.issuer_id}/credentials/{office.credential_id}")
    await page.get_by_role("link", name="Correct the name and reissue").click()
    await _axe(page)
    name = page.get_by_label("Learner's name, corrected")
    assert await name.input_value() == "Zoë Jnasen"
    await name.fill("Zoë Jansen")
    await page.get_by_label("Note (optional)").fill("typo in the LMS export")
    await page.get_by_role("button", name="Revoke and reissue with this name").click()
    await page.get_by_text("The corrected credential is signed").wait_for()
    assert await page.locator("#learner-name").inner_text() == "Zoë Jansen"
    assert await page.locator("#credential-status").inner_text() == "Valid"
    await _axe(page)
    new_public = await page.locator("td a.mono").get_attribute("href")
    assert new_public is not None and new_public != office.public_url

    await page.get_by_role("link", name="an earlier credential").click()
    assert await page.locator("#credential-status").inner_text() == "Revoked"
    assert await page.locator("#revocation-reason").inner_text() == "superseded"
    assert await page.get_by_text("Superseded: a corrected credential replaces it").is_visible()

    status, text = await _public_status(page, new_public)
    assert status == "valid" and text.startswith("✓ Valid"), text
    header = " ".join((await page.locator("header").inner_text()).split())
    assert "Awarded to Zoë Jansen" in header, header
    status, text = await _public_status(page, office.public_url)
    assert status == "revoked" and text.startswith("✕ Revoked"), text


async def test_the_credentials_pages_fit_a_tablet_and_pass_axe_for_a_viewer(
    browsing: Browsing, live: LiveService, runtime: Runtime, office: Office
) -> None:
    member = await _signed_in(browsing, live, runtime, "vera@spe.example", {office.issuer_id: "viewer"})
    cookies = await member.context.cookies()
    page = await browsing.page(TABLET)
    await page.context.add_cookies(cookies)  # type: ignore[arg-type]
    for path in ("/", "/credentials", f"/credentials?q=zz&from=2026-13-01", f"/credentials/{office.credential_id}"):
        response = await page.goto(f"{live.base_url}/console/{office.issuer_id}{path}")
        assert response is not None and response.status in (200, 422), (path, response and response.status)
        widths = await page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")
        assert widths[0] <= widths[1], f"{path} scrolls sideways on a tablet: {widths}"
        await _axe(page)
    assert await page.get_by_role("link", name="Revoke").count() == 0  # a viewer is offered no change
