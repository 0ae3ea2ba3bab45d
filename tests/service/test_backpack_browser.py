"""The backpack in Chromium against the live service, with emails read from a real aiosmtpd
server: a learner signs in by emailed link, adds a second address, sees credentials from two
issuers to both addresses, and makes one unlisted, which hides its page from its public URL.
axe-core finds no serious or critical violation on any page."""

from __future__ import annotations

import re

import pytest

from microcred.config import Settings
from microcred.runtime import Runtime

from .browsing import DESKTOP, PHONE, Browsing, assert_accessible, browsing  # noqa: F401 (fixture)
from .console_helpers import add_staff, sign_in_browser
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)
from .smtp_server import Smtp, smtp, smtp_settings  # noqa: F401 (fixture: SMTP on loopback)

pytestmark = [pytest.mark.asyncio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

@pytest.fixture
def settings(settings: Settings, smtp: Smtp) -> Settings:
    return smtp_settings(settings, smtp)


HOME, WORK = "zoe@example.org", "z.jansen@work.example.org"



async def _award(live: LiveService, issuer_name: str, email: str) -> str:
    issuer = await live.client.create_issuer(name=issuer_name)
    achievement = await live.client.create_achievement(issuer["id"], name=f"CNC programming at {issuer_name}")
    response = await live.client.award(issuer["id"], achievement["id"], recipient={"email": email, "name": "Zoë Jansen"})
    assert response.status_code == 201, response.text
    return str(response.json()["credential"]["id"]).rsplit("/", 1)[1]


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_backpack_lists_two_issuers_and_two_addresses_and_unlisted_hides_a_page(
    browsing: Browsing, live: LiveService, smtp: Smtp, device: dict[str, object]
) -> None:
    first = await _award(live, "Society of Precision Engineers", HOME)
    second = await _award(live, "Dutch Welding Institute", WORK)
    page = await browsing.page(device)
    page.set_default_timeout(15_000)
    await page.goto(f"{live.base_url}/me")  # signed out: to the sign-in page, and back after
    await assert_accessible(page)
    await page.get_by_label("Email address").fill(HOME)
    await page.get_by_role("button", name="Email me a sign-in link").click()
    await page.get_by_role("heading", name="Check your email").wait_for()
    await page.goto(smtp.mailbox.link(HOME, path="/learners/sign-in/confirm"))
    await assert_accessible(page)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Your backpack").wait_for()
    await assert_accessible(page)
    assert await page.locator(f"#credential-{first}").is_visible() and await page.locator(f"#credential-{second}").count() == 0

    await page.get_by_label("Add another address (we email it a link)").fill(WORK)
    await page.get_by_role("button", name="Add address").click()
    await page.get_by_text("We emailed a link to that address").wait_for()
    await page.goto(smtp.mailbox.link(WORK, path="/me/addresses/confirm"))
    await assert_accessible(page)
    await page.get_by_role("button", name="Add the address").click()
    await page.get_by_role("link", name="Open your backpack").click()
    await page.get_by_role("heading", name="Your backpack").wait_for()
    await assert_accessible(page)
    titles = await page.locator("li.panel h3").all_inner_texts()
    assert titles == ["CNC programming at Dutch Welding Institute", "CNC programming at Society of Precision Engineers"]

    card = page.locator(f"#credential-{first}")
    await card.get_by_label("Unlisted (only the share link with its secret part opens it)").check()
    await card.get_by_role("button", name=re.compile("^Save visibility")).click()
    await page.get_by_text("Visibility saved").wait_for()
    await assert_accessible(page)
    share = await page.locator(f"#credential-{first}").get_by_label(re.compile("^Share link for")).input_value()
    assert "?k=" in share
    plain = await page.goto(f"{live.base_url}/credentials/{first}")
    assert plain is not None and plain.status == 404
    opened = await page.goto(share)
    assert opened is not None and opened.status == 200
    assert await page.locator('meta[name="robots"][content="noindex"]').count() == 1
    await assert_accessible(page)


async def test_a_name_correction_asked_in_the_backpack_and_approved_in_the_console_shows_the_new_credential(
    browsing: Browsing, live: LiveService, smtp: Smtp, runtime: Runtime
) -> None:
    issuer = await live.client.create_issuer(name="Society of Precision Engineers")
    achievement = await live.client.create_achievement(issuer["id"], name="CNC programming")
    response = await live.client.award(issuer["id"], achievement["id"], recipient={"email": HOME, "name": "Zoë Jnasen"})
    assert response.status_code == 201, response.text
    old = str(response.json()["credential"]["id"]).rsplit("/", 1)[1]
    learner = await browsing.page(DESKTOP)
    learner.set_default_timeout(15_000)
    await learner.goto(f"{live.base_url}/me")
    await learner.get_by_label("Email address").fill(HOME)
    await learner.get_by_role("button", name="Email me a sign-in link").click()
    await learner.get_by_role("heading", name="Check your email").wait_for()
    await learner.goto(smtp.mailbox.link(HOME, path="/learners/sign-in/confirm"))
    await learner.get_by_role("button", name="Sign in").click()
    await learner.get_by_text("Ask Society of Precision Engineers to correct your name on CNC programming").click()
    await learner.get_by_label("Your name as it should read").fill("Zoë Jansen")
    await learner.get_by_label("Note for the issuer (optional)").fill("typo in the LMS export")
    await learner.get_by_role("button", name="Send the request").click()
    await learner.get_by_text("Your request went to the issuer's staff").wait_for()
    await assert_accessible(learner)

    staff = await browsing.page(DESKTOP)
    staff.set_default_timeout(15_000)
    await sign_in_browser(staff, live.base_url, runtime, await add_staff(runtime, "registrar@spe.example", {issuer["id"]: "awarder"}))
    await staff.get_by_role("link", name="Name corrections").click()
    await assert_accessible(staff)
    await staff.get_by_role("button", name="Approve and reissue for Zoë Jansen").click()
    await staff.get_by_text("Approved: the credential was reissued").wait_for()
    await assert_accessible(staff)

    await learner.goto(f"{live.base_url}/me")
    await assert_accessible(learner)
    panels = learner.locator("li.panel")
    assert await panels.count() == 2
    newest = await panels.first.get_attribute("id")
    assert newest is not None and newest != f"credential-{old}"
    assert "Name corrected to “Zoë Jansen”" in await learner.locator(f"#credential-{old}").inner_text()
    await panels.first.get_by_role("link", name="CNC programming", exact=True).click()
    assert "Zoë Jansen" in await learner.locator("header").inner_text()


async def test_a_dutch_learner_reads_the_backpack_in_dutch_and_changes_language_by_keyboard(
    browsing: Browsing, live: LiveService, smtp: Smtp
) -> None:
    """A browser that asks for Dutch signs in through Dutch pages to a Dutch backpack with Dutch
    dates; the learner saves English with the keyboard alone (the backpack's language setting),
    then goes back to Dutch by the language switcher, again by keyboard. axe on every page."""
    credential = await _award(live, "Society of Precision Engineers", HOME)
    page = await browsing.page({**DESKTOP, "locale": "nl-NL"})
    page.set_default_timeout(15_000)
    await page.goto(f"{live.base_url}/me")
    assert await page.get_attribute("html", "lang") == "nl"
    await assert_accessible(page)
    await page.get_by_label("E-mailadres").fill(HOME)
    await page.get_by_role("button", name="Mail mij een aanmeldlink").click()
    await page.get_by_role("heading", name="Kijk in uw e-mail").wait_for()
    await assert_accessible(page)
    await page.goto(smtp.mailbox.link(HOME, path="/learners/sign-in/confirm"))
    await assert_accessible(page)
    await page.get_by_role("button", name="Aanmelden").click()
    await page.get_by_role("heading", name="Mijn credentials").wait_for()
    assert await page.get_attribute("html", "lang") == "nl"
    await assert_accessible(page)
    card = page.locator(f"#credential-{credential}")
    issued = await card.locator("time").inner_text()
    assert re.fullmatch(r"\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december) \d{4}", issued), issued
    assert await card.get_by_role("button", name="Zichtbaarheid van CNC programming at Society of Precision Engineers opslaan").is_visible()

    # The language setting, by keyboard: focus the list, pick English by typing, Tab to the button, Enter.
    select = page.get_by_label("Taal van uw pagina's en e-mails")
    await select.focus()
    await page.keyboard.press("ArrowUp")  # English is listed first
    assert await select.input_value() == "en"
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Taal opslaan"
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name="Your backpack").wait_for()
    await page.get_by_text("Language saved.").wait_for()
    assert await page.get_attribute("html", "lang") == "en"
    await assert_accessible(page)

    # The switcher at the top of the page is the first thing Tab reaches.
    await page.locator("body").focus()
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.getAttribute('hreflang')") == "nl"
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name="Mijn credentials").wait_for()
    assert await page.get_attribute("html", "lang") == "nl"
    await assert_accessible(page)
