"""The console's achievement and profile pages in a browser (headless Chromium against the live
service on loopback): a manager drafts an achievement, sees the missing EU elements listed, fills
them in (the checklist follows as they type), previews the credential page and badge, publishes,
and sees it listed as published; an owner sees the profile, the DID document and the
confirmation of a key rotation. Every page is checked with axe-core at desktop and tablet width:
no serious or critical violation, and nothing scrolls sideways on the tablet."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from .browsing import DESKTOP, TABLET, Browsing, axe_problems, browsing, screenshot  # noqa: F401 (fixture)
from .console_helpers import add_staff, sign_in_browser
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.asyncio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


async def _accessible(page: Page, name: str) -> None:
    """axe-core at desktop and at tablet width, and no sideways scrolling on the tablet."""
    problems: list[tuple[str, str]] = []
    for label, device in (("desktop", DESKTOP), ("tablet", TABLET)):
        await page.set_viewport_size(device["viewport"])
        problems += [(label, problem) for problem in await axe_problems(page)]
        if label == "tablet":
            widths = await page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")
            assert widths[0] <= widths[1], f"{name} scrolls sideways on a {device['viewport']['width']} px tablet: {widths}"
    await page.set_viewport_size(DESKTOP["viewport"])
    await screenshot(page, "console-achievements-" + "-".join(name.split()))
    assert problems == [], f"{name}: serious or critical accessibility violations: {problems}"


async def _checklist(page: Page) -> str:
    return " ".join((await page.locator("#checklist-body").inner_text()).split())


async def test_a_manager_drafts_sees_the_missing_elements_fills_them_previews_and_publishes(
    browsing: Browsing, live: LiveService
) -> None:
    await live.client.create_issuer("spe", name="Society of Precision Engineers")
    manager = await add_staff(live.runtime, "manager@example.org", {"spe": "manager"})
    page = await browsing.page(DESKTOP)
    await sign_in_browser(page, live.base_url, live.runtime, manager, "/console/spe/achievements")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Achievements")
    await _accessible(page, "the empty achievement list")

    # A draft with a name and a description only.
    await page.get_by_role("link", name="New achievement").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("New achievement")
    await _accessible(page, "the new achievement form")
    await page.get_by_label("Name").first.fill("Precision Turning for Instrument Makers")
    await page.get_by_label("Description").first.fill("Sets up and operates a CNC lathe to turn instrument parts to ±5 µm.")
    await page.get_by_role("button", name="Save draft").click()
    await expect(page.locator("#achievement-status")).to_have_text("Draft")
    missing = await page.locator("#missing-elements li").all_inner_texts()
    missing_text = " ".join(missing)
    for element in ("learning outcomes", "level (EQF level 1-8)", "type of assessment", "form of participation", "type of quality assurance"):
        assert element in missing_text, missing
    assert "description of the achievement" not in missing_text
    await _accessible(page, "the draft's page with its missing elements")

    # Fill them in: the checklist beside the form follows (htmx posts the form on each change).
    await page.get_by_role("link", name="Edit").click()
    # A person types after the page has loaded; htmx (a deferred script) binds the form only then.
    await page.wait_for_load_state("load")
    assert "7 EU elements missing" in await _checklist(page)
    await page.get_by_label("Learning outcomes").fill("plan a turning operation from a drawing\nmeasure parts to ±5 µm")
    await page.get_by_label("Level").select_option("4")
    await expect(page.locator("#checklist-body")).to_contain_text("5 EU elements missing")
    await page.get_by_label("Credits (ECTS)").fill("3")
    await page.get_by_label("Individually assessed?").select_option("yes")
    await page.get_by_label("Type of assessment").fill("Practical examination")
    await page.get_by_label("Form of participation").fill("Onsite")
    await page.get_by_label("Quality assurance").fill("Accredited by the society's accreditation board")
    await page.get_by_label("Quality assurance").press("Tab")
    await expect(page.locator("#checklist-body")).to_contain_text("Every EU element is present")
    await _accessible(page, "the filled-in form")
    await page.get_by_role("button", name="Save draft").click()
    await expect(page.locator("#achievement-status")).to_have_text("Draft")
    await expect(page.get_by_text("Every EU element is present").first).to_be_visible()

    # Preview: the badge and the credential page, marked as a preview, before anything is signed.
    await page.get_by_role("link", name="Preview the credential page and badge").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Preview of")
    badge = page.get_by_role("img", name="Badge preview: Precision Turning for Instrument Makers, Society of Precision Engineers")
    await expect(badge).to_be_visible()
    # Waits until the image has loaded (a broken one never gets a natural width): no time is asserted.
    await page.wait_for_function("() => { const img = document.querySelector('img.badge-preview'); return img.complete && img.naturalWidth > 0; }")
    await _accessible(page, "the preview page")
    await page.get_by_role("link", name="Open the credential page preview").click()
    status = page.get_by_role("status")
    await expect(status).to_contain_text("Preview: not a credential")
    assert await status.get_attribute("data-status") == "preview"
    await expect(page.get_by_role("heading", level=1)).to_have_text("Precision Turning for Instrument Makers")
    await expect(page.get_by_text("Awarded to Sample Learner")).to_be_visible()
    await expect(page.get_by_text("Practical examination")).to_be_visible()
    await _accessible(page, "the credential page preview")
    await page.go_back()

    # Publish, and it is listed as published.
    await page.get_by_role("button", name="Publish").click()
    await expect(page.locator("#achievement-status")).to_have_text("Published")
    await _accessible(page, "the published achievement's page")
    await page.get_by_role("link", name="Achievements", exact=True).first.click()
    row = page.locator("tr", has_text="Precision Turning for Instrument Makers")
    await expect(row.locator(".badge-status")).to_have_text("Published")
    await _accessible(page, "the achievement list")

    # Edit it (version 2), compare the versions side by side, and open the retire confirmation.
    await row.get_by_role("link").click()
    await page.get_by_role("link", name="Edit (publishes version 2)").click()
    await _accessible(page, "the form of a published achievement")
    await page.get_by_label("Type of assessment").fill("Written exam")
    await page.get_by_role("button", name="Save as version 2").click()
    await expect(page.get_by_text("version 2", exact=False).first).to_be_visible()
    await page.get_by_role("link", name="Changes from version 1").click()
    changed = page.locator('tr[data-key="alignment:assessmentType"]')
    await expect(changed).to_contain_text("Practical examination")
    await expect(changed).to_contain_text("Written exam")
    await expect(changed).to_contain_text("Changed")
    await _accessible(page, "the side-by-side diff")
    await page.get_by_role("link", name="Precision Turning for Instrument Makers").click()
    await page.get_by_role("link", name="Retire…").click()
    await expect(page.get_by_text("Every credential already awarded stays valid")).to_be_visible()
    await _accessible(page, "the retire confirmation")
    await page.get_by_role("button", name="Retire the achievement").click()
    await expect(page.locator("#achievement-status")).to_have_text("Retired")
    await _accessible(page, "the retired achievement's page")


async def test_an_owner_sees_the_profile_and_did_document_and_the_rotation_confirmation(
    browsing: Browsing, live: LiveService
) -> None:
    issuer = await live.client.create_issuer("spe", name="Society of Precision Engineers")
    owner = await add_staff(live.runtime, "owner@example.org", {"spe": "owner"})
    page = await browsing.page(DESKTOP)
    await sign_in_browser(page, live.base_url, live.runtime, owner, "/console/spe/profile")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Issuer profile")
    await expect(page.get_by_label("DID document (JSON)")).to_contain_text(issuer["did"])
    await _accessible(page, "the profile page")

    # Emptying the country while an achievement is published is refused, on the field.
    await live.client.create_achievement("spe")
    await page.reload()
    await page.get_by_label("Country", exact=False).first.fill("")
    await page.get_by_label("Country code").fill("")
    await page.get_by_role("button", name="Save the profile").click()
    await expect(page.get_by_role("alert")).to_contain_text("EU mandatory element")
    await expect(page.locator("#f-address_country")).to_have_attribute("aria-invalid", "true")
    await _accessible(page, "the profile page with an error")

    await page.goto(f"{live.base_url}/console/spe/profile")
    await page.get_by_role("link", name="Rotate the key…").click()
    await expect(page.locator("#rotation-effects")).to_contain_text("Credentials already issued stay valid and keep verifying")
    await _accessible(page, "the key rotation confirmation")
    await page.get_by_role("button", name="Rotate the key").click()
    await expect(page.get_by_role("status")).to_have_text("The key was rotated.")
    await expect(page.get_by_role("cell", name="Current")).to_have_count(1)
