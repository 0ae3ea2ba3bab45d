"""Learners' passkeys in headless Chromium against the live service, with Chromium's virtual
authenticator: a learner signs in by emailed link (read from a real aiosmtpd server), adds a
passkey in the backpack, signs out, signs in with the passkey and is back in the backpack, then
removes it; the sign-in page offers it in Dutch too. axe-core finds no serious or critical
violation on the pages; nothing is loaded from another host (the browsing fixture refuses it)."""

from __future__ import annotations

from typing import Any

import pytest

from microcred.config import Settings

from .browsing import DESKTOP, PHONE, Browsing, assert_accessible, browsing, virtual_authenticator  # noqa: F401 (fixture)
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)
from .smtp_server import Smtp, smtp, smtp_settings  # noqa: F401 (fixture: SMTP on loopback)

pytestmark = [pytest.mark.asyncio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

HOME = "zoe@example.org"


@pytest.fixture
def settings(settings: Settings, smtp: Smtp) -> Settings:
    return smtp_settings(settings, smtp)



@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_a_learner_adds_a_passkey_in_the_backpack_signs_out_and_signs_in_with_it(
    browsing: Browsing, live: LiveService, smtp: Smtp, device: dict[str, Any]
) -> None:
    context = await browsing.context(device)
    page = await context.new_page()
    page.set_default_timeout(15_000)
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
    cdp, authenticator = await virtual_authenticator(context, page)

    await page.goto(f"{live.base_url}/me")  # signed out: to the sign-in page
    await page.get_by_role("button", name="Sign in with a passkey").wait_for()  # our script ran under the CSP
    await assert_accessible(page)
    await page.get_by_label("Email address").fill(HOME)
    await page.get_by_role("button", name="Email me a sign-in link").click()
    await page.get_by_role("heading", name="Check your email").wait_for()
    await page.goto(smtp.mailbox.link(HOME, path="/learners/sign-in/confirm"))
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Your backpack").wait_for()
    await page.get_by_text("You have no passkey yet.").wait_for()

    await page.get_by_label("Name of the new passkey").fill("Zoë's phone")
    await page.get_by_role("button", name="Add a passkey").click()
    await page.get_by_role("button", name="Remove Zoë's phone").wait_for()
    assert "not used yet" in await page.locator("#passkeys").inner_text()
    await assert_accessible(page)
    [credential] = (await cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator}))["credentials"]
    assert credential["isResidentCredential"] and credential["rpId"] == "localhost"

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(f"{live.base_url}/learners/sign-in")
    await page.goto(f"{live.base_url}/me")
    await page.wait_for_url(f"{live.base_url}/learners/sign-in?next=%2Fme")
    await page.get_by_role("button", name="Sign in with a passkey").click()
    await page.wait_for_url(f"{live.base_url}/me")
    await page.get_by_role("heading", name="Your backpack").wait_for()
    assert HOME in await page.locator("main").inner_text()
    assert "last used" in await page.locator("#passkeys").inner_text()
    [used] = (await cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator}))["credentials"]
    assert used["signCount"] > credential["signCount"]

    await page.get_by_role("button", name="Remove Zoë's phone").click()
    await page.get_by_text("You have no passkey yet.").wait_for()
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(f"{live.base_url}/learners/sign-in")
    await page.get_by_role("button", name="Sign in with a passkey").click()
    await page.get_by_role("status").filter(has_text="not registered").wait_for()  # the removed one signs nobody in
    assert page.url == f"{live.base_url}/learners/sign-in"
    assert blocked == []


async def test_the_passkey_sign_in_speaks_dutch(browsing: Browsing, live: LiveService) -> None:
    context = await browsing.context(DESKTOP)
    page = await context.new_page()
    await virtual_authenticator(context, page)
    await page.goto(f"{live.base_url}/learners/sign-in?next=/me&lang=nl")
    button = page.get_by_role("button", name="Aanmelden met een passkey")
    await button.wait_for()
    assert await page.get_attribute("html", "lang") == "nl"
    assert "Of gebruik een passkey" in await page.locator("main").inner_text()
    await assert_accessible(page)
