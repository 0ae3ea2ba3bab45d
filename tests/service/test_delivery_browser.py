"""The console's Learner emails page in headless Chromium: a manager sees an email that failed,
with the SMTP server's words, retries it, and the live service's sender sends it; a manager saves
the settings by keyboard. axe-core finds no serious or critical violation, on a desktop and a phone."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update

from microcred.db.models import EmailDelivery

from .browsing import DESKTOP, PHONE, Browsing, axe_problems, browsing, screenshot  # noqa: F401 (fixture)
from .console_helpers import add_staff, sign_in_browser
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.asyncio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

ERROR = "refused for good: 127.0.0.1:2525: the SMTP server answered 550 5.1.1 <gone@example.org>: mailbox unavailable"


async def test_a_manager_sees_a_failed_email_retries_it_and_changes_the_settings(browsing: Browsing, live: LiveService) -> None:
    issuer = await live.client.create_issuer("spe", name="Society of Precision Engineers")
    achievement = await live.client.create_achievement(issuer["id"], name="Precision Welding")
    assert (await live.client.award("spe", achievement["id"], recipient={"email": "gone@example.org", "name": "Gone"})).status_code == 201
    async with live.runtime.sessions() as session, session.begin():  # as the sender leaves a hard bounce
        await session.execute(update(EmailDelivery).values(status="failed", attempts=1, last_error=ERROR))
    manager = await add_staff(live.runtime, "mia@spe.example", {"spe": "manager"})
    for device in (DESKTOP, PHONE):
        context = await browsing.context(device)
        page = await context.new_page()
        await sign_in_browser(page, live.base_url, live.runtime, manager, "/console/spe/emails")
        row = page.get_by_role("row", name="gone@example.org")
        text = await row.inner_text()
        assert "failed" in text and "550 5.1.1" in text and "mailbox unavailable" in text
        assert await axe_problems(page) == []
        await screenshot(page, f"console-emails-{device['viewport']['width']}")
        await context.close()

    context = await browsing.context(DESKTOP)
    page = await context.new_page()
    await sign_in_browser(page, live.base_url, live.runtime, manager, "/console/spe/emails")
    await page.get_by_role("button", name="Retry the email to gone@example.org").click()
    await page.wait_for_load_state()
    assert "queued again" in await page.get_by_role("status").inner_text()
    for _ in range(200):  # the live service's sender (its development mailer) takes it
        async with live.runtime.sessions() as session:
            if await session.scalar(select(EmailDelivery.status)) == "sent":
                break
        await asyncio.sleep(0.05)
    await page.goto(f"{live.base_url}/console/spe/emails?status=sent")
    assert "gone@example.org" in await page.get_by_role("row", name="gone@example.org").inner_text()

    # The settings, by keyboard; a rate out of bounds is refused, with the field named.
    rate = page.get_by_label("Emails per second")
    await rate.fill("0")
    await page.get_by_role("button", name="Save settings").press("Enter")
    await page.wait_for_load_state()
    assert "Enter a number from 0.1 to 1000." in await page.get_by_role("alert").inner_text()
    assert await axe_problems(page) == []
    await page.get_by_label("Emails per second").fill("5")
    await page.get_by_label("Sender name").fill("SPE Exams")
    await page.get_by_label("Also email learners when a credential is revoked").check()
    await page.get_by_role("button", name="Save settings").press("Enter")
    await page.wait_for_load_state()
    assert "saved" in await page.get_by_role("status").inner_text()
    assert await page.get_by_label("Emails per second").input_value() == "5"
    assert await page.get_by_label("Also email learners when a credential is revoked").is_checked()
    await context.close()
