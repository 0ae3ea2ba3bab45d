"""The public pages in the reader's language: Accept-Language, the switcher and its cookie."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ..factories.service import ServiceClient

pytestmark = pytest.mark.asyncio

HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"


async def _credential_path(service: ServiceClient) -> tuple[str, dict[str, Any]]:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    response = await service.award(issuer["id"], achievement["id"], recipient={"email": "zoe@example.org", "name": "Zoë Jansen"}, completion_date="2026-03-03T10:00:00Z")
    assert response.status_code == 201, response.text
    award = response.json()
    return award["url"].removeprefix(service.runtime.settings.base_url), award


def _lang(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', html)
    assert found, "the page must declare its language"
    return found.group(1)


async def test_a_dutch_browser_reads_the_credential_page_in_dutch_with_dutch_dates(service: ServiceClient) -> None:
    path, award = await _credential_path(service)
    response = await service.http.get(path, headers={"Accept": HTML, "Accept-Language": "nl-NL,nl;q=0.9,en;q=0.8"})
    assert response.status_code == 200
    assert _lang(response.text) == "nl" and response.headers["content-language"] == "nl"
    assert "Accept-Language" in response.headers["vary"] and "Accept" in response.headers["vary"]
    assert "Dit is een geldig credential" in response.text and "Technische details" in response.text
    assert "3 maart 2026" in response.text  # the completion date, written the Dutch way
    assert "Technical details" not in response.text and "March" not in response.text
    assert award["credential"]["credentialSubject"]["achievement"]["name"] in response.text  # the achievement keeps its own words

    english = await service.http.get(path, headers={"Accept": HTML, "Accept-Language": "en-GB"})
    assert _lang(english.text) == "en" and "3 March 2026" in english.text and "This is a valid credential" in english.text


async def test_the_switcher_changes_the_language_and_the_choice_sticks(service: ServiceClient) -> None:
    path, _ = await _credential_path(service)
    first = await service.http.get(path, headers={"Accept": HTML, "Accept-Language": "en"})
    switch = re.search(r'<a href="([^"]+)" hreflang="nl" lang="nl">Nederlands</a>', first.text)
    assert switch, "an English page links to its Dutch version"
    dutch = await service.http.get(switch.group(1).replace("&amp;", "&"), headers={"Accept": HTML, "Accept-Language": "en"})
    assert _lang(dutch.text) == "nl" and "microcred_lang=nl" in dutch.headers["set-cookie"]
    assert '<span aria-current="true" lang="nl">Nederlands</span>' in dutch.text
    # the next page, asked by the same browser (the cookie), stays Dutch though the browser prefers English
    verify = await service.http.get("/verify", headers={"Accept": HTML, "Accept-Language": "en"})
    assert _lang(verify.text) == "nl" and "Een credential controleren" in verify.text
    service.http.cookies.clear()
    assert _lang((await service.http.get("/verify", headers={"Accept-Language": "en"})).text) == "en"


async def test_the_switch_link_keeps_the_rest_of_the_address(service: ServiceClient) -> None:
    """An unlisted credential's page answers only with its secret part: switching must keep it."""
    response = await service.http.get("/verify?url=https%3A%2F%2Fexample.org%2Fc&lang=nl", headers={"Accept": HTML})
    links = re.findall(r'<a href="([^"]+)" hreflang="en"', response.text)
    assert links and "url=https%3A%2F%2Fexample.org%2Fc" in links[0] and "lang=en" in links[0]


async def test_a_language_we_do_not_speak_is_english_and_json_is_untouched(service: ServiceClient) -> None:
    path, award = await _credential_path(service)
    page = await service.http.get(path, headers={"Accept": HTML, "Accept-Language": "de-DE,fr;q=0.8"})
    assert _lang(page.text) == "en"
    machine = await service.http.get(path, headers={"Accept": "application/ld+json", "Accept-Language": "nl"})
    assert machine.json() == award["credential"] and "content-language" not in machine.headers
    assert machine.headers["vary"] == "Accept"


async def test_every_public_page_declares_its_language_in_both_languages(service: ServiceClient) -> None:
    path, award = await _credential_path(service)
    issuer_id = award["issuer_id"]
    achievement_id = award["achievement_id"]
    pages = [
        path, "/verify", "/catalogue", f"/catalogue/{issuer_id}", f"/catalogue/achievements/{achievement_id}", "/catalogue/gap-check",
        "/learners/sign-in", "/me",  # signed out: the sign-in page
    ]
    for language in ("en", "nl"):
        for page in pages:
            response = await service.http.get(page, headers={"Accept": HTML, "Accept-Language": language}, follow_redirects=True)
            assert response.status_code == 200, (page, response.status_code)
            assert _lang(response.text) == language and response.headers["content-language"] == language, page
            assert "Accept-Language" in response.headers["vary"], page
