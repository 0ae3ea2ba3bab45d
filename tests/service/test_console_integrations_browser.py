"""The console's award form, API keys, pathways, endorsements, webhooks and audit log in headless
Chromium, as an issuer's owner uses them: a key made, copied with the Copy button, used against
the API and revoked (the next request with it is refused); a credential awarded from the form
whose public page names the learner; the audit log naming the owner for each of these, and its
chain verified. axe-core finds no serious or critical violation on any of these pages, on a
desktop, a tablet and a phone, and none of them scrolls sideways."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.async_api import ConsoleMessage, Page

from microcred.config import Settings

from .browsing import DESKTOP, PHONE, TABLET, Browsing, axe_problems, browsing, screenshot  # noqa: F401 (fixture)
from .console_helpers import add_staff, sign_in_browser
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.asyncio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Webhook endpoints on this machine are allowed (the log page is shown with one)."""
    return settings.model_copy(update={"webhook_allow_loopback": True})


def console_errors(page: Page) -> list[str]:
    """What the browser reported as errors (a script refused by the CSP would show here); a page
    answered with a 4xx status on purpose (a form with errors) is not one."""
    errors: list[str] = []

    def seen(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource: the server responded with a status of 4"):
            errors.append(message.text)

    page.on("console", seen)
    return errors


async def test_an_owner_makes_copies_uses_and_revokes_an_api_key_awards_and_audits(browsing: Browsing, live: LiveService) -> None:
    issuer = await live.client.create_issuer("spe", name="Society of Precision Engineers")
    achievement = await live.client.create_achievement(issuer["id"], name="Precision Welding")
    owner = await add_staff(live.runtime, "olga@spe.example", {"spe": "owner"})
    context = await browsing.context(DESKTOP)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.base_url)
    page = await context.new_page()
    errors = console_errors(page)
    await sign_in_browser(page, live.base_url, live.runtime, owner, "/console/spe/api-keys")
    assert page.url == f"{live.base_url}/console/spe/api-keys"

    # Make a key that may award, copy it with the button.
    await page.get_by_label("Name").fill("Moodle")
    await page.get_by_label("Revoke and suspend credentials").uncheck()
    await page.get_by_label("Award credentials (one or in bulk) and follow bulk jobs").check()
    await page.get_by_role("button", name="Create key").click()
    await page.wait_for_load_state()
    shown = page.locator("#new-key")
    key = await shown.input_value()
    assert key.startswith("mc_")
    await page.get_by_role("button", name="Copy").focus()  # by keyboard
    await page.keyboard.press("Enter")
    await page.locator("#new-key-copied").filter(has_text="Copied.").wait_for()
    assert await page.evaluate("navigator.clipboard.readText()") == key
    await screenshot(page, "console-api-key-shown")

    async with httpx.AsyncClient(base_url=live.base_url, trust_env=False, timeout=30) as api:
        bearer = {"Authorization": f"Bearer {key}"}
        assert (await api.get("/api/v1/issuers/spe", headers=bearer)).status_code == 200
        # Listed, never shown again, with its last use.
        await page.goto(f"{live.base_url}/console/spe/api-keys")
        assert key not in await page.content()
        row = page.get_by_role("row", name="Moodle")
        assert "active" in await row.inner_text() and "never" not in await row.inner_text()
        await row.locator("summary", has_text="Revoke").click()  # asks first, saying what follows
        assert "refused from its next request, for good" in await row.inner_text()
        await row.get_by_role("button", name="Revoke the key “Moodle”").click()
        await page.wait_for_load_state()
        assert "revoked" in await page.get_by_role("row", name="Moodle").inner_text()
        refused = await api.get("/api/v1/issuers/spe", headers=bearer)
        assert refused.status_code == 401 and "revoked" in refused.json()["detail"]

    # Award one credential from the form; its public page names the learner.
    await page.get_by_role("navigation", name="Issuer sections").get_by_role("link", name="Award").click()
    await page.get_by_label("Learner's email").fill("zoe@example.org")
    await page.get_by_label("Learner's name").fill("Zoë Jansen")
    await page.get_by_label("Achievement").select_option(achievement["id"])
    await page.get_by_label("Completion date").fill("2026-11-30")
    await page.get_by_role("button", name="Award").click()
    await page.wait_for_load_state()
    assert "was awarded" in await page.inner_text("main")
    await page.get_by_role("link", name="See the credential's public page").click()
    await page.wait_for_load_state()
    assert page.url.startswith(f"{live.base_url}/credentials/")
    assert "Zoë Jansen" in await page.inner_text("body")

    # The audit log names the owner for each, and its chain holds.
    await page.goto(f"{live.base_url}/console/spe/audit")
    table = page.locator("table tbody")
    for action in ("credential.issued", "client.revoked", "client.created"):
        row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=action, exact=True))
        assert await row.count() == 1, action
        assert await row.locator("td.actor").inner_text() == "olga@spe.example"
    await page.get_by_label("Who").fill("olga@spe.example")
    await page.get_by_label("Action").fill("client.*")
    await page.get_by_role("button", name="Show entries").click()
    await page.wait_for_load_state()
    assert await table.get_by_role("row").count() == 2
    await page.get_by_role("button", name="Verify the chain").click()
    await page.wait_for_load_state()
    assert "The chain holds." in await page.locator("#chain-result").inner_text()
    await screenshot(page, "console-audit-verified")
    assert errors == []


async def _pages(live: LiveService) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every page of the area, with something on it: (name, path, form to submit first or None)."""
    issuer = await live.client.create_issuer("spe", name="Society of Precision Engineers")
    await live.client.create_issuer("other", name="Other Society")
    achievement = await live.client.create_achievement(issuer["id"], name="Precision Welding")
    second = await live.client.create_achievement(issuer["id"], name="Precision Grinding")
    master = await live.client.create_achievement(issuer["id"], name="Master Machinist")
    admin = live.client.admin
    made = await live.client.http.post(
        "/api/v1/issuers/spe/pathways",
        json={"name": "Master", "achievement_id": master["id"], "components": [{"achievement_id": achievement["id"]}, {"achievement_id": second["id"]}]},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    hook = await live.client.http.post("/api/v1/issuers/spe/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["credential.issued"]}, headers=admin)
    assert hook.status_code == 201, hook.text
    assert (await live.client.http.post(f"/api/v1/issuers/spe/webhooks/{hook.json()['id']}/test", headers=admin)).status_code == 202
    assert (await live.client.http.post("/api/v1/issuers/spe/endorsements", json={"subject_issuer_id": "other", "endorsement_comment": "Sound."}, headers=admin)).status_code == 201
    await live.client.award("spe", achievement["id"])
    return [
        ("award", "/console/spe/award", None),
        ("award-errors", "/console/spe/award", {"button": "Award"}),
        ("api-keys", "/console/spe/api-keys", {"fill": {"Name": "Moodle"}, "button": "Create key"}),
        ("pathways", "/console/spe/pathways", None),
        ("pathway-new", "/console/spe/pathways/new", None),
        ("pathway-edit", f"/console/spe/pathways/{made.json()['id']}", None),
        ("endorsements", "/console/spe/endorsements", None),
        ("webhooks", "/console/spe/webhooks", None),
        ("webhook-log", f"/console/spe/webhooks/{hook.json()['id']}", None),
        ("audit", "/console/spe/audit", {"button": "Verify the chain"}),
        ("audit-errors", "/console/spe/audit?since=2026-13-01", None),
    ]


@pytest.mark.parametrize("device", [DESKTOP, TABLET, PHONE], ids=["desktop", "tablet", "phone"])
async def test_every_page_passes_axe_and_fits_the_screen(browsing: Browsing, live: LiveService, device: dict[str, Any]) -> None:
    pages = await _pages(live)
    owner = await add_staff(live.runtime, "olga@spe.example", {"spe": "owner"})
    page = await browsing.page(device)
    errors = console_errors(page)
    await sign_in_browser(page, live.base_url, live.runtime, owner, "/console/spe/award")
    found: dict[str, list[str]] = {}
    for name, path, action in pages:
        await page.goto(f"{live.base_url}{path}")
        assert await page.locator("h1").count() == 1, name
        if action is not None:
            for label, value in action.get("fill", {}).items():
                await page.get_by_label(label, exact=True).fill(value)
            await page.get_by_role("button", name=action["button"], exact=True).click()
            await page.wait_for_load_state()
        problems = await axe_problems(page)
        if problems:
            found[name] = problems
        await screenshot(page, f"console-{name}-{device['viewport']['width']}")
        width = await page.evaluate("document.documentElement.scrollWidth")
        wide = await page.evaluate(  # what sticks out, for the message
            "w => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w).map(e => e.tagName + '.' + e.className + '#' + e.id + ':' + Math.round(e.getBoundingClientRect().right)).slice(0, 8)",
            device["viewport"]["width"],
        )
        assert width <= device["viewport"]["width"], f"{name} scrolls sideways: {wide}"
    assert found == {}
    assert errors == []
