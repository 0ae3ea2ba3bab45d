"""The public pages as a person sees them in a browser: headless Chromium (Debian's) against the
real service on loopback.

A valid credential's page says Valid, names the learner, the achievement and the issuer, offers
LinkedIn's Add-to-profile link (reachable by keyboard) and fits a phone; a revoked one says Revoked
and offers no link; the verify page gives the same verdicts for a pasted URL and an uploaded file.

The browser stays on this machine: Chromium runs with its background services off and every host
name but localhost unresolvable, and each page's requests pass a guard that refuses (and records)
any request off loopback; a test fails if one was attempted. Without /usr/bin/chromium the tests
skip, unless MICROCRED_TEST_REQUIRE_BROWSER=1 (set by .ci/run), where they fail.

MICROCRED_TEST_SCREENSHOTS=<dir> saves full-page screenshots of what the tests saw there. Each
page also passes axe-core (no serious or critical violation). The browser plumbing is in
``browsing.py``, shared with the console's browser tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Page

from microcred.config import Settings

from .browsing import DESKTOP, PHONE, Browsing, axe_problems, browsing, screenshot  # noqa: F401 (fixture)
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.asyncio

#: What is on a page does not depend on the database; the PostgreSQL half would add nothing here.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

LEARNER = {"email": "zoe@example.org", "name": "Zoë Jansen"}

#: The LinkedIn link is the 10th stop of the keyboard today (after the issuer's site, two links on
#: how to verify, five downloads and the page's own address); room for a few more, not for burying it.
MAX_TABS_TO_LINKEDIN = 20


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The verify page may fetch the credential a person pastes from this machine's live service."""
    return settings.model_copy(update={"verify_allow_loopback": True})


@dataclass(frozen=True)
class Credential:
    url: str
    credential_id: str
    document: dict[str, Any]


@dataclass(frozen=True)
class Awarded:
    issuer: dict[str, Any]
    #: the achievements' names, as their pages title them
    valid_title: str
    valid: Credential
    revoked_title: str
    revoked: Credential


async def _award(live: LiveService, issuer_id: str, achievement_id: str) -> Credential:
    response = await live.client.award(issuer_id, achievement_id, recipient=LEARNER)
    assert response.status_code == 201, response.text
    body = response.json()
    document = body["credential"]
    assert document["id"].startswith(f"{live.base_url}/credentials/"), document["id"]
    return Credential(document["id"], body["id"], document)


@pytest_asyncio.fixture
async def awarded(live: LiveService) -> Awarded:
    """Two achievements of one issuer awarded to Zoë; the second award revoked through the API."""
    issuer = await live.client.create_issuer()
    achievement = await live.client.create_achievement(issuer["id"])
    valid = await _award(live, issuer["id"], achievement["id"])
    revoked_achievement = await live.client.create_achievement(issuer["id"], name="Measuring Parts to ±2 µm")
    revoked = await _award(live, issuer["id"], revoked_achievement["id"])
    response = await live.client.http.post(
        f"/api/v1/issuers/{issuer['id']}/credentials/{revoked.credential_id}/revoke",
        json={"reason": "awarded by mistake"},
        headers=live.client.admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked"
    return Awarded(issuer, achievement["document"]["name"], valid, revoked_achievement["document"]["name"], revoked)


async def _banner(page: Page) -> tuple[str | None, str]:
    """The status banner: its machine-readable status and what it says to a person."""
    banner = page.get_by_role("status")
    await banner.wait_for(state="visible")
    return await banner.get_attribute("data-status"), " ".join((await banner.inner_text()).split())


async def _open(page: Page, url: str) -> None:
    response = await page.goto(url)
    assert response is not None and response.status == 200, (url, response and response.status)
    assert (response.headers.get("content-type") or "").startswith("text/html"), response.headers


@sqlite_only
async def test_the_valid_credentials_page_says_valid_and_shows_who_what_and_by_whom(browsing: Browsing, awarded: Awarded) -> None:
    page = await browsing.page(DESKTOP)
    await _open(page, awarded.valid.url)

    status, text = await _banner(page)
    assert status == "valid"
    assert text.startswith("✓ Valid"), text
    assert await page.get_by_role("heading", level=1).inner_text() == awarded.valid_title
    header = " ".join((await page.locator("header").inner_text()).split())
    assert "Awarded to Zoë Jansen" in header, header
    assert f"Issued by {awarded.issuer['name']}" in header, header
    assert await page.title() == f"{awarded.valid_title} · {awarded.issuer['name']}"
    await screenshot(page, "valid-desktop")


@sqlite_only
async def test_the_linkedin_link_carries_the_certification_and_is_reached_by_keyboard(browsing: Browsing, awarded: Awarded) -> None:
    page = await browsing.page(DESKTOP)
    await _open(page, awarded.valid.url)

    link = page.locator("#linkedin-add")
    assert await link.is_visible()
    assert (await link.inner_text()).strip() == "Add to LinkedIn profile"
    href = await link.get_attribute("href")
    assert href == f"{awarded.valid.url}/linkedin", href  # our own URL: it counts the click, then redirects
    async with httpx.AsyncClient() as http:
        followed = await http.get(href)
    assert followed.status_code == 303, followed.text
    parts = urlsplit(followed.headers["location"])
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    completed = datetime.fromisoformat(awarded.valid.document["awardedDate"])  # when it was earned, not signed
    assert parse_qs(parts.query, strict_parsing=True) == {
        "startTask": ["CERTIFICATION_NAME"],
        "name": [awarded.valid_title],
        "organizationName": [awarded.issuer["name"]],
        "issueYear": [str(completed.year)],
        "issueMonth": [str(completed.month)],
        "certUrl": [awarded.valid.url],
        "certId": [awarded.valid.credential_id],
    }

    for _ in range(MAX_TABS_TO_LINKEDIN):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement && document.activeElement.id") == "linkedin-add":
            break
    else:
        pytest.fail(f"{MAX_TABS_TO_LINKEDIN} presses of Tab never reached the LinkedIn link")
    outline = await link.evaluate("e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }")
    assert outline[0] != "none" and outline[1] != "0px", f"keyboard focus on the link is invisible: {outline}"


@sqlite_only
async def test_the_valid_credentials_page_fits_a_phone(browsing: Browsing, awarded: Awarded) -> None:
    page = await browsing.page(PHONE)
    await _open(page, awarded.valid.url)

    widths = await page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")
    assert widths[0] <= 390 and widths[1] == 390, f"the page scrolls sideways on a 390 px phone: {widths}"
    status, text = await _banner(page)
    assert status == "valid" and "Valid" in text
    assert await page.get_by_text("Zoë Jansen", exact=True).first.is_visible()
    box = await page.locator("#linkedin-add").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    await screenshot(page, "valid-phone")


@sqlite_only
async def test_the_revoked_credentials_page_says_revoked_and_offers_no_linkedin_link(browsing: Browsing, awarded: Awarded) -> None:
    page = await browsing.page(DESKTOP)
    await _open(page, awarded.revoked.url)

    status, text = await _banner(page)
    assert status == "revoked"
    assert text.startswith("✕ Revoked"), text
    assert "Valid" not in text
    assert await page.locator("#linkedin-add").count() == 0
    assert await page.get_by_text("Add to LinkedIn", exact=False).count() == 0
    # who and what stay readable: a revoked credential is still explained, just not endorsed
    assert await page.get_by_role("heading", level=1).inner_text() == awarded.revoked_title
    await screenshot(page, "revoked")


@sqlite_only
async def test_the_verify_page_says_valid_for_a_pasted_url_and_revoked_for_an_uploaded_file(
    browsing: Browsing, awarded: Awarded, live: LiveService, tmp_path: Path
) -> None:
    # the file a person would have saved from the revoked credential's page ("Download ... JSON-LD")
    async with httpx.AsyncClient(trust_env=False, timeout=30) as http:
        download = await http.get(awarded.revoked.url, params={"format": "json"})
    assert download.status_code == 200, download.text
    saved = tmp_path / "revoked-credential.json"
    saved.write_bytes(download.content)
    assert json.loads(saved.read_bytes())["id"] == awarded.revoked.url

    page = await browsing.page(DESKTOP)
    await _open(page, f"{live.base_url}/verify")
    assert await page.get_by_role("status").count() == 0, "a verdict before anything was checked"

    await page.locator('form input[name="url"]').fill(awarded.valid.url)
    async with page.expect_navigation():
        await page.locator('form input[name="url"]').press("Enter")
    assert urlsplit(page.url).path == "/verify"
    status, text = await _banner(page)
    assert status == "valid", text
    assert "Valid" in text and "Revoked" not in text
    await screenshot(page, "verify-url-valid")

    file_form = page.locator("form").filter(has=page.locator('input[type="file"][name="file"]'))
    await file_form.locator('input[name="file"]').set_input_files(saved)
    async with page.expect_navigation():
        await file_form.locator('[type="submit"]').click()
    status, text = await _banner(page)
    assert status == "revoked", text
    assert "Revoked" in text and "Valid" not in text
    await screenshot(page, "verify-file-revoked")


async def test_the_guard_refuses_and_records_requests_beyond_loopback(browsing: Browsing) -> None:
    """The guard the other tests rely on: a page that pulls an outside image is caught."""
    page = await browsing.page(DESKTOP)
    await page.set_content('<img src="https://cdn.example.org/pixel.png" alt="">', wait_until="load")
    assert browsing.refused == ["https://cdn.example.org/pixel.png"]
    browsing.refused.clear()


@sqlite_only
@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_public_pages_pass_axe(browsing: Browsing, awarded: Awarded, live: LiveService, device: dict[str, Any]) -> None:
    """axe-core finds no serious or critical WCAG A/AA violation on a valid and a revoked
    credential's page, the verify page, and its report for a pasted URL."""
    page = await browsing.page(device)
    for url in (awarded.valid.url, awarded.revoked.url, f"{live.base_url}/verify"):
        await page.goto(url)
        assert await axe_problems(page) == [], url
    await page.get_by_label("Credential URL").fill(awarded.valid.url)
    await page.get_by_label("Credential URL").press("Enter")
    await page.wait_for_load_state()
    assert await axe_problems(page) == [], "the verify report"


async def test_axe_finds_what_it_should(browsing: Browsing) -> None:
    """The check the other tests rely on: an image without a text alternative is caught."""
    page = await browsing.page(DESKTOP)
    await page.set_content('<!doctype html><html lang="en"><title>t</title><main><img src="data:," width="4" height="4"></main></html>')
    problems = await axe_problems(page)
    assert len(problems) == 1 and problems[0].startswith("image-alt (critical)")
