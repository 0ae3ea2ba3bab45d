"""The catalogue's data layer and pages on SQLite and PostgreSQL: what is listed (published
achievements only), each filter, paging; a learner's pathway progress (valid, revoked, expired,
missing; the pathway credential once issued) over all their verified addresses; the gap check
with uploaded files, this service's own URLs (read from the database, never fetched) and a
share-all link, which writes nothing; the pages in Dutch. The browser tests
(test_catalogue_browser.py) show the same to a person."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from babel.dates import format_date
from sqlalchemy import func, select, update

from microcred.backpack import service as backpack
from microcred.catalogue import service as catalogue
from microcred.catalogue.gap import own_address
from microcred.catalogue.service import Filters
from microcred.db.models import Base, Credential, LearnerAddress
from microcred.fetch import Fetched
from microcred.learners import service as learners
from microcred.learners.web import cookie_name
from microcred.pathways.progress import progress

from ..factories.service import ServiceClient

pytestmark = pytest.mark.asyncio


async def _names(service: ServiceClient, filters: Filters) -> list[str]:
    async with service.runtime.sessions() as session:
        found = await catalogue.listing(session, filters=filters)
    return [e.name for e in found.achievements]


async def test_the_catalogue_lists_published_achievements_only_and_each_filter_narrows_it(service: ServiceClient) -> None:
    issuer = (await service.create_issuer())["id"]
    other = (await service.create_issuer(name="Delft Metrology Institute"))["id"]
    await service.create_achievement(issuer, name="Drawing", eqf_level=4, credits_available=2, field_of_study="Mechanical engineering")
    await service.create_achievement(issuer, name="Turning", eqf_level=5, credits_available=6, field_of_study="Mechanical engineering")
    await service.create_achievement(other, name="Measuring", eqf_level=5, credits_available=4, field_of_study="Metrology", provider={"id": "https://lab.example", "name": "Measuring Lab Delft"})
    await service.create_achievement(issuer, name="A draft", status="draft")
    retired = await service.create_achievement(issuer, name="Retired")
    assert (await service.http.post(f"/api/v1/issuers/{issuer}/achievements/{retired['id']}/retire", headers=service.admin)).status_code == 200

    assert await _names(service, Filters()) == ["Drawing", "Measuring", "Turning"]
    assert await _names(service, Filters(level=5)) == ["Measuring", "Turning"]
    assert await _names(service, Filters(field="metrology")) == ["Measuring"]
    assert await _names(service, Filters(provider="Measuring Lab Delft")) == ["Measuring"]
    assert await _names(service, Filters(min_credits=3, max_credits=5)) == ["Measuring"]
    assert await _names(service, Filters(text="DRAWING")) == ["Drawing"]
    assert await _names(service, Filters(issuer_id=other)) == ["Measuring"]

    page = await service.http.get("/catalogue", params={"level": "5", "min_credits": "", "field": ""})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Turning" in page.text and "Drawing" not in page.text and "A draft" not in page.text and "Retired" not in page.text
    assert '<html lang="en">' in page.text
    missing = await service.http.get("/catalogue/no-such-issuer")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    draft_page = await service.http.get(f"/catalogue/achievements/{retired['id']}")
    assert draft_page.status_code == 404


async def test_the_catalogue_pages_twenty_at_a_time(service: ServiceClient) -> None:
    issuer = (await service.create_issuer())["id"]
    for n in range(23):
        await service.create_achievement(issuer, name=f"Course {n:02d}")
    first = await service.http.get(f"/catalogue/{issuer}")
    assert first.text.count('class="catalogue-entry"') == 20 and "page 1 of 2" in first.text and 'rel="next"' in first.text
    second = await service.http.get(f"/catalogue/{issuer}", params={"page": 2})
    assert second.text.count('class="catalogue-entry"') == 3 and "Course 22" in second.text and 'rel="prev"' in second.text


async def _pathway(service: ServiceClient) -> tuple[str, list[dict[str, Any]], str]:
    issuer = (await service.create_issuer())["id"]
    courses = [await service.create_achievement(issuer, name=f"Course {n}") for n in "ABCD"]
    track = await service.create_achievement(issuer, name="Track")
    created = await service.http.post(
        f"/api/v1/issuers/{issuer}/pathways",
        json={"name": "Track", "achievement_id": track["id"], "components": [{"achievement_id": c["id"]} for c in courses]},
        headers=service.admin,
    )
    assert created.status_code == 201, created.text
    return issuer, courses, created.json()["id"]


async def test_progress_tells_valid_revoked_expired_and_missing_then_the_pathway_credential(service: ServiceClient) -> None:
    issuer, courses, pathway_id = await _pathway(service)
    email = "Ada@Example.org"
    awarded = [(await service.award(issuer, c["id"], recipient={"email": email})).json() for c in courses[:3]]
    revoked = await service.http.post(f"/api/v1/issuers/{issuer}/credentials/{awarded[1]['id']}/revoke", headers=service.admin)
    assert revoked.status_code == 200
    now = datetime.now(UTC)
    async with service.runtime.sessions() as session:
        await session.execute(update(Credential).where(Credential.id == awarded[2]["id"]).values(valid_until=now - timedelta(days=1)))
        await session.commit()
        [mine] = await progress(session, emails=["ada@example.org"], now=now, pathway_ids=[pathway_id])
    assert [c.state for c in mine.components] == ["valid", "revoked", "expired", "missing"]
    assert mine.held == 1 and mine.needed == 4 and mine.credential_id is None and mine.started

    # A new valid award of a revoked course counts; the fourth completes the pathway.
    for course in (courses[1], courses[2], courses[3]):
        assert (await service.award(issuer, course["id"], recipient={"email": email}, completion_date="2025-01-15")).status_code == 201
    async with service.runtime.sessions() as session:
        [mine] = await progress(session, emails=[email], now=datetime.now(UTC), pathway_ids=[pathway_id])
        stranger = await progress(session, emails=["nobody@example.org"], now=datetime.now(UTC))
    assert [c.state for c in mine.components] == ["valid"] * 4 and mine.credential_id is not None
    assert not any(p.started for p in stranger)


async def _row_counts(service: ServiceClient) -> dict[str, int]:
    async with service.runtime.sessions() as session:
        return {table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0) for table in Base.metadata.sorted_tables}


async def test_the_gap_check_reads_uploaded_files_and_writes_nothing(service: ServiceClient) -> None:
    issuer, courses, _ = await _pathway(service)
    awarded = [(await service.award(issuer, c["id"], recipient={"email": "sam@example.org"})).json() for c in courses[:2]]
    before = await _row_counts(service)
    files = [("files", (f"credential-{n}.json", json.dumps(a["credential"]).encode(), "application/json")) for n, a in enumerate(awarded)]
    files.append(("files", ("notes.txt", b"not a credential", "text/plain")))
    response = await service.http.post("/catalogue/gap-check", data={"urls": ""}, files=files)
    assert response.status_code == 200, response.text
    assert "Holds 2 of the 4 courses needed." in response.text
    assert response.text.count('data-state="missing"') == 2 and "Could not be read" in response.text
    assert await _row_counts(service) == before

    empty = await service.http.post("/catalogue/gap-check", data={"urls": ""}, files=[("files", ("", b"", "application/octet-stream"))])
    assert empty.status_code == 400 and "at least one credential" in empty.text


DUTCH = {"Accept": "text/html", "Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}


def _lang(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', html)
    assert found, "the page must declare its language"
    return found.group(1)


def _text(html: str) -> str:
    """The page's words as read: inline tags dropped, other tags a space, spaces collapsed."""
    inline = re.sub(r"</?(a|strong|span|time|em)\b[^>]*>", "", html)
    return " ".join(re.sub(r"<[^>]+>", " ", inline).split())


async def test_the_catalogue_reads_in_dutch_with_dutch_numbers_and_filters_by_level(service: ServiceClient) -> None:
    issuer = (await service.create_issuer(name="Fijnmechanica Academie"))["id"]
    await service.create_achievement(issuer, name="Tekeninglezen", eqf_level=4, credits_available=2)
    turning = await service.create_achievement(issuer, name="Draaien", eqf_level=5, credits_available=7.5, notional_workload_hours=187.5, field_of_study="Werktuigbouwkunde", achievement_type="Course")
    # an English reader first: what the list keeps between requests must not stay English
    assert "Course · awarded by Fijnmechanica Academie" in _text((await service.http.get("/catalogue", headers={"Accept-Language": "en"})).text)

    page = await service.http.get("/catalogue", params={"level": "5"}, headers=DUTCH)
    assert page.status_code == 200 and _lang(page.text) == "nl" and page.headers["content-language"] == "nl"
    text = _text(page.text)
    for words in ("Cursuscatalogus", "1 cursus gevonden", "EQF-niveau 5", "7,5 ECTS, 187,5 uur", "Studiepunten en studiebelasting", "Cursus · toegekend door Fijnmechanica Academie", "Cursussen tonen"):
        assert words in text, (words, text)
    assert "Draaien" in text and "Tekeninglezen" not in text  # the level filter works in Dutch as in English
    assert '<option value="5" selected>EQF-niveau 5</option>' in page.text
    for english in ("Course catalogue", "courses found", "Show courses", "awarded by", "7.5"):
        assert english not in text, english

    both = _text((await service.http.get(f"/catalogue/{issuer}", headers=DUTCH)).text)
    assert "2 cursussen gevonden" in both and "Cursussen en leertrajecten van Fijnmechanica Academie" in both

    achievement = await service.http.get(f"/catalogue/achievements/{turning['id']}", headers=DUTCH)
    text = _text(achievement.text)
    assert _lang(achievement.text) == "nl"
    for words in ("Wat het inhoudt", "Niveau EQF-niveau 5", "Vakgebied Werktuigbouwkunde", "Studiebelasting 187,5 uur", "Studiepunten 7,5 ECTS", "Vorm van deelname Op locatie", "Toegekend door Fijnmechanica Academie, gegeven door Turning Academy Eindhoven"):
        assert words in text, (words, text)
    assert text.count("Niveau") == 1  # the level is said once, not again among the EU elements
    missing = await service.http.get("/catalogue/achievements/no-such-course", headers=DUTCH)
    assert missing.status_code == 404 and "Deze cursus staat niet in de catalogus." in missing.text


async def _signed_in_cookie(service: ServiceClient, email: str, *others: str) -> dict[str, str]:
    """A learner's session (made as the emailed link makes it), with more verified addresses."""
    now = datetime.now(UTC)
    async with service.runtime.sessions() as session:
        token = await learners.request_sign_in(session, email=email, next_path="/me", now=now)
        assert token is not None
        signed_in = await learners.complete_sign_in(session, token=token, now=now, session_seconds=3600)
        for other in others:  # verified as the backpack's emailed link verifies them
            session.add(LearnerAddress(email=other, learner_id=signed_in.learner.id, verified_at=now))
        await session.commit()
    return {"Cookie": f"{cookie_name(service.runtime.settings)}={signed_in.session_token}"}


async def test_pathway_progress_counts_every_verified_address_and_reads_in_dutch(service: ServiceClient) -> None:
    issuer, courses, pathway_id = await _pathway(service)
    home, work, stranger = "lotte@example.org", "l.visser@work.example.org", "someone.else@example.org"
    for course, email in ((courses[0], home), (courses[1], work), (courses[2], stranger)):
        assert (await service.award(issuer, course["id"], recipient={"email": email})).status_code == 201
    cookie = await _signed_in_cookie(service, home, work)

    page = await service.http.get(f"/catalogue/pathways/{pathway_id}", headers={**DUTCH, **cookie})
    assert page.status_code == 200 and _lang(page.text) == "nl"
    text = _text(page.text)
    assert "U hebt 2 van de 4 benodigde cursussen behaald." in text, text
    assert re.findall(r'<li class="pathway-step" data-state="(\w+)"', page.text) == ["valid", "valid", "missing", "missing"]
    for words in ("Leertraject", "Behaald (geldig)", "uw credential", "Nog niet · te volgen bij Turning Academy Eindhoven", "Wordt automatisch toegekend na 4 van deze 4 cursussen.", "EQF-niveau 4 · 3 ECTS"):
        assert words in text, (words, text)
    assert "You hold" not in text and "Not yet" not in text

    mine = await service.http.get("/me/pathways", headers={**DUTCH, **cookie})
    text = _text(mine.text)
    assert "Mijn leertrajecten" in text and "Track" in text and "U hebt 2 van de 4 benodigde cursussen behaald." in text, text
    english = _text((await service.http.get("/me/pathways", headers={"Accept-Language": "en", **cookie})).text)
    assert "You hold 2 of the 4 courses needed." in english

    # The other two at the work address: all four are held, across two addresses, and the page says
    # why no pathway credential came (completion counts per address).
    for course in courses[2:]:
        assert (await service.award(issuer, course["id"], recipient={"email": work})).status_code == 201
    spread = _text((await service.http.get(f"/catalogue/pathways/{pathway_id}", headers={**DUTCH, **cookie})).text)
    assert "U hebt 4 van de 4 benodigde cursussen behaald." in spread and "aan hetzelfde e-mailadres" in spread, spread
    # The first at the work address too: the pathway completes there, and shows here.
    assert (await service.award(issuer, courses[0]["id"], recipient={"email": work})).status_code == 201
    done = _text((await service.http.get(f"/catalogue/pathways/{pathway_id}", headers={**DUTCH, **cookie})).text)
    assert "U hebt dit leertraject voltooid." in done and "uw credential voor het leertraject" in done and "aan hetzelfde e-mailadres" not in done, done

    anonymous = _text((await service.http.get(f"/catalogue/pathways/{pathway_id}", headers=DUTCH)).text)
    assert "Log in om te zien hoe ver u bent met dit leertraject." in anonymous


async def test_own_addresses_are_told_from_anyone_elses() -> None:
    base = "https://badges.example.org"
    assert own_address(base, f"{base}/credentials/abc") == ("credentials", "abc")
    assert own_address(base, "HTTPS://Badges.Example.org:443/credentials/abc?k=secret#x") == ("credentials", "abc")
    assert own_address(base, f"{base}/share/tok") == ("share", "tok")
    assert own_address(base, f"{base}/verify") == ("other", "/verify")
    assert own_address(base, "https://badges.example.org.evil.example/credentials/abc") is None
    assert own_address(base, "http://badges.example.org/credentials/abc") is None
    assert own_address(base, "https://badges.example.org:8443/credentials/abc") is None
    assert own_address(base, "https://badges.example.org:notaport/credentials/abc") is None
    assert own_address("https://example.org/badges", "https://example.org/credentials/abc") is None
    assert own_address("https://example.org/badges", "https://example.org/badges/credentials/abc") == ("credentials", "abc")


async def test_the_gap_check_reads_our_own_urls_from_the_database_never_over_http_and_writes_nothing(service: ServiceClient, monkeypatch: pytest.MonkeyPatch) -> None:
    issuer, courses, _ = await _pathway(service)
    awarded = [(await service.award(issuer, c["id"], recipient={"email": "sam@example.org", "name": "Sam Bakker"})).json() for c in courses[:3]]
    revoked = await service.http.post(f"/api/v1/issuers/{issuer}/credentials/{awarded[2]['id']}/revoke", headers=service.admin)
    assert revoked.status_code == 200
    fetched: list[str] = []
    fetch = service.runtime.fetcher.fetch

    async def recording(url: str, *, accept: str = "*/*") -> Fetched:
        fetched.append(url)
        return await fetch(url, accept=accept)

    monkeypatch.setattr(service.runtime.fetcher, "fetch", recording)
    base = service.runtime.settings.base_url
    urls = [a["credential"]["id"] for a in awarded] + [f"{base}/credentials/no-such-credential", f"{base}/verify"]
    before = await _row_counts(service)

    response = await service.http.post("/catalogue/gap-check", data={"urls": "\n".join(urls)}, headers=DUTCH)
    assert response.status_code == 200, response.text
    assert _lang(response.text) == "nl"
    text = _text(response.text)
    assert "Heeft 2 van de 4 benodigde cursussen behaald." in text, text
    courses_shown = response.text.split('<ul class="gap-courses">', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r'<li data-state="(\w+)">', courses_shown) == ["valid", "valid", "revoked", "missing"]
    for words in ("behaald (geldig)", "Ingetrokken: telt niet mee; gegeven door Turning Academy Eindhoven", "ontbreekt; gegeven door Turning Academy Eindhoven",
                  "Op dit adres van deze dienst staat geen credential.", "Dit adres van deze dienst is geen credential en geen deellink.", "Gecontroleerde credentials",
                  "uitgegeven op " + format_date(date.today(), format="long", locale="nl_NL")):
        assert words in text, (words, text)
    assert not any(u.startswith(f"{base}/credentials/") for u in fetched), fetched  # read, not fetched from ourselves
    assert await _row_counts(service) == before

    # A learner's share-all link of this service is read from the database too.
    now = datetime.now(UTC)
    async with service.runtime.sessions() as session:
        token = await learners.request_sign_in(session, email="sam@example.org", next_path="/me", now=now)
        assert token is not None
        signed_in = await learners.complete_sign_in(session, token=token, now=now, session_seconds=3600)
        link = await backpack.make_share_link(session, signed_in.learner, include_unlisted=False, now=now)
        await session.commit()
    before = await _row_counts(service)
    shared = await service.http.post("/catalogue/gap-check", data={"urls": f"{base}/share/{link.token}\n{base}/share/revoked-or-never-made"})
    assert shared.status_code == 200, shared.text
    text = _text(shared.text)
    assert "Holds 2 of the 4 courses needed." in text and text.count("Sam Bakker") == 3, text
    assert "No share-all link of this service has this address" in text
    assert not any(u.startswith(base) for u in fetched), fetched
    assert await _row_counts(service) == before
