"""Achievements in more than one language, and credentials written in one: the learner's
(their account's setting), else the one the award asks for, else the issuer's default. The
credential carries the achievement's text in that language and says so in ``inLanguage``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from microcred.awards.service import Signing
from microcred.credentials import schema, verify
from microcred.db.base import new_id
from microcred.db.models import Issuer, Learner, LearnerAddress
from microcred.jobs.worker import JobRunner
from microcred.runtime import Runtime

from ..factories.service import EU_ELEMENTS, ServiceClient, resolver
from .conftest import is_problem

pytestmark = pytest.mark.asyncio

DUTCH = {
    "name": "Precisiedraaien voor instrumentmakers",
    "description": "Stelt een CNC-draaibank in en draait er instrumentonderdelen mee tot op ±5 µm.",
    "criteria_narrative": "Een praktijkexamen aan de draaibank, beoordeeld door twee examinatoren.",
}
ENGLISH_NAME = "Precision Turning for Instrument Makers"


async def _achievement(service: ServiceClient, **issuer: Any) -> tuple[str, str]:
    created = await service.create_issuer(**issuer)
    achievement = await service.create_achievement(
        created["id"],
        criteria={"narrative": "A practical examination at the lathe, marked by two examiners."},
        translations={"nl": DUTCH},
    )
    return created["id"], achievement["id"]


async def _learner(runtime: Runtime, email: str, language: str | None) -> None:
    async with runtime.sessions() as session, session.begin():
        session.add(Learner(id=new_id(), email=email, profile={}, verified_at=datetime.now(UTC), language=language))


async def _default_language(runtime: Runtime, issuer_id: str, language: str) -> None:
    async with runtime.sessions() as session, session.begin():
        await session.execute(update(Issuer).where(Issuer.id == issuer_id).values(default_language=language))


def _checked(service: ServiceClient, credential: dict[str, Any]) -> dict[str, Any]:
    """The credential's achievement, once the credential is shown schema-valid and verified."""
    assert schema.validate(credential) == []
    report = verify(credential, resolve_key=resolver(service.runtime))
    assert report.verdict == "valid", report.to_dict()
    achievement: dict[str, Any] = credential["credentialSubject"]["achievement"]
    return achievement


async def test_an_achievement_keeps_its_dutch_text_with_each_published_version(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _achievement(service)
    got = (await service.http.get(f"/api/v1/issuers/{issuer_id}/achievements/{achievement_id}", headers=service.admin)).json()
    assert got["definition"]["translations"] == {"nl": DUTCH}
    # The published document is in the achievement's own language: the issuer's default, English.
    assert got["document"]["name"] == ENGLISH_NAME and got["document"]["inLanguage"] == "en"
    public = await service.http.get(f"/issuers/{issuer_id}/achievements/{achievement_id}", headers={"Accept": "application/ld+json"})
    assert public.status_code == 200 and public.json()["inLanguage"] == "en" and "Precisiedraaien" not in public.text
    # A Dutch reader of the achievement's URL (the id inside every credential) gets it in Dutch.
    dutch = await service.http.get(f"/issuers/{issuer_id}/achievements/{achievement_id}", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"})
    assert (dutch.json()["inLanguage"], dutch.json()["name"]) == ("nl", DUTCH["name"])
    assert dutch.headers["content-language"] == "nl" and "Accept-Language" in dutch.headers["vary"]

    # The achievement's own language may be Dutch, with an English translation.
    dutch_first = await service.http.post(
        f"/api/v1/issuers/{issuer_id}/achievements",
        json={
            **EU_ELEMENTS,
            "name": DUTCH["name"], "description": DUTCH["description"], "language": "nl",
            "learning_outcomes": ["een draaibewerking plannen vanuit een tekening"],
            "translations": {"en": {"name": ENGLISH_NAME, "description": "Turns instrument parts to ±5 µm."}},
            "status": "published",
        },
        headers=service.admin,
    )
    assert dutch_first.status_code == 201, dutch_first.text
    document = dutch_first.json()["document"]
    assert document["inLanguage"] == "nl" and document["criteria"]["narrative"].startswith("Leerresultaten:\n- een draaibewerking")


async def test_a_learner_who_reads_dutch_gets_a_dutch_credential_that_validates_and_verifies(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _achievement(service)
    await _learner(service.runtime, "anne@example.org", "nl")
    response = await service.award(issuer_id, achievement_id, recipient={"email": "Anne@Example.org", "name": "Anne de Vries"})
    assert response.status_code == 201, response.text
    achievement = _checked(service, response.json()["credential"])
    assert achievement["inLanguage"] == "nl"
    assert achievement["name"] == DUTCH["name"] and achievement["description"] == DUTCH["description"]
    narrative = achievement["criteria"]["narrative"]
    assert narrative.startswith("Leerresultaten:\n- plan a turning operation") and narrative.endswith(DUTCH["criteria_narrative"])
    assert "A practical examination" not in json.dumps(achievement)
    # Everything else is the same achievement: same id, version, EU elements.
    english = (await service.award(issuer_id, achievement_id)).json()["credential"]["credentialSubject"]["achievement"]
    assert english["inLanguage"] == "en" and english["name"] == ENGLISH_NAME
    assert (achievement["id"], achievement["version"], achievement["alignment"]) == (english["id"], english["version"], english["alignment"])
    # The page shows the Dutch credential as it is; a retry returns that same credential.
    again = await service.award(issuer_id, achievement_id, recipient={"email": "Anne@Example.org", "name": "Anne de Vries"})
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"]


async def test_an_address_the_learner_added_counts_as_theirs_for_the_language(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _achievement(service)
    await _learner(service.runtime, "anne@example.org", "nl")
    async with service.runtime.sessions() as session, session.begin():
        learner_id = (await session.execute(select(Learner.id).where(Learner.email == "anne@example.org"))).scalar_one()
        session.add(LearnerAddress(email="anne@work.example", learner_id=learner_id, verified_at=datetime.now(UTC)))
    response = await service.award(issuer_id, achievement_id, recipient={"email": "anne@work.example"})
    assert response.status_code == 201, response.text
    assert _checked(service, response.json()["credential"])["inLanguage"] == "nl"


async def test_without_a_learner_setting_the_award_s_language_then_the_issuer_s_default_decides(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _achievement(service)
    plain = (await service.award(issuer_id, achievement_id)).json()["credential"]
    assert _checked(service, plain)["inLanguage"] == "en"  # no language known: the issuer's default, English

    asked = (await service.award(issuer_id, achievement_id, language="nl")).json()["credential"]
    assert _checked(service, asked)["name"] == DUTCH["name"]
    # A learner's own setting goes before what the LMS asks for.
    await _learner(service.runtime, "ben@example.org", "en")
    overruled = (await service.award(issuer_id, achievement_id, language="nl", recipient={"email": "ben@example.org"})).json()
    assert overruled["credential"]["credentialSubject"]["achievement"]["inLanguage"] == "en"

    await _default_language(service.runtime, issuer_id, "nl")
    dutch_default = (await service.award(issuer_id, achievement_id)).json()["credential"]
    achievement = _checked(service, dutch_default)
    assert (achievement["inLanguage"], achievement["name"]) == ("nl", DUTCH["name"])

    # An achievement without a translation is written in its own language whatever is asked.
    other = await service.create_achievement(issuer_id, name="Milling", language="en")
    milling = (await service.award(issuer_id, other["id"], language="nl")).json()["credential"]
    assert _checked(service, milling)["inLanguage"] == "en" and _checked(service, milling)["name"] == "Milling"


async def test_a_bulk_award_writes_each_row_in_its_learner_s_language(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _achievement(service)
    await _learner(service.runtime, "carla@example.org", "nl")
    rows = [
        {"achievement_id": achievement_id, "recipient": {"email": "carla@example.org"}, "completion_date": "2024-06-28"},
        {"achievement_id": achievement_id, "recipient": {"email": "dirk@example.org"}, "completion_date": "2024-06-28"},
    ]
    submitted = await service.http.post(
        f"/api/v1/issuers/{issuer_id}/awards/batch", content=json.dumps(rows), headers={**service.admin, "content-type": "application/json"}
    )
    assert submitted.status_code == 202, submitted.text
    signing = Signing(service.runtime.keystore, service.runtime.loader, service.runtime.settings.base_url, service.runtime.statuses)
    assert await JobRunner(service.runtime.sessions, signing).run_once() == submitted.json()["id"]
    job = (await service.http.get(f"/api/v1/jobs/{submitted.json()['id']}", headers=service.admin)).json()
    assert [row["status"] for row in job["rows"]] == ["awarded", "awarded"]
    written = []
    for row in job["rows"]:
        got = await service.http.get(f"/api/v1/issuers/{issuer_id}/credentials/{row['credential_id']}", headers=service.admin)
        achievement = _checked(service, got.json()["credential"])
        written.append((achievement["inLanguage"], achievement["name"]))
    assert written == [("nl", DUTCH["name"]), ("en", ENGLISH_NAME)]

    # A CSV file may give the language per row.
    csv = f"achievement_id,recipient_email,completion_date,language\n{achievement_id},eva@example.org,2024-06-28,nl\n"
    submitted = await service.http.post(
        f"/api/v1/issuers/{issuer_id}/awards/batch", content=csv, headers={**service.admin, "content-type": "text/csv"}
    )
    await JobRunner(service.runtime.sessions, signing).run_once()
    job = (await service.http.get(f"/api/v1/jobs/{submitted.json()['id']}", headers=service.admin)).json()
    got = await service.http.get(f"/api/v1/issuers/{issuer_id}/credentials/{job['rows'][0]['credential_id']}", headers=service.admin)
    assert _checked(service, got.json()["credential"])["name"] == DUTCH["name"]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"translations": {"de": {"name": "Präzisionsdrehen"}}}, "#/translations/de"),
        ({"translations": {"en": {"name": "Precision Turning"}}}, "#/translations/en"),  # the achievement's own language
        ({"language": "nl", "translations": {"nl": DUTCH}}, "#/translations/nl"),
        ({"translations": {"nl": {"name": "   "}}}, "#/translations/nl/name"),
        ({"translations": {"nl": {"description": "Alleen een beschrijving"}}}, "#/translations/nl/name"),
        ({"translations": {"nl": {"name": "x" * 513}}}, "#/translations/nl/name"),
        ({"translations": {"nl": {"name": "Draaien", "title": "Draaien"}}}, "#/translations/nl/title"),
        ({"translations": {"nl": "Precisiedraaien"}}, "#/translations/nl"),
        ({"language": "fr"}, "#/language"),
        # Publishing needs each text the achievement has, in every language it is translated into.
        ({"translations": {"nl": {"name": DUTCH["name"]}}}, "#/translations/nl/description"),
    ],
)
async def test_bad_translations_are_refused_naming_the_field(service: ServiceClient, body: dict[str, Any], pointer: str) -> None:
    issuer = await service.create_issuer()
    response = await service.http.post(
        f"/api/v1/issuers/{issuer['id']}/achievements",
        json={"name": "Precision Turning", **EU_ELEMENTS, **body, "status": "published"},
        headers=service.admin,
    )
    problem = is_problem(response, 422)
    assert pointer in [e["pointer"] for e in problem["errors"]], problem


async def test_an_award_in_a_language_the_service_does_not_write_is_refused(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _achievement(service)
    problem = is_problem(await service.award(issuer_id, achievement_id, language="de"), 422)
    assert [e["pointer"] for e in problem["errors"]] == ["#/language"]


async def test_a_pathway_credential_follows_the_language_of_its_learner_or_of_the_courses(service: ServiceClient) -> None:
    issuer_id, course = await _achievement(service)
    track = await service.create_achievement(
        issuer_id, name="Certified Instrument Maker", translations={"nl": {"name": "Gecertificeerd instrumentmaker", "description": "Alle cursussen gehaald."}}
    )
    pathway = await service.http.post(
        f"/api/v1/issuers/{issuer_id}/pathways",
        json={"name": "Track", "achievement_id": track["id"], "components": [{"achievement_id": course}]},
        headers=service.admin,
    )
    assert pathway.status_code == 201, pathway.text

    async def pathway_achievement(email: str) -> dict[str, Any]:
        listed = await service.http.get(
            f"/api/v1/issuers/{issuer_id}/credentials", params={"recipient": email, "achievement_id": track["id"]}, headers=service.admin
        )
        [item] = listed.json()["items"]
        got = await service.http.get(f"/api/v1/issuers/{issuer_id}/credentials/{item['id']}", headers=service.admin)
        return _checked(service, got.json()["credential"])

    await _learner(service.runtime, "fleur@example.org", "nl")
    assert (await service.award(issuer_id, course, recipient={"email": "fleur@example.org"})).status_code == 201
    assert (await pathway_achievement("fleur@example.org"))["name"] == "Gecertificeerd instrumentmaker"
    # No account: the pathway credential is in the language its last course credential was written in.
    assert (await service.award(issuer_id, course, recipient={"email": "gijs@example.org"}, language="nl")).status_code == 201
    assert (await pathway_achievement("gijs@example.org"))["inLanguage"] == "nl"
    assert (await service.award(issuer_id, course, recipient={"email": "hugo@example.org"})).status_code == 201
    assert (await pathway_achievement("hugo@example.org"))["name"] == "Certified Instrument Maker"


async def test_the_catalogue_shows_each_reader_the_achievement_in_their_language(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _achievement(service)
    for language, name, other in (("nl", DUTCH["name"], ENGLISH_NAME), ("en", ENGLISH_NAME, DUTCH["name"])):
        listed = await service.http.get("/catalogue", params={"issuer": issuer_id}, headers={"Accept-Language": language})
        assert listed.status_code == 200 and name in listed.text and other not in listed.text, language
        page = await service.http.get(f"/catalogue/achievements/{achievement_id}", headers={"Accept-Language": language})
        assert page.status_code == 200 and name in page.text, language


async def test_a_version_that_changes_only_its_dutch_text_shows_that_in_the_diff(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _achievement(service)
    path = f"/api/v1/issuers/{issuer_id}/achievements/{achievement_id}"
    edited = await service.http.patch(path, json={"translations": {"nl": {**DUTCH, "name": "Precisiedraaien (herzien)"}}}, headers=service.admin)
    assert edited.status_code == 200 and edited.json()["version"] == 2, edited.text
    rows = {f["key"]: f for f in (await service.http.get(f"{path}/versions/diff", headers=service.admin)).json()["fields"]}
    assert {key for key, row in rows.items() if row["changed"]} == {"translation:nl:name"}
    assert (rows["translation:nl:name"]["label"], rows["translation:nl:name"]["before"]) == ("Name (nl)", DUTCH["name"])
    assert rows["translation:nl:name"]["after"] == "Precisiedraaien (herzien)"
