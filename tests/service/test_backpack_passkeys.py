"""Learners' passkeys, through the ASGI app as the backpack's script uses them: a learner adds a
passkey in the backpack, names it, sees it listed, removes it, and signs in with one (a software
authenticator signs for real) into the same kind of session an emailed link opens. Spent,
expired and other browsers' challenges, other sites' passkeys, passkeys that do not verify the
user and cloned counters are refused; a deleted account takes its passkeys with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from microcred.db.models import Learner, LearnerPasskey, LearnerPasskeyChallenge, LearnerSession
from microcred.runtime import Runtime

from .conftest import BASE_URL
from .soft_authenticator import SoftAuthenticator
from .test_backpack import _csrf, _signed_in
from .test_obapi import (  # noqa: F401 (fixtures: a real SMTP server and the app at its public URL)
    LEARNER,
    OTHER,
    Smtp,
    app_transport,
    client_for,
    settings,
    smtp,
)

pytestmark = pytest.mark.asyncio

JSON = {"Content-Type": "application/json"}


async def _add_passkey(browser: httpx.AsyncClient, authenticator: SoftAuthenticator, name: str = "Phone") -> httpx.Response:
    page = await browser.get("/me")
    assert 'id="passkey-add"' in page.text and 'src="/console/static/passkeys.js"' in page.text
    csrf = {"X-CSRF-Token": _csrf(page.text)}
    options = await browser.post("/me/passkeys/options", json={}, headers=csrf)
    assert options.status_code == 200, options.text
    assert options.json()["authenticatorSelection"]["userVerification"] == "required"
    return await browser.post("/me/passkeys", json={"name": name, "credential": authenticator.create(options.json())}, headers=csrf)


async def _learner_with_passkey(app_transport: httpx.ASGITransport, smtp: Smtp) -> SoftAuthenticator:
    """The learner signs in by email, adds a passkey, and closes the browser: their authenticator."""
    key = SoftAuthenticator(BASE_URL)
    async with client_for(app_transport) as browser:
        await _signed_in(browser, smtp)
        assert (await _add_passkey(browser, key)).status_code == 201
    return key


async def _sign_in_options(browser: httpx.AsyncClient) -> dict[str, Any]:
    page = await browser.get("/learners/sign-in?next=/me")
    assert "Sign in with a passkey" in page.text and "Email me a sign-in link" in page.text
    options = await browser.post("/learners/sign-in/passkey/options", json={})
    assert options.status_code == 200, options.text
    found: dict[str, Any] = options.json()
    assert found["userVerification"] == "required" and found["rpId"] == "badges.example.org"
    return found


async def _passkey_sign_in(browser: httpx.AsyncClient, answer: dict[str, Any]) -> httpx.Response:
    return await browser.post("/learners/sign-in/passkey", json={"credential": answer, "next": "/me"})


async def _count(runtime: Runtime, model: type[Any]) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_learner_adds_a_passkey_in_the_backpack_and_signs_in_with_it(app_transport: httpx.ASGITransport, smtp: Smtp, runtime: Runtime) -> None:
    phone = SoftAuthenticator(BASE_URL)
    async with client_for(app_transport) as browser:
        page = await _signed_in(browser, smtp)
        assert "You have no passkey yet." in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        added = await _add_passkey(browser, phone, "  My   phone ")
        assert added.status_code == 201 and added.json()["name"] == "My phone"
        page = await browser.get("/me")
        assert "<strong>My phone</strong>" in page.text and "not used yet" in page.text
        out = await browser.post("/learners/sign-out", data={"csrf_token": _csrf(page.text)})
        assert out.status_code == 303 and (await browser.get("/me")).status_code == 303
        sessions_before = await _count(runtime, LearnerSession)

        signed_in = await _passkey_sign_in(browser, phone.get(await _sign_in_options(browser)))
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json() == {"redirect": "/me"}
        page = await browser.get("/me")
        assert page.status_code == 200 and "Your backpack" in page.text and LEARNER in page.text
        assert "last used" in page.text
    assert await _count(runtime, LearnerSession) == sessions_before + 1  # a session like an emailed link's
    async with runtime.sessions() as session:
        passkey = await session.scalar(select(LearnerPasskey))
        assert passkey is not None and passkey.sign_count == 1 and passkey.last_used_at is not None


async def test_a_challenge_works_once_in_the_browser_that_asked_and_not_after_it_expired(
    app_transport: httpx.ASGITransport, smtp: Smtp, runtime: Runtime
) -> None:
    key = await _learner_with_passkey(app_transport, smtp)
    async with client_for(app_transport) as browser, client_for(app_transport) as eavesdropper:
        answer = key.get(await _sign_in_options(browser))
        await _sign_in_options(eavesdropper)  # has a cookie of its own, not this browser's
        stolen = await _passkey_sign_in(eavesdropper, answer)
        assert stolen.status_code == 400 and "expired or was already used" in stolen.json()["detail"]
        assert (await _passkey_sign_in(browser, answer)).status_code == 200
        replayed = await _passkey_sign_in(browser, answer)
        assert replayed.status_code == 400 and replayed.headers["content-type"] == "application/problem+json"
    async with client_for(app_transport) as browser:
        options = await _sign_in_options(browser)
        async with runtime.sessions() as session, session.begin():
            await session.execute(update(LearnerPasskeyChallenge).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        assert (await _passkey_sign_in(browser, key.get(options))).status_code == 400
        assert (await browser.get("/me")).status_code == 303


async def test_another_sites_passkey_a_passkey_without_user_verification_and_a_cloned_counter_are_refused(
    app_transport: httpx.ASGITransport, smtp: Smtp, runtime: Runtime
) -> None:
    async with client_for(app_transport) as browser:
        await _signed_in(browser, smtp)
        phished = SoftAuthenticator("https://badges.example.org.evil.example")
        assert (await _add_passkey(browser, phished)).status_code == 400
        touch_only = SoftAuthenticator(BASE_URL, verifies_user=False)
        refused = await _add_passkey(browser, touch_only)
        assert refused.status_code == 400 and "no passkey was added" in refused.json()["detail"]
        key = SoftAuthenticator(BASE_URL)
        assert (await _add_passkey(browser, key)).status_code == 201
    assert await _count(runtime, LearnerPasskey) == 1
    async with client_for(app_transport) as browser:
        options = await _sign_in_options(browser)
        wrong_origin = SoftAuthenticator("https://evil.example", credentials=key.credentials)
        assert (await _passkey_sign_in(browser, wrong_origin.get(options))).status_code == 400
        key.verifies_user = False
        assert (await _passkey_sign_in(browser, key.get(await _sign_in_options(browser)))).status_code == 400
        assert (await browser.get("/me")).status_code == 303
        key.verifies_user = True
        assert (await _passkey_sign_in(browser, key.get(await _sign_in_options(browser)))).status_code == 200
    async with client_for(app_transport) as browser:
        key.credentials[0].sign_count = 0  # a copy of the key, behind the original's counter
        cloned = await _passkey_sign_in(browser, key.get(await _sign_in_options(browser)))
        assert cloned.status_code == 400 and "not accepted" in cloned.json()["detail"]
        assert (await browser.get("/me")).status_code == 303


async def test_a_removed_passkey_no_longer_signs_in_and_nobody_removes_anothers(
    app_transport: httpx.ASGITransport, smtp: Smtp, runtime: Runtime
) -> None:
    key = SoftAuthenticator(BASE_URL)
    async with client_for(app_transport) as browser:
        await _signed_in(browser, smtp)
        assert (await _add_passkey(browser, key, "Laptop")).status_code == 201
        async with runtime.sessions() as session:
            passkey = await session.scalar(select(LearnerPasskey))
        assert passkey is not None
        async with client_for(app_transport) as theirs:
            page = await _signed_in(theirs, smtp, OTHER)
            answer = await theirs.post(f"/me/passkeys/{passkey.id}/remove", data={"csrf_token": _csrf(page.text)})
            assert answer.status_code == 404 and "You have no such passkey." in answer.text
        page = await browser.get("/me")
        assert (await browser.post(f"/me/passkeys/{passkey.id}/remove", data={})).status_code == 403
        removed = await browser.post(f"/me/passkeys/{passkey.id}/remove", data={"csrf_token": _csrf(page.text)})
        assert removed.status_code == 303 and removed.headers["location"] == "/me#passkeys"
        assert "You have no passkey yet." in (await browser.get("/me")).text
    async with client_for(app_transport) as browser:
        refused = await _passkey_sign_in(browser, key.get(await _sign_in_options(browser)))
        assert refused.status_code == 400 and "not registered here" in refused.json()["detail"]


async def test_deleting_the_account_deletes_its_passkeys(app_transport: httpx.ASGITransport, smtp: Smtp, runtime: Runtime) -> None:
    key = SoftAuthenticator(BASE_URL)
    async with client_for(app_transport) as browser:
        page = await _signed_in(browser, smtp)
        assert (await _add_passkey(browser, key)).status_code == 201
        deleted = await browser.post("/me/delete", data={"csrf_token": _csrf(page.text), "confirm": LEARNER})
        assert deleted.status_code == 200
    for model in (Learner, LearnerPasskey, LearnerPasskeyChallenge):
        assert await _count(runtime, model) == 0, model
    async with client_for(app_transport) as browser:
        assert (await _passkey_sign_in(browser, key.get(await _sign_in_options(browser)))).status_code == 400


async def test_the_json_routes_refuse_other_sites_and_garbage_with_a_problem_not_a_500(app_transport: httpx.ASGITransport, smtp: Smtp) -> None:
    async with client_for(app_transport) as browser:
        page = await _signed_in(browser, smtp)
        assert (await browser.post("/me/passkeys/options", json={})).status_code == 403  # no CSRF token
        form = await browser.post("/learners/sign-in/passkey/options", data={"x": "1"})  # a form from another site
        assert form.status_code == 403
        csrf = {"X-CSRF-Token": _csrf(page.text)}
        unnamed = await browser.post("/me/passkeys", json={"name": " ", "credential": {}}, headers=csrf)
        assert unnamed.status_code == 400 and unnamed.json()["errors"][0]["pointer"] == "#/name"
    async with client_for(app_transport) as browser:
        await _sign_in_options(browser)
        for garbage in ({}, {"response": "x"}, {"id": "x", "response": {"clientDataJSON": "!!!"}}, {"response": {"clientDataJSON": "e30"}}):
            answer = await _passkey_sign_in(browser, garbage)
            assert answer.status_code == 400 and answer.headers["content-type"] == "application/problem+json", (garbage, answer.text)
        assert (await browser.post("/learners/sign-in/passkey", content=b"not json", headers=JSON)).status_code in (400, 422)


async def test_passkey_sign_ins_are_limited_per_client_like_other_sign_ins(app_transport: httpx.ASGITransport) -> None:
    async with client_for(app_transport) as browser:
        for _ in range(20):
            assert (await browser.post("/learners/sign-in/passkey/options", json={})).status_code == 200
        limited = await browser.post("/learners/sign-in/passkey/options", json={})
        assert limited.status_code == 429 and limited.headers["retry-after"] == "900"
        assert "Too many sign-in attempts" in limited.json()["detail"]


async def test_the_passkey_controls_and_their_errors_speak_dutch(app_transport: httpx.ASGITransport, smtp: Smtp) -> None:
    dutch = {"Accept-Language": "nl"}
    async with client_for(app_transport) as browser:
        page = await browser.get("/learners/sign-in?next=/me", headers=dutch)
        assert '<html lang="nl">' in page.text and "Aanmelden met een passkey" in page.text
        await browser.post("/learners/sign-in/passkey/options", json={}, headers=dutch)
        refused = await browser.post("/learners/sign-in/passkey", json={"credential": {}}, headers=dutch)
        assert refused.status_code == 400 and "niet geaccepteerd" in refused.json()["detail"]
        page = await _signed_in(browser, smtp)
        page = await browser.get("/me", headers=dutch)
        assert "Uw passkeys" in page.text and "Een passkey toevoegen" in page.text
