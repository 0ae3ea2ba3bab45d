"""The public pages as a Dutch reader's browser shows them: Dutch words, Dutch dates, the switcher
by keyboard, and no serious accessibility problem in either language."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Page

from microcred.config import Settings

from .browsing import DESKTOP, PHONE, Browsing, axe_problems, browsing, screenshot  # noqa: F401 (fixture)
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.asyncio

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

DUTCH = {"locale": "nl-NL"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The verify page may fetch the credential a person pastes from this machine's live service."""
    return settings.model_copy(update={"verify_allow_loopback": True})


@pytest_asyncio.fixture
async def credential_url(live: LiveService) -> str:
    issuer = await live.client.create_issuer()
    achievement = await live.client.create_achievement(issuer["id"])
    response = await live.client.award(
        issuer["id"], achievement["id"], recipient={"email": "zoe@example.org", "name": "Zoë Jansen"}, completion_date="2026-03-03T10:00:00Z"
    )
    assert response.status_code == 201, response.text
    return str(response.json()["url"])


async def _open(page: Page, url: str) -> None:
    response = await page.goto(url)
    assert response is not None and response.status == 200, url


@sqlite_only
@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_a_dutch_browser_gets_the_credential_page_in_dutch_with_dutch_dates(
    browsing: Browsing, credential_url: str, device: dict[str, Any]
) -> None:
    page = await browsing.page({**device, **DUTCH})
    await _open(page, credential_url)
    assert await page.locator("html").get_attribute("lang") == "nl"
    banner = " ".join((await page.get_by_role("status").inner_text()).split())
    assert "Geldig" in banner, banner
    header = " ".join((await page.locator("header").inner_text()).split())
    assert "Toegekend aan Zoë Jansen" in header and "3 maart 2026" in header, header
    assert await page.get_by_text("Technische details").is_visible()
    assert await page.get_by_role("heading", name="Over dit credential").is_visible()
    assert await axe_problems(page) == []
    await screenshot(page, f"credential-nl-{'phone' if device is PHONE else 'desktop'}")


@sqlite_only
async def test_the_switcher_is_reached_by_keyboard_and_turns_the_page_english(browsing: Browsing, credential_url: str) -> None:
    page = await browsing.page({**DESKTOP, **DUTCH})
    await _open(page, credential_url)
    for _ in range(5):  # the switcher comes first on the page
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.getAttribute('hreflang')") == "en":
            break
    assert await page.evaluate("document.activeElement.textContent") == "English"
    await page.keyboard.press("Enter")
    await page.wait_for_load_state()
    assert await page.locator("html").get_attribute("lang") == "en"
    assert await page.get_by_text("Technical details").is_visible()
    assert "3 March 2026" in await page.locator("header").inner_text()
    # the choice sticks: the next page is English though the browser prefers Dutch
    await _open(page, credential_url.split("/credentials/")[0] + "/verify")
    assert await page.locator("html").get_attribute("lang") == "en"
    assert await axe_problems(page) == []


@sqlite_only
async def test_the_verify_page_checks_a_pasted_url_in_dutch(browsing: Browsing, credential_url: str) -> None:
    page = await browsing.page({**DESKTOP, **DUTCH})
    await _open(page, credential_url.split("/credentials/")[0] + "/verify")
    assert await page.get_by_role("heading", level=1).inner_text() == "Een credential controleren"
    await page.get_by_label("URL van het credential").fill(credential_url)
    await page.get_by_role("button", name="Controleer het credential op deze URL").click()
    banner = page.get_by_role("status")
    await banner.wait_for()
    assert await banner.get_attribute("data-status") == "valid"
    assert "Geldig" in await banner.inner_text()
    assert await page.get_by_text("Handtekening van de uitgever").first.is_visible()
    assert await axe_problems(page) == []
    await screenshot(page, "verify-nl")
