"""The branded credential page in a browser (issue 13, Must show): an owner sets the issuer's logo
and colours in the console; a credential's page then shows, at the top, the badge image and the
logo (both loaded from this service, never another host), the issuer's colours (from a stylesheet
of ours: the CSP allows no inline style), the grade and the completion date, a verdict in plain
words, the achievement's skills, and the verifier's checks folded under "Technical details". On a
desktop and a phone, with no serious or critical axe-core violation and no request off loopback."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.async_api import Page, expect

from .browsing import DESKTOP, PHONE, Browsing, axe_problems, browsing, screenshot  # noqa: F401 (fixture)
from .console_helpers import add_staff, sign_in_browser
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.asyncio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def _logo_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 40), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


async def _image(page: Page, selector: str) -> dict[str, object]:
    image = page.locator(selector)
    await expect(image).to_have_count(1)
    return await image.evaluate("e => ({src: e.currentSrc, width: e.naturalWidth, complete: e.complete, alt: e.alt})")  # type: ignore[no-any-return]


async def test_the_branded_credential_page_on_desktop_and_phone(browsing: Browsing, live: LiveService) -> None:
    await live.client.create_issuer("acme", name="Acme Academy")
    owner = await add_staff(live.runtime, "owner@example.org", {"acme": "owner"})
    page = await browsing.page(DESKTOP)
    await sign_in_browser(page, live.base_url, live.runtime, owner, "/console/acme/branding")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Branding")
    assert await axe_problems(page) == []

    # A pale accent is refused, with why; nothing is saved.
    await page.get_by_label("New logo").set_input_files({"name": "logo.png", "mimeType": "image/png", "buffer": _logo_png()})
    await page.get_by_label("Brand colour").fill("#ffd400")
    await page.get_by_label("Accent colour").fill("#7a9cc6")
    await page.get_by_role("button", name="Save the branding").click()
    await expect(page.get_by_role("alert")).to_contain_text("4.5:1 (WCAG AA)")
    assert await axe_problems(page) == []
    # A yellow brand is kept, its text made dark, and the owner told so.
    await page.get_by_label("New logo").set_input_files({"name": "logo.png", "mimeType": "image/png", "buffer": _logo_png()})
    await page.get_by_label("Accent colour").fill("#0b57d0")
    await page.get_by_role("button", name="Save the branding").click()
    await expect(page.get_by_role("status").last).to_contain_text("dark instead")
    await expect(page.locator("img.brand-logo")).to_have_count(1)

    achievement = await live.client.create_achievement(
        "acme",
        name="Precision Turning",
        # an image of this service's (one on another host is copied here when the achievement is
        # saved: tests/service/test_achievement_images.py), so the page loads it from here
        image=f"{live.base_url}/badges/default.png",
        alignments=[{"target_name": "Operate a CNC lathe", "target_url": "https://esco.example/skill/42", "target_framework": "ESCO"}],
    )
    awarded = await live.client.award("acme", achievement["id"], recipient={"email": "zoe@example.org", "name": "Zoë Jansen"})
    assert awarded.status_code == 201, awarded.text
    url = awarded.json()["credential"]["id"]

    for name, device in (("desktop", DESKTOP), ("phone", PHONE)):
        page = await browsing.page(device)
        response = await page.goto(url)
        assert response is not None and response.status == 200
        await page.wait_for_load_state("load")

        badge = await _image(page, "header img.credential-image")
        assert badge["complete"] and badge["width"] > 0, badge  # type: ignore[operator]
        assert str(badge["src"]).startswith(live.base_url + "/"), badge
        logo = await _image(page, "header img.issuer-logo")
        assert logo["width"] == 120 and str(logo["src"]).startswith(f"{live.base_url}/issuers/acme/logo/"), logo
        assert logo["alt"] == "Acme Academy"
        band = await page.locator(".brand-band").evaluate("e => { const s = getComputedStyle(e); return [s.backgroundColor, s.color]; }")
        assert band == ["rgb(255, 212, 0)", "rgb(27, 31, 36)"], band  # the issuer's yellow, dark text on it

        header = page.locator("header")
        await expect(header.locator(".grade")).to_have_text("8.5 (on a scale of 1 to 10)")
        await expect(header.locator(".completed-on")).to_have_text("28 June 2024")
        assert await header.locator(".grade").is_visible() and await header.locator(".completed-on").is_visible()
        verdict = " ".join((await page.locator("#verdict").inner_text()).split())
        assert verdict.startswith("This is a valid credential issued by Acme Academy to Zoë Jansen on "), verdict
        await expect(page.get_by_role("heading", name="Skills and alignments")).to_be_visible()
        await expect(page.get_by_role("link", name="Operate a CNC lathe")).to_have_attribute("href", "https://esco.example/skill/42")

        # The checks are there, folded: a person opens them with "Technical details".
        checks = page.get_by_role("heading", name="Verification checks")
        await expect(checks).to_be_hidden()
        await page.get_by_text("Technical details", exact=True).click()
        await expect(checks).to_be_visible()
        await expect(page.locator("ul.checks li").first).to_be_visible()

        if name == "phone":
            widths = await page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")
            assert widths[0] <= widths[1], f"the page scrolls sideways on a phone: {widths}"
        assert await axe_problems(page) == [], name
        await screenshot(page, f"branded-credential-{name}")
    assert browsing.refused == []
