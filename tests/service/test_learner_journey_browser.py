"""A learner's way in Chromium, from the LMS's award to the backpack: the email the award sends
(read from a real aiosmtpd server) opens the credential's page, and its backpack link leads,
through the emailed sign-in, to the backpack; the share-all page and the catalogue follow. Every
page passes axe and loads nothing from another host (the browsing fixture's guard)."""

from __future__ import annotations

import re

import pytest

from microcred.config import Settings

from .browsing import DESKTOP, PHONE, Browsing, assert_accessible, browsing  # noqa: F401 (fixture)
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)
from .smtp_server import Smtp, smtp, smtp_settings, text_of  # noqa: F401 (fixture: SMTP on loopback)

pytestmark = [pytest.mark.asyncio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

LEARNER = "noor@example.org"
_URL = re.compile(r"https?://[^\s<>\"]+")


@pytest.fixture
def settings(settings: Settings, smtp: Smtp) -> Settings:
    return smtp_settings(settings, smtp)



@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_award_email_opens_the_credential_and_its_backpack_link_signs_in(
    browsing: Browsing, live: LiveService, smtp: Smtp, device: dict[str, object]
) -> None:
    issuer = await live.client.create_issuer(name="Society of Precision Engineers")
    achievement = await live.client.create_achievement(issuer["id"], name="Precision Turning")
    lms = live.client.auth(await live.client.issuer_key(issuer["id"], "award"))  # the provider's LMS, not an admin
    response = await live.client.http.post(
        f"/api/v1/issuers/{issuer['id']}/awards",
        json={"achievement_id": achievement["id"], "recipient": {"email": LEARNER, "name": "Noor Bakker"}, "completion_date": "2026-06-30T12:00:00Z"},
        headers=lms,
    )
    assert response.status_code == 201, response.text
    credential_id = response.json()["id"]

    # The email: text and HTML alike link only to this service, and the HTML loads nothing (no remote image).
    email = smtp.mailbox.newest(LEARNER)
    html = email.get_body(preferencelist=("html",))
    assert html is not None
    for part in (text_of(email), html.get_content()):
        assert all(url.startswith(live.base_url) for url in _URL.findall(part)), part
    assert not re.search(r"""src=["']?https?:""", html.get_content())

    page = await browsing.page(device)
    page.set_default_timeout(15_000)
    await page.goto(smtp.mailbox.link(LEARNER, path=f"/credentials/{credential_id}"))
    assert await page.get_by_role("heading", level=1).inner_text() == "Precision Turning"
    assert await page.get_by_role("status").get_attribute("data-status") == "valid"
    assert "Noor Bakker" in await page.locator("header").inner_text()
    await assert_accessible(page)

    # The email's backpack link: signed out, it asks for the address, emails a link, and lands in the backpack.
    await page.goto(smtp.mailbox.link(LEARNER, path="/me"))
    await assert_accessible(page)
    await page.get_by_label("Email address").fill(LEARNER)
    await page.get_by_role("button", name="Email me a sign-in link").click()
    await page.get_by_role("heading", name="Check your email").wait_for()
    await assert_accessible(page)
    await page.goto(smtp.mailbox.link(LEARNER, path="/learners/sign-in/confirm"))
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Your backpack").wait_for()
    assert await page.locator(f"#credential-{credential_id}").is_visible()

    # A share-all link for an employer: its page lists the credential and passes axe too.
    await page.get_by_role("button", name="Make a share-all link").click()
    await page.wait_for_load_state()
    share = await page.get_by_label("Share-all link 1").input_value()
    assert share.startswith(f"{live.base_url}/share/")
    await page.goto(share)
    assert "Precision Turning" in await page.locator("main").inner_text()
    await assert_accessible(page)

    await page.goto(f"{live.base_url}/catalogue")
    assert "Precision Turning" in await page.locator("main").inner_text()
    await assert_accessible(page)
