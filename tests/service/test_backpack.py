"""The learner's backpack (/me): credentials across issuers and verified addresses, visibility
(noindex unless public; unlisted pages only with their secret), share-all links, and deleting the
account. Emails are read from a real aiosmtpd server; the data layer runs on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from typing import Any

import httpx
import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select, update

from microcred.db.models import AddressLink, AuditEntry, Credential, Issuer, Learner, LearnerAddress, LearnerSession, ShareLink
from microcred.runtime import Runtime

from ..factories.service import ServiceClient
from .console_helpers import add_staff, csrf_of
from .console_helpers import sign_in as staff_sign_in
from .conftest import BASE_URL
from .test_obapi import (  # noqa: F401 (fixtures: a real SMTP server and the app at its public URL)
    LEARNER,
    Smtp,
    app_transport,
    browse,
    client_for,
    form_action,
    hidden_fields,
    settings,
    sign_in,
    smtp,
)

pytestmark = pytest.mark.asyncio

WORK = "z.jansen@work.example.org"


async def _award(service: ServiceClient, issuer_name: str, *emails: str) -> list[str]:
    issuer = await service.create_issuer(name=issuer_name)
    achievement = await service.create_achievement(issuer["id"])
    ids = []
    for day, email in enumerate(emails, start=10):
        response = await service.award(issuer["id"], achievement["id"], recipient={"email": email, "name": "Zoë Jansen"}, completion_date=f"2024-06-{day}")
        assert response.status_code == 201, response.text
        ids.append(response.json()["credential"]["id"].rsplit("/", 1)[1])
    return ids


async def _signed_in(browser: httpx.AsyncClient, smtp: Smtp, email: str = LEARNER) -> httpx.Response:
    """Open /me signed out: it sends the learner to sign in, and back to /me after."""
    first = await browser.get("/me")
    assert first.status_code == 303 and first.headers["location"] == "/learners/sign-in?next=%2Fme"
    page = await sign_in(browser, smtp.mailbox, email, await browser.get(first.headers["location"]))
    assert page.status_code == 200 and "Your backpack" in page.text, page.text
    return page


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return html.unescape(found.group(1))


def _listed_ids(page: str) -> list[str]:
    return re.findall(r'<li class="panel" id="credential-([^"]+)">', page)


async def _add_address(browser: httpx.AsyncClient, smtp: Smtp, page: httpx.Response, email: str) -> httpx.Response:
    sent = await browse(browser, "POST", "/me/addresses", data={"csrf_token": _csrf(page.text), "email": email})
    assert sent.status_code == 200 and "We emailed a link" in sent.text
    link = smtp.mailbox.sign_in_link(email)
    assert link.startswith(f"{BASE_URL}/me/addresses/confirm?token=")
    confirm = await browser.get(link)  # a mail filter opening it adds nothing
    assert confirm.status_code == 200 and "Add the address" in confirm.text
    added = await browser.post(form_action(confirm.text), data=hidden_fields(confirm.text))
    assert added.status_code == 200 and f"{email} is now one of your backpack" in added.text
    return await browser.get("/me")


async def test_the_backpack_lists_credentials_from_two_issuers_and_two_verified_addresses(
    service: ServiceClient, app_transport: httpx.ASGITransport, smtp: Smtp, runtime: Runtime
) -> None:
    (first,) = await _award(service, "Society of Precision Engineers", LEARNER)
    (second,) = await _award(service, "Dutch Welding Institute", WORK)
    (someone_elses,) = await _award(service, "Dutch Welding Institute", "someone@example.org")
    async with client_for(app_transport) as browser:
        page = await _signed_in(browser, smtp)
        assert page.headers["cache-control"] == "no-store" and '<html lang="en">' in page.text
        assert _listed_ids(page.text) == [first]  # the work address is not theirs yet
        page = await _add_address(browser, smtp, page, WORK)
        # Newest first, from both issuers, to both addresses; never another learner's.
        assert _listed_ids(page.text) == [second, first] and someone_elses not in page.text
        for name in ("Society of Precision Engineers", "Dutch Welding Institute", LEARNER, WORK):
            assert name in page.text
        for fmt in ("json", "png", "svg", "pdf"):
            assert f"{BASE_URL}/credentials/{first}?format={fmt}" in page.text
        assert f"{BASE_URL}/credentials/{first}/linkedin" in page.text and 'href="/me/pathways"' in page.text
        archive = await browser.get("/me/export.zip")
        assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
            assert sorted(opened.namelist()) == sorted(f"{c}.{ext}" for c in (first, second) for ext in ("json", "pdf"))
            assert json.loads(opened.read(f"{first}.json"))["id"] == f"{BASE_URL}/credentials/{first}"
            assert opened.read(f"{second}.pdf").startswith(b"%PDF")
        # A used address link works no more.
        assert (await browser.post("/me/addresses/confirm", data={"token": "not-a-token"})).status_code == 400
    # Signing in with the second address opens the same backpack.
    async with client_for(app_transport) as other_browser:
        page = await _signed_in(other_browser, smtp, WORK)
        assert _listed_ids(page.text) == [second, first]
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Learner)) == 1


async def test_forms_of_the_backpack_need_its_csrf_token(service: ServiceClient, app_transport: httpx.ASGITransport, smtp: Smtp) -> None:
    (credential,) = await _award(service, "Society of Precision Engineers", LEARNER)
    async with client_for(app_transport) as browser:
        await _signed_in(browser, smtp)
        page = await browser.get("/me")
        for n in range(5):
            sent = await browser.post("/me/addresses", data={"csrf_token": _csrf(page.text), "email": f"other{n}@example.org"})
            assert sent.status_code == 303
        flood = await browser.post("/me/addresses", data={"csrf_token": _csrf(page.text), "email": "victim@example.org"})
        assert flood.status_code == 409 and not smtp.mailbox.to("victim@example.org")  # no mailbox flooded from the form
        refused = await browser.post("/me/visibility", data={"credential_id": credential, "visibility": "public", "csrf_token": "forged"})
        assert refused.status_code == 403
        assert (await browser.post("/me/delete", data={"confirm": LEARNER})).status_code == 403


async def test_listed_pages_are_noindex_public_ones_indexable_and_unlisted_ones_need_their_secret(
    service: ServiceClient, app_transport: httpx.ASGITransport, smtp: Smtp
) -> None:
    (credential,) = await _award(service, "Society of Precision Engineers", LEARNER)
    (other,) = await _award(service, "Dutch Welding Institute", "someone@example.org")
    url = f"/credentials/{credential}"
    async with client_for(app_transport) as browser:
        page = await _signed_in(browser, smtp)
        listed = await browser.get(url, headers={"Accept": "text/html"})
        assert listed.status_code == 200 and listed.headers["x-robots-tag"] == "noindex"
        assert '<meta name="robots" content="noindex">' in listed.text

        async def choose(visibility: str, credential_id: str = credential) -> httpx.Response:
            return await browse(browser, "POST", "/me/visibility", data={"csrf_token": _csrf(page.text), "credential_id": credential_id, "visibility": visibility})

        assert "Visibility saved" in (await choose("public")).text
        public = await browser.get(url, headers={"Accept": "text/html"})
        assert public.status_code == 200 and "x-robots-tag" not in public.headers and 'content="noindex"' not in public.text

        backpack = await choose("unlisted")
        secret_url = re.search(rf'value="({re.escape(BASE_URL + url)}\?k=[^"]+)"', backpack.text)
        assert secret_url, backpack.text
        assert (await browser.get(url, headers={"Accept": "text/html"})).status_code == 404
        assert (await browser.get(url + "?k=wrong", headers={"Accept": "text/html"})).status_code == 404
        assert (await browser.get(url + "/linkedin")).status_code == 404
        assert f"{url}/linkedin" not in backpack.text
        opened = await browser.get(html.unescape(secret_url.group(1)), headers={"Accept": "text/html"})
        assert opened.status_code == 200 and 'content="noindex"' in opened.text and opened.headers["x-robots-tag"] == "noindex"
        # Whoever holds the credential's file can still verify it: the signed credential answers at its id.
        signed = await browser.get(url, headers={"Accept": "application/ld+json"})
        assert signed.status_code == 200 and signed.json()["id"].endswith(url) and signed.headers["x-robots-tag"] == "noindex"
        verified = await browser.post("/api/v1/verify", content=signed.content, headers={"Content-Type": "application/json"})
        assert verified.status_code == 200 and verified.json()["valid"] is True, verified.text
        # Another learner's credential is not this learner's to change.
        assert (await choose("unlisted", other)).status_code == 404
        assert (await browser.get(f"/credentials/{other}", headers={"Accept": "text/html"})).status_code == 200


async def test_a_share_all_link_lists_the_credentials_as_a_page_and_as_json_until_revoked(
    service: ServiceClient, app_transport: httpx.ASGITransport, smtp: Smtp
) -> None:
    older, newer = await _award(service, "Society of Precision Engineers", LEARNER, LEARNER)
    async with client_for(app_transport) as browser:
        page = await _signed_in(browser, smtp)
        await browse(browser, "POST", "/me/visibility", data={"csrf_token": _csrf(page.text), "credential_id": older, "visibility": "unlisted"})
        page = await browse(browser, "POST", "/me/share-links", data={"csrf_token": _csrf(page.text)})
        found = re.search(rf'value="({re.escape(BASE_URL)}/share/[^"]+)"', page.text)
        assert found and "Share link made" in page.text
        share = found.group(1)
        async with client_for(app_transport) as stranger:
            shown = await stranger.get(share)
            assert shown.status_code == 200 and shown.headers["x-robots-tag"] == "noindex"
            assert f"/credentials/{newer}" in shown.text and older not in shown.text  # unlisted stays out
            issued = (await stranger.get(f"/credentials/{newer}", headers={"Accept": "application/ld+json"})).content
            for answer in (await stranger.get(share, headers={"Accept": "application/json"}), await stranger.get(share + "?format=json")):
                assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
                body: dict[str, Any] = answer.json()
                assert [c["id"] for c in body["credentials"]] == [f"{BASE_URL}/credentials/{newer}"]
                assert body["credentials"][0] == httpx.Response(200, content=issued).json()  # exactly as issued
        token = share.rsplit("/", 1)[1]
        page = await browse(browser, "POST", "/me/share-links/revoke", data={"csrf_token": _csrf(page.text), "token": token})
        assert "Share link revoked" in page.text and share not in page.text
        assert (await browser.get(share)).status_code == 404
        # One that includes unlisted credentials shows them, each through its secret URL.
        page = await browse(browser, "POST", "/me/share-links", data={"csrf_token": _csrf(page.text), "include_unlisted": "true"})
        everything = re.search(rf'value="({re.escape(BASE_URL)}/share/[^"]+)"', page.text)
        assert everything
        shown = await browser.get(everything.group(1))
        assert f"/credentials/{older}?k=" in shown.text and f"/credentials/{newer}" in shown.text


async def test_a_deleted_account_loses_its_addresses_and_sessions_while_its_credentials_still_verify(
    service: ServiceClient, app_transport: httpx.ASGITransport, smtp: Smtp, runtime: Runtime
) -> None:
    (first,) = await _award(service, "Society of Precision Engineers", LEARNER)
    (second,) = await _award(service, "Dutch Welding Institute", WORK)
    async with client_for(app_transport) as browser:
        page = await _signed_in(browser, smtp)
        page = await _add_address(browser, smtp, page, WORK)
        page = await browse(browser, "POST", "/me/share-links", data={"csrf_token": _csrf(page.text)})
        wrong = await browser.post("/me/delete", data={"csrf_token": _csrf(page.text), "confirm": "someone@example.org"})
        assert wrong.status_code == 400
        deleted = await browser.post("/me/delete", data={"csrf_token": _csrf(page.text), "confirm": LEARNER})
        assert deleted.status_code == 200 and "Account deleted" in deleted.text
        assert (await browser.get("/me")).status_code == 303  # signed out: the session is gone
    async with runtime.sessions() as session:
        for model in (Learner, LearnerAddress, LearnerSession, AddressLink, ShareLink):
            assert await session.scalar(select(func.count()).select_from(model)) == 0, model
    async with client_for(app_transport) as anyone:
        for credential in (first, second):
            signed = await anyone.get(f"/credentials/{credential}", headers={"Accept": "application/ld+json"})
            verified = await anyone.post("/api/v1/verify", content=signed.content, headers={"Content-Type": "application/json"})
            assert verified.status_code == 200 and verified.json()["valid"] is True, verified.text


async def test_a_name_correction_approved_in_the_console_reissues_and_the_backpack_shows_the_new_credential(
    service: ServiceClient, app_transport: httpx.ASGITransport, smtp: Smtp, runtime: Runtime
) -> None:
    first, second = await _award(service, "Society of Precision Engineers", LEARNER, LEARNER)
    async with runtime.sessions() as session:
        issuer_id = (await session.get(Credential, first)).issuer_id  # type: ignore[union-attr]
    awarder = await add_staff(runtime, "registrar@precision-engineers.example", {issuer_id: "awarder"})
    async with client_for(app_transport) as browser, client_for(app_transport) as staff:
        page = await _signed_in(browser, smtp)
        for credential, name in ((first, "Zoë Jansen-de Vries"), (second, "Zoe Jansen")):
            sent = await browse(browser, "POST", "/me/corrections", data={"csrf_token": _csrf(page.text), "credential_id": credential, "name": name, "note": "married"})
            assert sent.status_code == 200 and "Your request went to the issuer" in sent.text
        page = await browser.get("/me")
        assert "Name correction to “Zoë Jansen-de Vries” requested" in page.text
        again = await browser.post("/me/corrections", data={"csrf_token": _csrf(page.text), "credential_id": first, "name": "Z. Jansen"})
        assert again.status_code == 409  # one waiting request per credential

        await staff_sign_in(staff, runtime, awarder)
        requests = await staff.get(f"/console/{issuer_id}/corrections")
        assert requests.status_code == 200 and "Zoë Jansen-de Vries" in requests.text and "Zoe Jansen" in requests.text
        ids = re.findall(rf"/console/{issuer_id}/corrections/([^/]+)/approve", requests.text)
        assert len(ids) == 2
        refused = await staff.post(f"/console/{issuer_id}/corrections/{ids[0]}/approve", data={"csrf_token": "forged"})
        assert refused.status_code == 403
        approved = await browse(staff, "POST", f"/console/{issuer_id}/corrections/{ids[0]}/approve", data={"csrf_token": csrf_of(requests.text)})
        assert approved.status_code == 200 and "Approved" in approved.text
        declined = await browse(staff, "POST", f"/console/{issuer_id}/corrections/{ids[1]}/decline", data={"csrf_token": csrf_of(approved.text)})
        assert declined.status_code == 200 and "No requests are waiting" in declined.text

        page = await browser.get("/me")
        listed = _listed_ids(page.text)
        assert len(listed) == 3 and first in listed and second in listed
        (replacement,) = [c for c in listed if c not in (first, second)]
        assert listed[0] == replacement  # the new credential, newest first
        assert "Name corrected to “Zoë Jansen-de Vries”" in page.text and "declined the correction to “Zoe Jansen”" in page.text
        signed = (await browser.get(f"/credentials/{replacement}", headers={"Accept": "application/ld+json"})).json()
        assert "Zoë Jansen-de Vries" in str(signed["credentialSubject"])
    async with runtime.sessions() as session:
        entries = (await session.scalars(select(AuditEntry).where(AuditEntry.subject.in_([first, second, replacement])))).all()
        actors = {(e.action, e.actor) for e in entries}
    member = f"staff:{awarder.id}"
    assert ("credential.revoked", member) in actors and ("credential.issued", member) in actors
    assert ("credential.name_correction_declined", member) in actors


async def test_the_zip_holds_the_branded_pdf_of_the_public_download_in_the_learners_language(
    service: ServiceClient, app_transport: httpx.ASGITransport, smtp: Smtp, runtime: Runtime
) -> None:
    (credential_id,) = await _award(service, "Society of Precision Engineers", LEARNER)
    logo = io.BytesIO()
    Image.new("RGB", (64, 32), (200, 30, 30)).save(logo, format="PNG")
    async with runtime.sessions() as session, session.begin():
        issuer_id = await session.scalar(select(Credential.issuer_id).where(Credential.id == credential_id))
        await session.execute(
            update(Issuer).where(Issuer.id == issuer_id)
            .values(logo=logo.getvalue(), logo_media_type="image/png", logo_digest="0123456789abcdef0123", brand_colour="#c81e1e", accent_colour="#0b57d0")
        )
    async with client_for(app_transport) as browser:
        await _signed_in(browser, smtp)
        async with runtime.sessions() as session, session.begin():
            await session.execute(update(Learner).where(Learner.email == LEARNER).values(language="nl"))
        archive = await browser.get("/me/export.zip")  # no Accept-Language: the learner's setting
        assert archive.status_code == 200
        with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
            in_zip = opened.read(f"{credential_id}.pdf")
    public = f"{BASE_URL}/credentials/{credential_id}"
    async with client_for(app_transport) as anyone:
        dutch = await anyone.get(public, params={"format": "pdf"}, headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"})
        chosen = await anyone.get(public, params={"format": "pdf", "lang": "nl"})
        english = await anyone.get(public, params={"format": "pdf"}, headers={"Accept-Language": "en"})
    assert dutch.status_code == chosen.status_code == english.status_code == 200
    assert in_zip == dutch.content == chosen.content  # the same certificate, byte for byte
    assert english.content != dutch.content
    page = PdfReader(io.BytesIO(in_zip)).pages[0]
    # The branding: the issuer's logo and the badge drawn, the brand colour's band at the top.
    assert sorted((i.image.width, i.image.height) for i in page.images if i.image is not None) == [(64, 32), (256, 256)]
    assert "0.7843 0.1176 0.1176 rg" in page.get_contents().get_data().decode("latin-1")  # type: ignore[union-attr]
    text = " ".join(page.extract_text().split())
    assert "toegekend aan" in text and "Afgerond op 10 juni 2024" in text and "Controleer dit credential online" in text, text
    assert "awarded to" not in text and "June" not in text
    english_text = " ".join(PdfReader(io.BytesIO(english.content)).pages[0].extract_text().split())
    assert "awarded to" in english_text and "Completed on 10 June 2024" in english_text
