"""Staff and passkeys in headless Chromium against the live service, as people use them: an owner
invites an awarder by email (the link read from a real SMTP server on loopback), the awarder
signs in from it and is refused (403 page) on an achievement's edit page, and another issuer's
staff finds no such issuer (404 page); a member adds a passkey and signs in with it (Chromium's
virtual authenticator); axe-core finds no serious or critical violation on the sign-in, staff and
passkey pages."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from playwright.async_api import Page

from microcred.app import create_app
from microcred.config import Settings
from microcred.console.web import route_role

from .browsing import DESKTOP, PHONE, TABLET, Browsing, axe_problems, browsing, screenshot, virtual_authenticator  # noqa: F401 (fixture)
from .console_helpers import add_staff, sign_in_browser
from .console_routes import console_routes
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)
from .smtp_server import Smtp, smtp, smtp_settings  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.asyncio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def settings(settings: Settings, smtp: Smtp) -> Settings:
    return smtp_settings(settings, smtp)


def _role_needed(app: FastAPI, method: str, path: str) -> str | None:
    """The role the app's console route for ``path`` needs."""
    return next((route_role(route) for p, route in console_routes(app) if p == path and method in (route.methods or ())), None)


async def _fits(page: Page, device: dict[str, Any]) -> bool:
    """The page does not scroll sideways on the device."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    return bool(width <= device["viewport"]["width"])


async def _message(page: Page) -> str:
    return await page.inner_text("main")


async def test_an_owner_invites_an_awarder_who_is_refused_above_her_role(browsing: Browsing, live: LiveService, smtp: Smtp, settings: Settings) -> None:
    await live.client.create_issuer("spe", name="Society of Precision Engineers")
    await live.client.create_issuer("other", name="Other Society")
    achievement = await live.client.create_achievement("spe")
    owner = await add_staff(live.runtime, "olga@spe.example", {"spe": "owner"})
    page = await browsing.page(DESKTOP)
    await sign_in_browser(page, live.base_url, live.runtime, owner, "/console/spe/")
    await page.get_by_role("navigation", name="Issuer sections").get_by_role("link", name="Staff").click()
    await page.wait_for_url(f"{live.base_url}/console/spe/staff")
    assert await axe_problems(page) == []
    await page.get_by_label("Email address").fill("aart@spe.example")
    await page.get_by_label("Role", exact=True).select_option("awarder")
    await page.get_by_role("button", name="Send the invitation").click()
    await page.wait_for_url(f"{live.base_url}/console/spe/staff?done=invited")
    assert "Invitation sent." in await _message(page)
    row = page.get_by_role("row", name="aart@spe.example")
    assert await row.get_by_role("combobox").input_value() == "awarder"
    assert await axe_problems(page) == []
    await screenshot(page, "console-staff")

    link = smtp.mailbox.link("aart@spe.example", path="/console/sign-in/confirm")
    invitee = await browsing.page(DESKTOP)
    await invitee.goto(link)
    assert "aart@spe.example" in await _message(invitee)
    await invitee.get_by_role("button", name="Sign in").click()
    await invitee.wait_for_url(f"{live.base_url}/console/spe/")
    assert "(awarder)" in await invitee.inner_text("header")

    app = create_app(settings, runtime=live.runtime, migrate=False)
    assert _role_needed(app, "GET", "/console/{issuer_id}/achievements/{achievement_id}/edit") == "manager"
    refused = await invitee.goto(f"{live.base_url}/console/spe/achievements/{achievement['id']}/edit")
    assert refused is not None and refused.status == 403
    assert "Not allowed" in await invitee.title() and "yours is awarder" in await _message(invitee)
    assert await axe_problems(invitee) == []

    stranger = await add_staff(live.runtime, "pim@other.example", {"other": "owner"})
    outsider = await browsing.page(DESKTOP)
    await sign_in_browser(outsider, live.base_url, live.runtime, stranger, "/console/other/")
    hidden = await outsider.goto(f"{live.base_url}/console/spe/")
    assert hidden is not None and hidden.status == 404
    assert "not on its staff" in await _message(outsider)
    hidden_staff = await outsider.goto(f"{live.base_url}/console/spe/staff")
    assert hidden_staff is not None and hidden_staff.status == 404


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_a_passkey_is_added_and_then_signs_in(browsing: Browsing, live: LiveService, device: dict[str, Any]) -> None:
    await live.client.create_issuer("spe", name="Society of Precision Engineers")
    member = await add_staff(live.runtime, "ana@spe.example", {"spe": "viewer"})
    context = await browsing.context(device)
    page = await context.new_page()
    cdp, authenticator = await virtual_authenticator(context, page)

    await sign_in_browser(page, live.base_url, live.runtime, member, "/console/spe/")
    await page.get_by_role("banner").get_by_role("link", name="Passkeys").click()
    await page.wait_for_url(f"{live.base_url}/console/passkeys")
    assert "You have no passkey yet." in await _message(page)
    await page.get_by_label("Name").fill("Work laptop")
    await page.get_by_role("button", name="Add a passkey").click()
    await page.get_by_role("cell", name="Work laptop", exact=True).wait_for()
    assert await axe_problems(page) == []
    assert await _fits(page, device)
    await screenshot(page, f"console-passkeys-{'phone' if device is PHONE else 'desktop'}")
    [credential] = (await cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator}))["credentials"]
    assert credential["isResidentCredential"] and credential["rpId"] == "localhost"

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(f"{live.base_url}/console/sign-in")
    await page.goto(f"{live.base_url}/console/sign-in?next=/console/spe/")
    button = page.get_by_role("button", name="Sign in with a passkey")
    await button.wait_for()
    assert await axe_problems(page) == []
    assert await _fits(page, device)
    await button.click()
    await page.wait_for_url(f"{live.base_url}/console/spe/")
    assert "Society of Precision Engineers" in await page.inner_text("header")
    assert "ana@spe.example" in await page.inner_text("header")
    [used] = (await cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator}))["credentials"]
    assert used["signCount"] > credential["signCount"]

    await page.goto(f"{live.base_url}/console/passkeys")
    assert "never" not in await page.get_by_role("row", name="Work laptop").inner_text()  # last used: now


async def test_a_passkey_the_service_does_not_know_signs_nobody_in(browsing: Browsing, live: LiveService) -> None:
    await live.client.create_issuer("spe", name="Society of Precision Engineers")
    member = await add_staff(live.runtime, "ana@spe.example", {"spe": "viewer"})
    context = await browsing.context(DESKTOP)
    page = await context.new_page()
    cdp, authenticator = await virtual_authenticator(context, page)
    await sign_in_browser(page, live.base_url, live.runtime, member, "/console/passkeys")
    await page.get_by_label("Name").fill("Old laptop")
    await page.get_by_role("button", name="Add a passkey").click()
    await page.get_by_role("cell", name="Old laptop", exact=True).wait_for()
    await page.get_by_role("button", name="Remove the passkey Old laptop").click()
    await page.get_by_text("You have no passkey yet.").wait_for()
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(f"{live.base_url}/console/sign-in")
    await page.get_by_role("button", name="Sign in with a passkey").click()
    status = page.get_by_role("status").filter(has_text="not registered")
    await status.wait_for()
    assert page.url == f"{live.base_url}/console/sign-in"
    assert await cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})  # it still holds the removed one



@pytest.mark.parametrize("device", [TABLET, PHONE], ids=["tablet", "phone"])
async def test_the_staff_page_fits_a_tablet_and_a_phone(browsing: Browsing, live: LiveService, device: dict[str, Any]) -> None:
    await live.client.create_issuer("spe", name="Society of Precision Engineers")
    owner = await add_staff(live.runtime, "olga.van.der.heijden-bakker@precision-engineers.example", {"spe": "owner"})
    for i, role in enumerate(("viewer", "awarder", "manager")):
        await add_staff(live.runtime, f"colleague-{i}@spe.example", {"spe": role})
    page = await browsing.page(device)
    await sign_in_browser(page, live.base_url, live.runtime, owner, "/console/spe/staff")
    assert page.url == f"{live.base_url}/console/spe/staff"
    assert await axe_problems(page) == []
    wide = await page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => !e.closest('.table-wrap') && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
    assert await _fits(page, device), wide
    select = page.get_by_role("combobox", name="Role of colleague-1@spe.example")
    await select.focus()
    await page.keyboard.press("ArrowDown")  # awarder -> manager, by keyboard
    await page.get_by_role("button", name="Change the role of colleague-1@spe.example").press("Enter")
    await page.wait_for_url(f"{live.base_url}/console/spe/staff?done=role")
    assert await page.get_by_role("combobox", name="Role of colleague-1@spe.example").input_value() == "manager"


async def test_required_passkeys_staff_add_one_and_go_on_where_they_were_going(browsing: Browsing, live: LiveService) -> None:
    await live.client.create_issuer("spe", name="Society of Precision Engineers")
    owner = await add_staff(live.runtime, "olga@spe.example", {"spe": "owner"})
    owners = await browsing.context(DESKTOP)
    page = await owners.new_page()
    await virtual_authenticator(owners, page)
    await sign_in_browser(page, live.base_url, live.runtime, owner, "/console/passkeys")
    await page.get_by_label("Name").fill("Olga's laptop")
    await page.get_by_role("button", name="Add a passkey").click()
    await page.get_by_role("cell", name="Olga's laptop", exact=True).wait_for()
    await page.goto(f"{live.base_url}/console/spe/staff")
    await page.get_by_label("Require passkeys for the staff of Society of Precision Engineers").check()
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_url(f"{live.base_url}/console/spe/staff?done=required")

    viewer = await add_staff(live.runtime, "vera@spe.example", {"spe": "viewer"})
    theirs = await browsing.context(PHONE)
    phone = await theirs.new_page()
    await virtual_authenticator(theirs, phone)
    await sign_in_browser(phone, live.base_url, live.runtime, viewer, "/console/spe/")
    assert phone.url.startswith(f"{live.base_url}/console/passkeys?required=spe")
    assert "requires its staff to sign in with a passkey" in await _message(phone)
    assert await axe_problems(phone) == []
    await phone.get_by_label("Name").fill("Phone")
    await phone.get_by_role("button", name="Add a passkey").press("Enter")
    await phone.wait_for_url(f"{live.base_url}/console/spe/")
    assert "Society of Precision Engineers" in await phone.inner_text("header")
    await screenshot(phone, "console-required-passkey-added")

    await phone.get_by_role("button", name="Sign out").click()
    await phone.wait_for_url(f"{live.base_url}/console/sign-in")
    await sign_in_browser(phone, live.base_url, live.runtime, viewer, "/console/spe/")  # by email again
    assert phone.url.startswith(f"{live.base_url}/console/passkeys/confirm?required=spe")
    assert "confirm with your passkey to continue" in await _message(phone)
    confirm = phone.get_by_role("button", name="Confirm with my passkey")
    await confirm.wait_for()
    assert await axe_problems(phone) == []
    await confirm.click()
    await phone.wait_for_url(f"{live.base_url}/console/spe/")
