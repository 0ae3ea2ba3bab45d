"""The learner's pages in their language: a Dutch browser signs in and reads its backpack, the
share-all page, error pages and the consent page in Dutch, with Dutch dates; a learner's language
setting (saved from the backpack) holds on any browser that made no choice of its own; and a
learner removes an address they added, taking its credentials out of the backpack."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import func, select, update

from microcred.db.models import Credential, Learner, LearnerAddress
from microcred.runtime import Runtime

from ..factories.service import ServiceClient
from .conftest import BASE_URL
from .test_backpack import WORK, _add_address, _award, _csrf, _listed_ids, _signed_in
from .test_obapi import (  # noqa: F401 (fixtures: a real SMTP server and the app at its public URL)
    LEARNER,
    REDIRECT,
    Smtp,
    app_transport,
    browse,
    client_for,
    form_action,
    hidden_fields,
    host,
    pkce,
    register,
    settings,
    smtp,
)

pytestmark = pytest.mark.asyncio

DUTCH = {"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
DUTCH_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december")
ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")


def _lang(page: httpx.Response) -> str:
    found = re.search(r'<html lang="([^"]+)"', page.text)
    assert found, "the page must declare its language"
    return found.group(1)


async def _issued_on(runtime: Runtime, credential_id: str, when: datetime) -> None:
    """Fix a credential's issue date, so the page's date can be read in words."""
    async with runtime.sessions() as session, session.begin():
        await session.execute(update(Credential).where(Credential.id == credential_id).values(issued_at=when))


async def _sign_in_in_dutch(browser: httpx.AsyncClient, smtp: Smtp, email: str = LEARNER) -> httpx.Response:
    """The backpack's sign-in as a Dutch browser goes through it: every page in Dutch."""
    first = await browser.get("/me")
    assert first.status_code == 303
    form = await browser.get(first.headers["location"])
    assert _lang(form) == "nl" and form.headers["content-language"] == "nl"
    assert "<h1>Aanmelden</h1>" in form.text and "Mail mij een aanmeldlink" in form.text and "E-mailadres" in form.text
    wrong = await browser.post(form_action(form.text), data={**hidden_fields(form.text), "email": "not an address"})
    assert wrong.status_code == 400 and "Vul uw e-mailadres in" in wrong.text
    sent = await browse(browser, "POST", form_action(form.text), data={**hidden_fields(form.text), "email": email})
    assert sent.status_code == 200 and "Kijk in uw e-mail" in sent.text and "binnen 15 minuten" in sent.text
    confirm = await browser.get(smtp.mailbox.sign_in_link(email))
    assert _lang(confirm) == "nl" and "Ga verder om u aan te melden als <strong>" in confirm.text
    return await browse(browser, "POST", form_action(confirm.text), data=hidden_fields(confirm.text))


async def test_a_dutch_browser_reads_its_backpack_share_page_and_errors_in_dutch_with_dutch_dates(
    service: ServiceClient, app_transport: httpx.ASGITransport, smtp: Smtp, runtime: Runtime
) -> None:
    (credential,) = await _award(service, "Society of Precision Engineers", LEARNER)
    await _issued_on(runtime, credential, datetime(2026, 3, 3, 10, tzinfo=UTC))
    async with client_for(app_transport) as browser:
        browser.headers.update(DUTCH)
        page = await _sign_in_in_dutch(browser, smtp)
        assert page.status_code == 200 and _lang(page) == "nl" and page.headers["content-language"] == "nl"
        assert "<h1>Mijn credentials</h1>" in page.text and "1 credential toegekend aan uw adressen" in page.text
        assert "Van Society of Precision Engineers, uitgegeven op <time datetime=\"2026-03-03\">3 maart 2026</time>" in page.text
        for words in ("Zichtbaarheid van", "Verborgen (alleen de deellink", "Uw adressen", "Uw account verwijderen", "Afmelden"):
            assert words in page.text
        for words in ("Your backpack", "March", "Save visibility", "Sign out"):
            assert words not in page.text
        # The backpack's messages and error pages speak Dutch too.
        saved = await browse(browser, "POST", "/me/visibility", data={"csrf_token": _csrf(page.text), "credential_id": credential, "visibility": "public"})
        assert "Zichtbaarheid opgeslagen." in saved.text
        unreadable = await browser.post("/me/visibility", data={"csrf_token": _csrf(page.text), "credential_id": credential})
        assert unreadable.status_code == 422 and "<h1>Dit is niet gelukt</h1>" in unreadable.text and "Ga terug en probeer het opnieuw." in unreadable.text
        forged = await browser.post("/me/visibility", data={"csrf_token": "forged", "credential_id": credential, "visibility": "public"})
        assert forged.status_code == 403 and _lang(forged) == "nl" and "<h1>Niet toegestaan</h1>" in forged.text
        assert "Dit formulier kwam niet van uw pagina Mijn credentials" in forged.text
        asked = await browse(browser, "POST", "/me/addresses", data={"csrf_token": _csrf(saved.text), "email": WORK})
        assert "We hebben een link naar dat adres gemaild" in asked.text
        # The share-all page a learner hands an employer, read by a Dutch employer.
        made = await browse(browser, "POST", "/me/share-links", data={"csrf_token": _csrf(saved.text)})
        assert "Deellink gemaakt." in made.text and "Deel-alles-link 1" in made.text
        share = re.search(rf'value="({re.escape(BASE_URL)}/share/[^"]+)"', made.text)
        assert share
    async with client_for(app_transport) as employer:
        shown = await employer.get(share.group(1), headers=DUTCH)
        assert _lang(shown) == "nl" and "<h1>Gedeelde credentials</h1>" in shown.text
        # (the date the signed credential carries: the day it was issued, written the Dutch way)
        issued = re.search(r'van Society of Precision Engineers, uitgegeven op <time datetime="(\d{4})-(\d\d)-(\d\d)">([^<]+)</time>', shown.text)
        assert issued, shown.text
        year, month, day = (int(part) for part in issued.groups()[:3])
        assert issued.group(4) == f"{day} {DUTCH_MONTHS[month - 1]} {year}"
        english = await employer.get(share.group(1), headers=ENGLISH)
        assert _lang(english) == "en" and "<h1>Shared credentials</h1>" in english.text
        assert f"issued <time datetime=\"{year:04}-{month:02}-{day:02}\">{day} {ENGLISH_MONTHS[month - 1]} {year}</time>" in english.text
        gone = await employer.get("/share/no-such-link", headers=DUTCH)
        assert gone.status_code == 404 and "<h1>Niet gevonden</h1>" in gone.text and "Deze deellink bestaat niet" in gone.text


async def test_the_consent_page_asks_in_dutch(host: httpx.AsyncClient, app_transport: httpx.ASGITransport, smtp: Smtp) -> None:
    client = await register(host, client_name="Mijn Portfolio")
    _, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT,
        "scope": "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    async with client_for(app_transport) as browser:
        browser.headers.update(DUTCH)
        form = await browse(browser, "GET", "/oauth/authorize?" + urlencode(query))
        assert _lang(form) == "nl" and "om een applicatie uw Open Badges-credentials" in form.text
        sent = await browse(browser, "POST", form_action(form.text), data={**hidden_fields(form.text), "email": LEARNER})
        confirm = await browser.get(smtp.mailbox.sign_in_link(LEARNER))
        assert "Kijk in uw e-mail" in sent.text
        consent = await browse(browser, "POST", form_action(confirm.text), data=hidden_fields(confirm.text))
        assert consent.status_code == 200 and _lang(consent) == "nl"
        assert "<title>Mijn Portfolio toestaan?</title>" in consent.text
        assert "de Open Badges-credentials lezen die aan uw e-mailadres zijn toegekend" in consent.text
        assert ">Toestaan</button>" in consent.text and ">Weigeren</button>" in consent.text


async def test_a_learners_language_setting_holds_on_a_browser_that_made_no_choice(
    service: ServiceClient, app_transport: httpx.ASGITransport, smtp: Smtp, runtime: Runtime
) -> None:
    (credential,) = await _award(service, "Society of Precision Engineers", LEARNER)
    await _issued_on(runtime, credential, datetime(2026, 3, 3, 10, tzinfo=UTC))
    async with client_for(app_transport) as browser:
        browser.headers.update(ENGLISH)
        page = await _signed_in(browser, smtp)
        assert '<label for="language">Language of your pages and emails</label>' in page.text
        assert '<option value="nl" lang="nl">Nederlands</option>' in page.text and '<option value="en" lang="en" selected>English</option>' in page.text
        # Nonsense is refused in words, and changes nothing.
        for value in ("xx", "", "nl-NL", "NL"):
            refused = await browser.post("/me/language", data={"csrf_token": _csrf(page.text), "language": value})
            assert refused.status_code == 400 and "Choose one of the languages listed." in refused.text, value
        assert (await browser.post("/me/language", data={"language": "nl"})).status_code == 403  # no CSRF token
        assert (await browser.post("/me/language", data={"csrf_token": _csrf(page.text), "language": "x" * 500})).status_code == 422
        async with runtime.sessions() as session:
            assert (await session.scalar(select(Learner.language))) is None
        # Saved: the next page is Dutch at once, on this browser that asks for English.
        saved = await browser.post("/me/language", data={"csrf_token": _csrf(page.text), "language": "nl"})
        assert saved.status_code == 303 and "microcred_lang=nl" in saved.headers["set-cookie"]
        page = await browser.get(saved.headers["location"])
        assert _lang(page) == "nl" and "Taal opgeslagen." in page.text and "3 maart 2026" in page.text
        assert '<option value="nl" lang="nl" selected>Nederlands</option>' in page.text
    async with runtime.sessions() as session:
        assert (await session.scalar(select(Learner.language))) == "nl"
    # Another browser, English by its header and without a language cookie: once signed in, the
    # learner's setting decides. A choice made on that browser (the switcher) still wins.
    async with client_for(app_transport) as other:
        other.headers.update(ENGLISH)
        form = await other.get("/learners/sign-in?next=%2Fme")
        assert _lang(form) == "en"  # not signed in yet: nobody's setting
        sent = await browse(other, "POST", form_action(form.text), data={**hidden_fields(form.text), "email": LEARNER})
        confirm = await other.get(smtp.mailbox.sign_in_link(LEARNER))
        page = await browse(other, "POST", form_action(confirm.text), data=hidden_fields(confirm.text))
        assert "Check your email" in sent.text and "microcred_lang" not in other.cookies
        assert _lang(page) == "nl" and page.headers["content-language"] == "nl" and "<h1>Mijn credentials</h1>" in page.text
        assert "3 maart 2026" in page.text and "Your backpack" not in page.text
        english = await other.get("/me?lang=en")
        assert _lang(english) == "en" and "<h1>Your backpack</h1>" in english.text and "3 March 2026" in english.text
        # Back to English for good, from the Dutch page.
        saved = await browse(other, "POST", "/me/language", data={"csrf_token": _csrf(page.text), "language": "en"})
        assert _lang(saved) == "en" and "Language saved." in saved.text
    async with runtime.sessions() as session:
        assert (await session.scalar(select(Learner.language))) == "en"


async def test_a_learner_removes_an_added_address_and_its_credentials_leave_the_backpack(
    service: ServiceClient, app_transport: httpx.ASGITransport, smtp: Smtp, runtime: Runtime
) -> None:
    (own,) = await _award(service, "Society of Precision Engineers", LEARNER)
    (work,) = await _award(service, "Dutch Welding Institute", WORK)
    async with client_for(app_transport) as browser:
        page = await _signed_in(browser, smtp)
        page = await _add_address(browser, smtp, page, WORK)
        assert _listed_ids(page.text) == [work, own]
        assert f"Remove {WORK}" in page.text and f"Remove {LEARNER}" not in page.text  # the sign-in address has no button
        # The sign-in address stays; an address that is not theirs is not found; the form needs its token.
        kept = await browser.post("/me/addresses/remove", data={"csrf_token": _csrf(page.text), "email": LEARNER})
        assert kept.status_code == 400 and "You sign in with this address, so it stays." in kept.text
        unknown = await browser.post("/me/addresses/remove", data={"csrf_token": _csrf(page.text), "email": "someone@example.org"})
        assert unknown.status_code == 404 and "not one of your added addresses" in unknown.text
        assert (await browser.post("/me/addresses/remove", data={"csrf_token": "forged", "email": WORK})).status_code == 403
        page = await browse(browser, "POST", "/me/addresses/remove", data={"csrf_token": _csrf(page.text), "email": WORK})
        assert page.status_code == 200 and "Address removed: the credentials awarded to it are no longer listed here." in page.text
        assert _listed_ids(page.text) == [own] and WORK not in page.text
        # Nor does the ZIP or a share-all link carry it any more.
        page = await browse(browser, "POST", "/me/share-links", data={"csrf_token": _csrf(page.text)})
        share = re.search(rf'value="({re.escape(BASE_URL)}/share/[^"]+)"', page.text)
        assert share
        shown = await browser.get(share.group(1) + "?format=json")
        assert [c["id"] for c in shown.json()["credentials"]] == [f"{BASE_URL}/credentials/{own}"]
        again = await browser.post("/me/addresses/remove", data={"csrf_token": _csrf(page.text), "email": WORK})
        assert again.status_code == 404
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(LearnerAddress)) == 0
    # The work credential is still issued and still shows on its own page.
    async with client_for(app_transport) as anyone:
        assert (await anyone.get(f"/credentials/{work}")).status_code == 200
