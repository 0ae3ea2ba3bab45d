"""The console's own pages in headless Chromium, as a member of staff uses them: signing in with
the emailed link by keyboard, the issuer's home, signing out; axe-core finds no serious or
critical violation on them, on a desktop, a tablet and a phone."""

from __future__ import annotations

import email
import re
from pathlib import Path

import pytest

from microcred.config import Settings

from .browsing import DESKTOP, PHONE, TABLET, Browsing, axe_problems, browsing, screenshot  # noqa: F401 (fixture)
from .console_helpers import add_staff, sign_in_browser
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.asyncio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def _last_link(settings: Settings) -> str:
    files = sorted((Path(settings.data_dir) / "mail").glob("*.eml"))
    payload = email.message_from_bytes(files[-1].read_bytes()).get_payload(decode=True)
    assert isinstance(payload, bytes)
    found = re.search(r"^(http\S+)$", payload.decode(), re.M)
    assert found
    return found.group(1)


async def test_signing_in_by_keyboard_with_the_emailed_link(browsing: Browsing, live: LiveService, settings: Settings) -> None:
    await live.client.create_issuer("spe", name="Society of Precision Engineers")
    await add_staff(live.runtime, "ana@spe.example", {"spe": "viewer"})
    page = await browsing.page(DESKTOP)
    await page.goto(f"{live.base_url}/console/spe/")
    assert page.url.startswith(f"{live.base_url}/console/sign-in?next=")
    assert await axe_problems(page) == []
    await page.keyboard.press("Tab")  # the skip link first
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.id")
    assert focused == "email"
    await page.keyboard.type("ana@spe.example")
    await page.keyboard.press("Enter")
    await page.wait_for_load_state()
    assert "sign-in link is on its way" in await page.inner_text("main")
    await page.goto(_last_link(settings))
    assert "ana@spe.example" in await page.inner_text("main")
    await page.get_by_role("button", name="Sign in").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{live.base_url}/console/spe/")
    assert "Society of Precision Engineers" in await page.inner_text("header")
    await screenshot(page, "console-home")
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(f"{live.base_url}/console/sign-in")


@pytest.mark.parametrize("device", [DESKTOP, TABLET, PHONE], ids=["desktop", "tablet", "phone"])
async def test_the_console_layout_passes_axe_and_fits_the_screen(browsing: Browsing, live: LiveService, device: dict) -> None:
    await live.client.create_issuer("spe", name="Society of Precision Engineers")
    member = await add_staff(live.runtime, "root@spe.example", admin=True)
    page = await browsing.page(device)
    await sign_in_browser(page, live.base_url, live.runtime, member, "/console/spe/")
    assert page.url == f"{live.base_url}/console/spe/"
    assert await axe_problems(page) == []
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= device["viewport"]["width"], "the page scrolls sideways"
    assert await page.get_by_role("navigation", name="Issuer sections").get_by_role("link", name="API keys").is_visible()
