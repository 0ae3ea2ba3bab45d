"""The catalogue, pathway pages and a learner's pathways as a person sees them: headless Chromium
against the live service on loopback (browsing.py), axe-core on every page.

HR filters the catalogue by EQF level and sees only the courses of that level (never a draft or
a retired course); a signed-in learner sees on a pathway's page that they hold 2 of its 3
courses and where the missing one is given, then, after the third award, the pathway credential;
/me/pathways lists the same. No page loads anything from another host (the guard of
``browsing`` refuses it and fails the test; the pages also name no other host's resource).
A Dutch browser (Accept-Language: nl) gets the catalogue, its level filter and the gap check in
Dutch, with the same checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from babel.dates import format_date
from playwright.async_api import BrowserContext, Page
from sqlalchemy import func, select

from microcred.config import Settings
from microcred.db.models import Base, EmailDelivery
from microcred.learners import service as learners
from microcred.learners.web import cookie_name

from .browsing import DESKTOP, PHONE, Browsing, axe_problems, browsing, screenshot  # noqa: F401 (fixture)
from .live import LiveService, live, live_base_url  # noqa: F401 (fixtures)

@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The gap check may fetch a share-all link from this machine (the stand-in below); the live
    service's own URLs it reads from its database."""
    return settings.model_copy(update={"verify_allow_loopback": True})


pytestmark = [pytest.mark.asyncio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

LEARNER = "noor@example.org"


async def _open(page: Page, url: str) -> None:
    response = await page.goto(url)
    assert response is not None and response.status == 200, (url, response and response.status)
    assert (response.headers.get("content-type") or "").startswith("text/html")


async def _checked(page: Page, name: str) -> None:
    """What every page of this area must pass: axe, and no resource of another host named."""
    assert await axe_problems(page) == [], name
    named = await page.eval_on_selector_all("[src], link[href], [srcset]", "els => els.map(e => e.getAttribute('src') || e.getAttribute('href') || e.getAttribute('srcset'))")
    assert all(not (u or "").startswith(("http:", "https:", "//")) or u.startswith(page.url.split("/catalogue")[0].split("/me")[0]) for u in named), named
    await screenshot(page, name)


async def _signed_in(live: LiveService, context: BrowserContext, email: str) -> None:
    """A learner's session, made as the emailed link makes it (learners.service), as a cookie."""
    now = datetime.now(UTC)
    async with live.runtime.sessions() as session:
        token = await learners.request_sign_in(session, email=email, next_path="/me", now=now)
        assert token is not None
        signed_in = await learners.complete_sign_in(session, token=token, now=now, session_seconds=3600)
        await session.commit()
    served = live.runtime.settings.model_copy(update={"base_url": live.base_url})  # as the live service runs
    await context.add_cookies([{"name": cookie_name(served), "value": signed_in.session_token, "url": live.base_url}])


async def test_the_catalogue_filters_by_eqf_level_and_lists_no_draft_or_retired_course(browsing: Browsing, live: LiveService) -> None:
    client = live.client
    issuer = (await client.create_issuer())["id"]
    await client.create_achievement(issuer, name="Reading Technical Drawings", eqf_level=4)
    await client.create_achievement(issuer, name="Metrology for Engineers", eqf_level=6, field_of_study="Mechanical engineering")
    await client.create_achievement(issuer, name="Statistical Process Control", eqf_level=6, credits_available=5)
    await client.create_achievement(issuer, name="Unfinished Draft Course", eqf_level=6, status="draft")
    retired = await client.create_achievement(issuer, name="Retired Lathe Course", eqf_level=6)
    response = await client.http.post(f"/api/v1/issuers/{issuer}/achievements/{retired['id']}/retire", headers=client.admin)
    assert response.status_code == 200, response.text

    page = await browsing.page(DESKTOP)
    await _open(page, f"{live.base_url}/catalogue/{issuer}")
    titles = page.locator(".catalogue-entry h3")
    assert await titles.all_inner_texts() == ["Metrology for Engineers", "Reading Technical Drawings", "Statistical Process Control"]
    await _checked(page, "catalogue")

    # HR picks a level with the keyboard-reachable form, as a person would.
    await page.get_by_label("EQF level").select_option(label="EQF level 6")
    await page.get_by_role("button", name="Show courses").click()
    await page.wait_for_url("**level=6**")
    assert await titles.all_inner_texts() == ["Metrology for Engineers", "Statistical Process Control"]
    assert "2 courses found" in await page.locator("#result-count").inner_text()
    first = page.locator(".catalogue-entry").first
    assert "EQF level 6" in await first.inner_text() and "Mechanical engineering" in await first.inner_text()
    await _checked(page, "catalogue-level-6")

    # More filters narrow it further (credits), and an achievement's page says its EU elements in words.
    await page.get_by_label("At least (ECTS)").fill("4")
    await page.get_by_role("button", name="Show courses").click()
    await page.wait_for_url("**min_credits=4**")
    assert await titles.all_inner_texts() == ["Statistical Process Control"]
    await page.get_by_role("link", name="Statistical Process Control").click()
    await page.wait_for_url("**/catalogue/achievements/**")
    text = await page.locator("main").inner_text()
    for expected in ("EQF level 6", "5 ECTS", "Practical examination", "On site", "84 hours", "Turning Academy Eindhoven"):
        assert expected in text, (expected, text)
    await _checked(page, "catalogue-achievement")


async def _pathway(live: LiveService) -> dict[str, Any]:
    client = live.client
    issuer = (await client.create_issuer())["id"]
    other = (await client.create_issuer())["id"]
    courses = [
        (await client.create_achievement(issuer, name="Course A: Drawing")),
        (await client.create_achievement(issuer, name="Course B: Turning")),
        # given elsewhere: another issuer and another provider
        (await client.create_achievement(other, name="Course C: Measuring", provider={"id": "https://measuring.example", "name": "Measuring Lab Delft"})),
    ]
    track = await client.create_achievement(issuer, name="Certified Instrument Maker")
    created = await client.http.post(
        f"/api/v1/issuers/{issuer}/pathways",
        json={
            "name": "Instrument Maker Track", "achievement_id": track["id"],
            "components": [{"achievement_id": courses[0]["id"]}, {"achievement_id": courses[1]["id"]}, {"achievement_id": courses[2]["id"], "issuer_id": other}],
        },
        headers=client.admin,
    )
    assert created.status_code == 201, created.text
    return {"issuer": issuer, "other": other, "courses": courses, "pathway": created.json()["id"]}


async def test_pathway_progress_shows_two_of_three_then_the_pathway_credential(browsing: Browsing, live: LiveService) -> None:
    client = live.client
    made = await _pathway(live)
    a, b, c = made["courses"]
    for course in (a, b):
        response = await client.award(made["issuer"], course["id"], recipient={"email": LEARNER, "name": "Noor de Vries"})
        assert response.status_code == 201, response.text

    context = await browsing.context(PHONE)
    page = await context.new_page()
    url = f"{live.base_url}/catalogue/pathways/{made['pathway']}"
    await _open(page, url)  # not signed in: the courses, and an invitation to sign in
    assert await page.locator("ol.pathway > li").count() == 4
    assert "Sign in" in await page.locator("main").inner_text()
    await _checked(page, "pathway-anonymous")

    await _signed_in(live, context, LEARNER)
    await _open(page, url)
    assert "You hold 2 of the 3 courses needed." in await page.locator("#progress-summary").inner_text()
    steps = page.locator("ol.pathway > li")
    assert [await steps.nth(i).get_attribute("data-state") for i in range(3)] == ["valid", "valid", "missing"]
    missing = await steps.nth(2).inner_text()
    assert "Not yet" in missing and "take it with Measuring Lab Delft" in missing, missing
    assert await steps.nth(3).get_attribute("data-state") is None and "your pathway credential" not in await steps.nth(3).inner_text()
    await _checked(page, "pathway-2-of-3")

    response = await client.award(made["other"], c["id"], recipient={"email": LEARNER, "name": "Noor de Vries"})
    assert response.status_code == 201, response.text
    await _open(page, url)
    assert "You have completed this pathway." in await page.locator("#progress-summary").inner_text()
    goal = steps.nth(3)
    assert await goal.get_attribute("data-state") == "valid"
    await goal.get_by_role("link", name="your pathway credential").click()
    await page.wait_for_url(f"{live.base_url}/credentials/**")
    assert "Certified Instrument Maker" in await page.locator("h1").inner_text()

    await _open(page, f"{live.base_url}/me/pathways")
    main = await page.locator("main").inner_text()
    assert "Instrument Maker Track" in main and "Completed." in main, main
    await _checked(page, "me-pathways")


async def test_my_pathways_asks_a_stranger_to_sign_in(browsing: Browsing, live: LiveService) -> None:
    page = await browsing.page(DESKTOP)
    await page.goto(f"{live.base_url}/me/pathways")
    assert "/learners/sign-in" in page.url and "next=%2Fme%2Fpathways" in page.url


async def _row_counts(live: LiveService) -> dict[str, int]:
    """Every table's row count: what a gap check must leave as it was. First the awards' emails
    are let out (the live service's sender writes its own rows, an issuer's pace, as it sends)."""
    for _ in range(200):
        async with live.runtime.sessions() as session:
            waiting = await session.scalar(select(func.count()).select_from(EmailDelivery).where(EmailDelivery.status.in_(("queued", "retrying"))))
        if not waiting:
            break
        await asyncio.sleep(0.05)
    async with live.runtime.sessions() as session:
        return {table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0) for table in Base.metadata.sorted_tables}


async def _three_credentials_one_revoked(live: LiveService) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The pathway of _pathway, all three courses awarded to one person, the third revoked."""
    client = live.client
    made = await _pathway(live)
    awarded = []
    for course, issuer in zip(made["courses"], (made["issuer"], made["issuer"], made["other"]), strict=True):
        response = await client.award(issuer, course["id"], recipient={"email": "sam@example.org", "name": "Sam Bakker"})
        assert response.status_code == 201, response.text
        awarded.append(response.json())
    revoked = await client.http.post(f"/api/v1/issuers/{made['other']}/credentials/{awarded[2]['id']}/revoke", json={"reason": "awarded by mistake"}, headers=client.admin)
    assert revoked.status_code == 200, revoked.text
    return made, awarded


async def _gap_checked(page: Page, live: LiveService, urls: list[str]) -> str:
    await _open(page, f"{live.base_url}/catalogue/gap-check")
    await _checked(page, "gap-check-form")
    await page.get_by_label("Credential URLs").fill("\n".join(urls))
    await page.get_by_role("button", name="Check these credentials").click()
    await page.locator(".gap-pathway").first.wait_for()
    return " ".join((await page.locator(".gap-pathway").first.inner_text()).split())


async def test_the_gap_check_with_three_urls_one_revoked_counts_two_and_stores_nothing(browsing: Browsing, live: LiveService) -> None:
    made, awarded = await _three_credentials_one_revoked(live)
    before = await _row_counts(live)

    page = await browsing.page(DESKTOP)
    shown = await _gap_checked(page, live, [a["credential"]["id"] for a in awarded])
    assert "Instrument Maker Track" in shown and "Holds 2 of the 3 courses needed." in shown, shown
    courses = page.locator(".gap-courses li")
    assert [await courses.nth(i).get_attribute("data-state") for i in range(3)] == ["valid", "valid", "revoked"]
    third = " ".join((await courses.nth(2).inner_text()).split())
    assert "Revoked: does not count" in third and "given by Measuring Lab Delft" in third, third
    checked = page.locator(".gap-checked li")
    assert [await checked.nth(i).get_attribute("data-state") for i in range(3)] == ["valid", "valid", "revoked"]
    assert "Sam Bakker" in await checked.nth(0).inner_text()
    await _checked(page, "gap-check-result")

    assert await _row_counts(live) == before, "a gap check wrote a row"


class _ShareAll(BaseHTTPRequestHandler):
    """A stand-in for a learner's share-all link (the backpack's /share/{token}): its JSON."""

    credentials: list[dict[str, Any]] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = json.dumps({"credentials": self.credentials}).encode()
        wants_json = "application/json" in (self.headers.get("Accept") or "")
        self.send_response(200 if wants_json and self.path.startswith("/share/") else 406)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _share_all(credentials: list[dict[str, Any]]) -> Iterator[str]:
    handler = type("Handler", (_ShareAll,), {"credentials": credentials})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/share/a-learners-token"
    finally:
        server.shutdown()
        server.server_close()


async def test_the_gap_check_reads_a_share_all_link(browsing: Browsing, live: LiveService) -> None:
    made, awarded = await _three_credentials_one_revoked(live)
    before = await _row_counts(live)
    page = await browsing.page(PHONE)
    with _share_all([a["credential"] for a in awarded]) as link:
        shown = await _gap_checked(page, live, [link])
    assert "Holds 2 of the 3 courses needed." in shown, shown
    assert await page.locator(".gap-checked li").count() == 3
    await _checked(page, "gap-check-share-all")
    assert await _row_counts(live) == before, "a gap check wrote a row"


async def test_a_dutch_browser_filters_the_catalogue_by_level_and_runs_the_gap_check_in_dutch(browsing: Browsing, live: LiveService) -> None:
    client = live.client
    made, awarded = await _three_credentials_one_revoked(live)
    await client.create_achievement(made["issuer"], name="Meten en regelen", eqf_level=6, credits_available=7.5, notional_workload_hours=187.5, field_of_study="Werktuigbouwkunde")

    page = await browsing.page(DESKTOP, locale="nl-NL")  # Chromium then asks for Dutch (Accept-Language)
    await _open(page, f"{live.base_url}/catalogue/{made['issuer']}")
    assert await page.locator("html").get_attribute("lang") == "nl"
    assert "Cursussen" in await page.locator("h1").inner_text()
    await _checked(page, "catalogue-nl")

    await page.get_by_label("EQF-niveau", exact=True).select_option(label="EQF-niveau 6")
    await page.get_by_role("button", name="Cursussen tonen").click()
    await page.wait_for_url("**level=6**")
    assert await page.locator(".catalogue-entry h3").all_inner_texts() == ["Meten en regelen"]
    assert "1 cursus gevonden" in await page.locator("#result-count").inner_text()
    entry = " ".join((await page.locator(".catalogue-entry").first.inner_text()).split())
    for words in ("EQF-niveau 6", "7,5 ECTS, 187,5 uur", "Vakgebied", "Werktuigbouwkunde"):
        assert words in entry, (words, entry)
    await _checked(page, "catalogue-nl-level-6")

    before = await _row_counts(live)
    await _open(page, f"{live.base_url}/catalogue/gap-check")
    assert await page.locator("h1").inner_text() == "Gapanalyse"
    await _checked(page, "gap-check-form-nl")
    await page.get_by_label("URL's van credentials").fill("\n".join(a["credential"]["id"] for a in awarded))
    await page.get_by_role("button", name="Deze credentials controleren").click()
    await page.locator(".gap-pathway").first.wait_for()
    shown = " ".join((await page.locator(".gap-pathway").first.inner_text()).split())
    assert "Instrument Maker Track" in shown and "Heeft 2 van de 3 benodigde cursussen behaald." in shown, shown
    assert "Ingetrokken: telt niet mee; gegeven door Measuring Lab Delft" in shown, shown
    checked = " ".join((await page.locator(".gap-checked").inner_text()).split())
    today = format_date(datetime.now(UTC).date(), format="long", locale="nl_NL")
    assert f"uitgegeven op {today}" in checked and "Sam Bakker" in checked, checked
    assert "De uitgever heeft dit credential ingetrokken." in checked, checked  # why it does not count, in plain words
    await _checked(page, "gap-check-result-nl")
    assert await _row_counts(live) == before, "a gap check wrote a row"

    await page.get_by_role("link", name="Instrument Maker Track").click()  # the pathway's page, in Dutch too
    await page.wait_for_url("**/catalogue/pathways/**")
    main = " ".join((await page.locator("main").inner_text()).split())
    assert "Leidt tot: Certified Instrument Maker" in main and "na 3 van deze 3 cursussen" in main and "Log in om te zien" in main, main
    await _checked(page, "pathway-nl")
