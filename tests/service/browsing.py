"""Headless Chromium (Debian's) on the live service, kept on this machine, with an axe-core check.

``browsing`` (a fixture) opens pages whose every request passes a guard that refuses (and
records) anything off loopback; the fixture fails the test if a page tried. Chromium runs with
its background services off and every host name but localhost unresolvable. Without
/usr/bin/chromium the tests skip, unless MICROCRED_TEST_REQUIRE_BROWSER=1 (set by .ci/run), where
they fail. ``axe_problems(page)`` runs axe-core (npm, bundled in tests/interop/js) on the page as
it is and returns its serious and critical violations (WCAG 2.0/2.1/2.2 A and AA rules).
``screenshot`` keeps what a test saw when MICROCRED_TEST_SCREENSHOTS=<dir> is set.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, CDPSession, Page, Route, async_playwright, expect

__all__ = [
    "DESKTOP", "LOOPBACK_HOSTS", "LOOPBACK_ONLY_FLAGS", "PHONE", "TABLET", "Browsing", "assert_accessible", "axe_problems", "browsing", "screenshot",
    "virtual_authenticator",
]

#: Debian's build (scripts/ensure-chromium.sh installs it): Playwright's own download is unreachable.
CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[1] / "interop" / "js" / "node_modules" / "axe-core" / "axe.min.js"

#: On top of Playwright's defaults (which already turn off background networking, component
#: updates, sync and field trials): no proxy, no pings, no prefetch, and no host name but
#: localhost resolves, so nothing Chromium does by itself can leave the machine.
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

#: How long an ``expect(...)`` waits for a page to get where the test says: generous, because a
#: shared machine under load (CI runs beside other work) can take seconds to answer an htmx
#: request; a page that never gets there still fails, only later.
expect.set_options(timeout=20_000)

DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
TABLET: dict[str, Any] = {"viewport": {"width": 820, "height": 1180}, "is_mobile": True, "has_touch": True}
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def _chromium() -> str:
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    message = f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (apt-get install chromium) to run the browser tests"
    if os.environ.get("MICROCRED_TEST_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Browsing:
    """Opens pages whose every request is checked: loopback passes, anything else is refused."""

    browser: Browser
    #: URLs off loopback that a page tried to load (each was aborted before it left the browser)
    refused: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)

    async def context(self, device: dict[str, Any], *, locale: str | None = None) -> BrowserContext:
        """A browser context for ``device``; ``locale`` (or the device's own) is the browser's
        language, its Accept-Language: British English unless said otherwise."""
        settings = {"locale": "en-GB", **device, **({"locale": locale} if locale else {})}
        context = await self.browser.new_context(**settings, service_workers="block")
        self.contexts.append(context)
        await context.route("**/*", self._loopback_only)
        return context

    async def page(self, device: dict[str, Any], *, locale: str | None = None) -> Page:
        return await (await self.context(device, locale=locale)).new_page()

    async def _loopback_only(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOOPBACK_HOSTS:
            await route.continue_()
        else:
            self.refused.append(url)
            await route.abort("blockedbyclient")


@pytest_asyncio.fixture
async def browsing() -> AsyncIterator[Browsing]:
    executable = _chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=LOOPBACK_ONLY_FLAGS)
        session = Browsing(browser)
        try:
            yield session
        finally:
            for context in session.contexts:
                await context.close()
            await browser.close()
    assert session.refused == [], f"a page tried to reach beyond loopback: {session.refused}"


@cache
def _axe_source() -> str:
    return AXE.read_text("utf-8")


async def axe_problems(page: Page) -> list[str]:
    """axe-core's serious and critical WCAG A/AA violations on the page as it is now, one line
    each (rule, impact, the first offending element): an empty list when there are none.

    axe is evaluated through the DevTools protocol, which a page's Content-Security-Policy does
    not govern, so strict pages are checked as they are served."""
    await page.evaluate(_axe_source())
    result = await page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, target: (v.nodes[0] || {}).target, html: ((v.nodes[0] || {}).html || '').slice(0, 160)}));
        }"""
    )
    return [f"{v['id']} ({v['impact']}): {v['target']} {v['html']}" for v in result if v["impact"] in ("serious", "critical")]


async def assert_accessible(page: Page) -> None:
    """No serious or critical WCAG A/AA violation on the page, once it has loaded (its styles too)."""
    await page.wait_for_load_state("load")
    assert await axe_problems(page) == [], page.url


async def screenshot(page: Page, name: str) -> None:
    """For people reviewing a change: MICROCRED_TEST_SCREENSHOTS=<dir> keeps what the test saw."""
    folder = os.environ.get("MICROCRED_TEST_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


async def virtual_authenticator(context: BrowserContext, page: Page) -> tuple[CDPSession, str]:
    """Chromium's virtual authenticator, as a phone or laptop with a screen lock would be: it
    keeps discoverable credentials and verifies the user without asking. Returns the DevTools
    session and the authenticator's id (to read its credentials with ``WebAuthn.getCredentials``)."""
    cdp = await context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable", {"enableUI": False})
    added = await cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, str(added["authenticatorId"])
