"""Learner emails in the learner's language: the one their account chose (for its own address or
one they added), else the issuer's default language, else English; a sign-in link asked for from
a Dutch page comes in Dutch. Emails are read from a real aiosmtpd server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from microcred.config import Settings
from microcred.db.models import Learner, LearnerAddress
from microcred.i18n import SUPPORTED
from microcred.issuers.schemas import Language
from microcred.runtime import Runtime

from ..factories.service import ServiceClient
from .smtp_server import Smtp, smtp, smtp_settings, text_of  # noqa: F401 (fixtures)
from .test_delivery import drain, sender

pytestmark = pytest.mark.asyncio


@pytest.fixture
def settings(settings: Settings, smtp: Smtp) -> Settings:
    return smtp_settings(settings, smtp)


async def _learner(runtime: Runtime, email: str, language: str | None, *, also: str | None = None) -> None:
    async with runtime.sessions() as session, session.begin():
        learner = Learner(id=str(uuid.uuid4()), email=email, profile={}, verified_at=datetime.now(UTC), language=language)
        session.add(learner)
        await session.flush()
        if also:
            session.add(LearnerAddress(email=also, learner_id=learner.id, verified_at=datetime.now(UTC)))


async def test_the_issued_email_is_in_the_learners_language_else_the_issuers_else_english(
    service: ServiceClient, smtp: Smtp, settings: Settings
) -> None:
    runtime = service.runtime
    english = await service.create_issuer(name="Society of Precision Engineers")
    dutch = await service.create_issuer(name="Nederlands Lasinstituut", default_language="nl")
    assert dutch["default_language"] == "nl" and english["default_language"] == "en"
    await _learner(runtime, "anna@example.org", "nl", also="a.devries@work.example.org")
    await _learner(runtime, "brian@example.org", "en")
    await _learner(runtime, "chris@example.org", None)
    for issuer, email in (
        (english, "anna@example.org"), (english, "a.devries@work.example.org"), (english, "nobody@example.org"),
        (dutch, "brian@example.org"), (dutch, "chris@example.org"), (dutch, "stranger@example.org"),
    ):
        achievement = await service.create_achievement(issuer["id"])
        response = await service.award(issuer["id"], achievement["id"], recipient={"email": email, "name": "Anna"}, completion_date="2024-06-10")
        assert response.status_code == 201, response.text
    await drain(sender(runtime, settings))

    def read(address: str) -> tuple[str, str, str]:
        message = smtp.mailbox.newest(address)
        return str(message["Subject"]), text_of(message), str(message["Content-Language"])

    for address in ("anna@example.org", "a.devries@work.example.org", "chris@example.org", "stranger@example.org"):
        subject, body, language = read(address)
        assert language == "nl", address
        assert subject.startswith("U heeft") and "ontvangen van" in subject, subject
        assert "Beste Anna," in body and "heeft u op" in body and "toegekend" in body, body
        assert "Bekijk uw credential" in body and "Mijn credentials" in body
        month = datetime.now(UTC).strftime("%m")
        assert any(f" {name} {datetime.now(UTC).year}" in body for name in _DUTCH_MONTHS[int(month) - 1 : int(month) + 1]), body
        assert "awarded" not in body and "Hello" not in body
        html = smtp.mailbox.newest(address).get_body(preferencelist=("html",))
        assert html is not None and '<html lang="nl">' in html.get_content() and "Bekijk uw credential" in html.get_content()
    for address in ("nobody@example.org", "brian@example.org"):
        subject, body, language = read(address)
        assert language == "en", address
        assert subject.startswith("You have been awarded"), subject
        assert "Hello Anna," in body and "has awarded you" in body and "See your credential" in body, body


_DUTCH_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december", "januari")


async def test_a_sign_in_link_asked_for_from_a_dutch_page_comes_in_dutch(service: ServiceClient, smtp: Smtp) -> None:
    sent = await service.http.post(
        "/learners/sign-in", data={"email": "dutch@example.org", "next": "/me"}, headers={"Accept-Language": "nl-NL,nl;q=0.9"}
    )
    assert sent.status_code == 200, sent.text
    message = smtp.mailbox.newest("dutch@example.org")
    assert str(message["Subject"]).startswith("Aanmelden bij ")
    body = text_of(message)
    assert "om uw credentials te bekijken in Mijn credentials" in body and "binnen 15 minuten" in body, body
    assert "/learners/sign-in/confirm?token=" in body
    english = await service.http.post("/learners/sign-in", data={"email": "english@example.org", "next": "/me"}, headers={"Accept-Language": "en"})
    assert english.status_code == 200
    assert "to see your credentials in your backpack" in smtp.mailbox.newest("english@example.org").get_content()


async def test_the_issuers_default_language_is_read_changed_and_checked_by_the_api(service: ServiceClient) -> None:
    assert tuple(Language.__args__) == SUPPORTED  # the API offers every language the service speaks
    issuer = await service.create_issuer()
    assert issuer["default_language"] == "en"
    url = f"/api/v1/issuers/{issuer['id']}"
    changed = await service.http.patch(url, json={"default_language": "nl"}, headers=service.admin)
    assert changed.status_code == 200 and changed.json()["default_language"] == "nl"
    untouched = await service.http.patch(url, json={"name": "Renamed"}, headers=service.admin)
    assert untouched.json()["default_language"] == "nl"
    for bad in ("fr", "NL", "", 7):
        refused = await service.http.patch(url, json={"default_language": bad}, headers=service.admin)
        assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json"), refused.text
        assert "default_language" in refused.text and "'en' or 'nl'" in refused.text
    created = await service.http.post("/api/v1/issuers", json={"name": "Other", "default_language": "de"}, headers=service.admin)
    assert created.status_code == 422 and created.headers["content-type"].startswith("application/problem+json")
    assert (await service.http.get(url, headers=service.admin)).json()["default_language"] == "nl"


