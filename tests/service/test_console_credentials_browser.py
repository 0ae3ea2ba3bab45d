"""The console's credentials pages in a browser (headless Chromium against the live service on
loopback), as the certifying body's office uses them: an awarder finds a credential, revokes it
with a reason, and its public page says Revoked; an awarder corrects a misspelt name, and the new
credential's page shows the corrected name while the old one says Revoked. Every page of the
area (dashboard, search, credential, revoke form, correction form) is checked with axe-core: no
serious or critical violation.

Chromium runs as in test_public_browser.py: loopback only (every other request refused and
recorded; a test fails if one was tried), through tests/service/browsing.py, whose axe_problems
runs axe-core (npm) through the DevTools protocol, never served by the console.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import pytest_asyncio
from playwright.async_api import Page

from microcred.runtime import Runtime

from .browsing import DESKTOP, TABLET, Browsing, assert_accessible, browsing  # noqa: F401 (fixture)
from .console_helpers import add_staff, sign_in_browser
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.asyncio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


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


async def _signed_in(browsing: Browsing, live: LiveService, runtime: Runtime, email: str, roles: dict[str, str], device: dict[str, object] = DESKTOP) -> Page:
    """A browser page signed in as a new staff member, through the emailed link's confirmation."""
    page = await browsing.page(device)
    page.set_default_timeout(15_000)  # a missing element fails the test in seconds, not minutes
    await sign_in_browser(page, live.base_url, runtime, await add_staff(runtime, email, roles))
    return page



async def _tab_to(page: Page, name: str, *, presses: int = 40) -> None:
    """Press Tab until the focused element is the one named ``name`` (its text or its label)."""
    for _ in range(presses):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(
            "() => { const e = document.activeElement; if (!e) return ''; "
            "const label = e.id ? document.querySelector(`label[for='${e.id}']`) : null; "
            "return ((label && label.textContent) || e.textContent || '').trim(); }"
        )
        if focused == name:
            return
    pytest.fail(f"{presses} presses of Tab never reached {name!r} on {page.url}")


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
    await assert_accessible(page)

    await page.get_by_role("link", name="Credentials", exact=True).click()
    await page.get_by_label("Learner's name or email address").fill("jnasen")
    await page.get_by_label("Status").select_option(label="Valid")
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("link", name="Zoë Jnasen").click()
    await assert_accessible(page)
    assert await page.locator("#credential-status").inner_text() == "Valid"

    # by keyboard alone: Tab to the action, Enter; type the reason; Tab to the button, Enter
    await _tab_to(page, "Revoke")
    await page.keyboard.press("Enter")
    await page.get_by_label("Reason").wait_for()
    await assert_accessible(page)
    await _tab_to(page, "Reason")
    await page.keyboard.type("exam fraud found by the examiner")
    await _tab_to(page, "Revoke the credential")
    await page.keyboard.press("Enter")
    await page.get_by_text("The credential is revoked.").wait_for()
    assert await page.locator("#credential-status").inner_text() == "Revoked"
    assert await page.locator("#revocation-reason").inner_text() == "exam fraud found by the examiner"  # shown to staff
    await assert_accessible(page)

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
    await assert_accessible(page)
    name = page.get_by_label("Learner's name, corrected")
    assert await name.input_value() == "Zoë Jnasen"
    await name.fill("Zoë Jansen")
    await page.get_by_label("Note (optional)").fill("typo in the LMS export")
    await page.get_by_role("button", name="Revoke and reissue with this name").click()
    await page.get_by_text("The corrected credential is signed").wait_for()
    assert await page.locator("#learner-name").inner_text() == "Zoë Jansen"
    assert await page.locator("#credential-status").inner_text() == "Valid"
    await assert_accessible(page)
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
    await page.get_by_role("link", name=new_public).click()  # the old page points to its replacement
    await page.wait_for_url(new_public)


async def test_the_credentials_pages_fit_a_tablet_and_pass_axe_for_a_viewer(
    browsing: Browsing, live: LiveService, runtime: Runtime, office: Office
) -> None:
    page = await _signed_in(browsing, live, runtime, "vera@spe.example", {office.issuer_id: "viewer"}, TABLET)
    for path in ("/", "/credentials", f"/credentials?q=zz&from=2026-13-01", f"/credentials/{office.credential_id}"):
        response = await page.goto(f"{live.base_url}/console/{office.issuer_id}{path}")
        assert response is not None and response.status in (200, 422), (path, response and response.status)
        widths = await page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")
        assert widths[0] <= widths[1], f"{path} scrolls sideways on a tablet: {widths}"
        await assert_accessible(page)
    assert await page.get_by_role("link", name="Revoke").count() == 0  # a viewer is offered no change
