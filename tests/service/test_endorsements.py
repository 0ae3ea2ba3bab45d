"""Endorsements: a certifying body vouches for a provider's course (or for the provider), the
provider's credentials carry it, and every verifier checks it with the same steps."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import event

from microcred.awards.service import Signing
from microcred.credentials import issue, schema
from microcred.jobs.worker import JobRunner

from ..factories.service import ServiceClient, award_body
from ..interop.nodejs import js_verify
from .conftest import is_problem

pytestmark = pytest.mark.asyncio

COMMENT = "Accredited against the NLQF criteria for level 4 vocational courses (2026 review)."


async def _parties(service: ServiceClient) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A certifying body, a training provider and one of the provider's published courses."""
    certifier = await service.create_issuer(name="Dutch Accreditation Council", url="https://accreditation.example")
    provider = await service.create_issuer(name="Turning Academy Eindhoven")
    course = await service.create_achievement(provider["id"])
    return certifier, provider, course


async def _endorse(service: ServiceClient, endorser_id: str, *, key: str | None = None, **body: Any) -> dict[str, Any]:
    headers = service.admin if key is None else service.auth(key)
    response = await service.http.post(f"/api/v1/issuers/{endorser_id}/endorsements", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    assert response.headers["location"] == result["url"]
    return result


async def _verified(service: ServiceClient, credential: dict[str, Any]) -> dict[str, Any]:
    response = await service.http.post("/api/v1/verify", json=credential)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


async def _awarded(service: ServiceClient, issuer_id: str, achievement_id: str) -> dict[str, Any]:
    response = await service.award(issuer_id, achievement_id)
    assert response.status_code == 201, response.text
    credential: dict[str, Any] = response.json()["credential"]
    return credential


def _checks(report: dict[str, Any], name: str) -> list[tuple[str, str]]:
    return [(c["outcome"], c["message"]) for c in report["checks"] if c["name"] == name]


class _Endorsements(HTMLParser):
    """The endorsements section of a public page, as the words a person reads, one per item."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "ul" and ("class", "endorsements") in attrs:
            self._depth = 1
        elif self._depth and tag == "li":
            self.items.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "ul":
            self._depth = 0

    def handle_data(self, data: str) -> None:
        if self._depth and self.items:
            self.items[-1] = " ".join((self.items[-1] + " " + data).split())

    @classmethod
    def of(cls, html: str) -> list[str]:
        parser = cls()
        parser.feed(html)
        return parser.items


async def _page(service: ServiceClient, url: str) -> str:
    response = await service.http.get(url.removeprefix(service.runtime.settings.base_url), headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text
    return response.text


async def test_an_endorsement_of_another_issuers_course_is_a_signed_endorsement_credential_that_verifies(
    service: ServiceClient,
) -> None:
    certifier, provider, course = await _parties(service)

    endorsement = await _endorse(
        service, certifier["id"], subject_issuer_id=provider["id"], subject_achievement_id=course["id"], endorsement_comment=COMMENT
    )

    credential = endorsement["credential"]
    assert credential["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert credential["issuer"]["id"] == certifier["did"] and credential["issuer"]["name"] == "Dutch Accreditation Council"
    assert credential["credentialSubject"] == {"id": course["document"]["id"], "type": ["EndorsementSubject"], "endorsementComment": COMMENT}
    assert credential["name"] == f"Endorsement of {course['document']['name']}"
    assert credential["id"] == endorsement["url"] and "proof" in credential
    assert schema.validate(credential, kind="EndorsementCredential") == []
    assert endorsement["subject"] == {"kind": "achievement", "id": course["document"]["id"], "issuer_id": provider["id"], "achievement_id": course["id"]}
    assert (endorsement["status"], endorsement["endorsement_comment"]) == ("active", COMMENT)

    report = await _verified(service, credential)
    assert (report["verdict"], report["valid"]) == ("valid", True)
    assert _checks(report, "status:revocation") == [("passed", "not revoked")]

    public = await service.http.get(endorsement["url"].removeprefix(service.runtime.settings.base_url))
    assert public.status_code == 200 and public.headers["content-type"].startswith("application/vc+ld+json")
    assert public.json() == credential
    listed = await service.http.get(f"/api/v1/issuers/{certifier['id']}/endorsements", headers=service.admin)
    assert [e["id"] for e in listed.json()["items"]] == [endorsement["id"]]
    one = await service.http.get(f"/api/v1/issuers/{certifier['id']}/endorsements/{endorsement['id']}", headers=service.admin)
    assert one.json() == endorsement


async def test_a_credential_awarded_after_it_carries_the_endorsement_in_its_achievement_and_shows_it(service: ServiceClient) -> None:
    certifier, provider, course = await _parties(service)
    endorsement = await _endorse(
        service, certifier["id"], subject_issuer_id=provider["id"], subject_achievement_id=course["id"], endorsement_comment=COMMENT
    )

    credential = await _awarded(service, provider["id"], course["id"])

    assert credential["credentialSubject"]["achievement"]["endorsement"] == [endorsement["credential"]]
    assert "endorsement" not in credential["issuer"]
    assert schema.validate(credential) == []
    report = await _verified(service, credential)
    assert (report["verdict"], report["valid"]) == ("valid", True)
    assert _checks(report, "endorsement") == [("passed", f"endorsed by Dutch Accreditation Council: “{COMMENT}”")]
    assert [(e["endorser"]["name"], e["comment"], e["state"]) for e in report["summary"]["endorsements"]] == [
        ("Dutch Accreditation Council", COMMENT, "valid")
    ]
    assert _Endorsements.of(await _page(service, credential["id"])) == [
        f"Endorsed by Dutch Accreditation Council — {COMMENT} Endorses the achievement · Status: Valid"
    ]
    # The published version stays the snapshot it was; the achievement's public URL shows the endorsement.
    stored = await service.http.get(f"/api/v1/issuers/{provider['id']}/achievements/{course['id']}", headers=service.admin)
    assert "endorsement" not in stored.json()["document"]
    public = await service.http.get(f"/issuers/{provider['id']}/achievements/{course['id']}")
    assert public.json()["endorsement"] == [endorsement["credential"]]


async def test_an_endorsement_stays_with_the_achievement_version_it_names(service: ServiceClient) -> None:
    """Each version has its own id: the endorser vouched for the text it saw, so credentials of
    an edited course carry only endorsements of their own version, and still verify."""
    certifier, provider, course = await _parties(service)
    first = await _endorse(service, certifier["id"], subject_issuer_id=provider["id"], subject_achievement_id=course["id"])
    edited = await service.http.patch(
        f"/api/v1/issuers/{provider['id']}/achievements/{course['id']}", json={"description": "A revised course."}, headers=service.admin
    )
    assert edited.json()["version"] == 2

    credential = await _awarded(service, provider["id"], course["id"])
    assert "endorsement" not in credential["credentialSubject"]["achievement"]
    assert (await _verified(service, credential))["verdict"] == "valid"
    again = await _endorse(service, certifier["id"], subject_issuer_id=provider["id"], subject_achievement_id=course["id"])
    assert again["credential"]["credentialSubject"]["id"] == edited.json()["document"]["id"] != first["credential"]["credentialSubject"]["id"]
    credential = await _awarded(service, provider["id"], course["id"])
    assert credential["credentialSubject"]["achievement"]["endorsement"] == [again["credential"]]
    report = await _verified(service, credential)
    assert report["verdict"] == "valid" and [o for o, _ in _checks(report, "endorsement")] == ["passed"]
    # Version 1's id still shows the endorsement of version 1.
    plain = await service.http.get(f"/issuers/{provider['id']}/achievements/{course['id']}")
    assert plain.json()["endorsement"] == [first["credential"]]


async def test_an_endorsement_of_the_provider_rides_in_the_issuer_profile_of_its_credentials(service: ServiceClient) -> None:
    certifier, provider, course = await _parties(service)
    endorsement = await _endorse(service, certifier["id"], subject_issuer_id=provider["id"])
    assert endorsement["subject"] == {"kind": "profile", "id": provider["did"], "issuer_id": provider["id"], "achievement_id": None}
    assert endorsement["credential"]["name"] == "Endorsement of Turning Academy Eindhoven"

    credential = await _awarded(service, provider["id"], course["id"])

    assert credential["issuer"]["endorsement"] == [endorsement["credential"]]
    assert "endorsement" not in credential["credentialSubject"]["achievement"]
    assert schema.validate(credential) == []
    report = await _verified(service, credential)
    assert report["verdict"] == "valid" and _checks(report, "endorsement") == [("passed", "endorsed by Dutch Accreditation Council")]
    profile = await service.http.get(f"/issuers/{provider['id']}/profile")
    assert profile.json()["endorsement"] == [endorsement["credential"]]
    assert _Endorsements.of(await _page(service, credential["id"])) == ["Endorsed by Dutch Accreditation Council Endorses the issuer · Status: Valid"]


async def test_a_revoked_endorsement_is_reported_revoked_and_new_awards_leave_it_out(service: ServiceClient) -> None:
    certifier, provider, course = await _parties(service)
    endorsement = await _endorse(
        service, certifier["id"], subject_issuer_id=provider["id"], subject_achievement_id=course["id"], endorsement_comment=COMMENT
    )
    before = await _awarded(service, provider["id"], course["id"])
    revoker = await service.issuer_key(certifier["id"], "revoke")
    path = f"/api/v1/issuers/{certifier['id']}/endorsements/{endorsement['id']}/revoke"

    revoked = await service.http.post(path, headers=service.auth(revoker))

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked" and revoked.json()["revoked_at"]
    again = await service.http.post(path, headers=service.auth(revoker))
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert (await _verified(service, endorsement["credential"]))["verdict"] == "revoked"
    report = await _verified(service, before)
    assert (report["verdict"], report["valid"]) == ("valid", True)  # the learner's credential itself stands
    assert _checks(report, "endorsement") == [("warning", "the endorsement by Dutch Accreditation Council was revoked by its issuer")]
    assert report["summary"]["endorsements"][0]["state"] == "revoked"
    assert _Endorsements.of(await _page(service, before["id"])) == [
        f"Endorsed by Dutch Accreditation Council — {COMMENT} Endorses the achievement · Status: Revoked by the endorser"
    ]
    after = await _awarded(service, provider["id"], course["id"])
    assert "endorsement" not in after["credentialSubject"]["achievement"]
    public = await service.http.get(f"/issuers/{provider['id']}/achievements/{course['id']}")
    assert "endorsement" not in public.json()


async def test_the_awarding_issuer_cannot_put_words_in_the_endorsers_mouth(service: ServiceClient) -> None:
    """Even signed by the provider's own key, a credential whose embedded endorsement was
    changed, or moved to another course, fails verification."""
    certifier, provider, course = await _parties(service)
    other = await service.create_achievement(provider["id"], name="Surface Grinding")
    await _endorse(service, certifier["id"], subject_issuer_id=provider["id"], subject_achievement_id=course["id"], endorsement_comment=COMMENT)
    genuine = await _awarded(service, provider["id"], course["id"])
    endorsement = genuine["credentialSubject"]["achievement"]["endorsement"][0]
    signer = service.runtime.keystore.signer_for(genuine["proof"]["verificationMethod"])

    def resigned(credential: dict[str, Any]) -> dict[str, Any]:
        unsigned = {k: v for k, v in credential.items() if k != "proof"}
        return issue(unsigned, signer=signer, loader=service.runtime.loader)

    changed = copy.deepcopy(genuine)
    changed["credentialSubject"]["achievement"]["endorsement"][0]["credentialSubject"]["endorsementComment"] = "Best course in Europe."
    report = await _verified(service, resigned(changed))
    assert (report["verdict"], report["valid"]) == ("tampered", False)
    assert _checks(report, "proof")[0][0] == "passed"
    [(outcome, message)] = _checks(report, "endorsement")
    assert outcome == "failed" and "does not verify" in message

    moved = await _awarded(service, provider["id"], other["id"])
    moved["credentialSubject"]["achievement"]["endorsement"] = [endorsement]
    report = await _verified(service, resigned(moved))
    assert report["verdict"] == "tampered"
    [(outcome, message)] = _checks(report, "endorsement")
    assert outcome == "failed" and f"is about {course['document']['id']}, not about {other['document']['id']}" in message


async def test_a_bulk_job_embeds_the_endorsement_in_every_row_with_one_lookup_per_chunk(service: ServiceClient) -> None:
    certifier, provider, course = await _parties(service)
    endorsement = await _endorse(service, certifier["id"], subject_issuer_id=provider["id"], subject_achievement_id=course["id"])
    rows = [award_body(course["id"]) for _ in range(7)]
    job = await service.http.post(f"/api/v1/issuers/{provider['id']}/awards/batch", json=rows, headers=service.admin)
    assert job.status_code == 202, job.text
    runtime = service.runtime
    lookups: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM endorsements" in statement:
            lookups.append(statement)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", count)
    try:
        runner = JobRunner(runtime.sessions, Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses), chunk_rows=50)
        assert await runner.run_once() == job.json()["id"]
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", count)

    assert len(lookups) == 1
    status = (await service.http.get(f"/api/v1/jobs/{job.json()['id']}", headers=service.admin)).json()
    assert status["awarded"] == 7
    for row in status["rows"][:2]:
        got = await service.http.get(f"/api/v1/issuers/{provider['id']}/credentials/{row['credential_id']}", headers=service.admin)
        credential = got.json()["credential"]
        assert credential["credentialSubject"]["achievement"]["endorsement"] == [endorsement["credential"]]
        assert (await _verified(service, credential))["verdict"] == "valid"


async def test_an_endorsement_lapses_at_valid_until_and_is_then_left_out(service: ServiceClient) -> None:
    certifier, provider, course = await _parties(service)
    until = datetime.now(UTC) + timedelta(days=365)
    endorsement = await _endorse(
        service, certifier["id"], subject_issuer_id=provider["id"], subject_achievement_id=course["id"], valid_until=until.date().isoformat()
    )
    assert endorsement["credential"]["validUntil"] == f"{until.date().isoformat()}T00:00:00Z"
    credential = await _awarded(service, provider["id"], course["id"])
    assert credential["credentialSubject"]["achievement"]["endorsement"] == [endorsement["credential"]]
    problem = is_problem(
        await service.http.post(
            f"/api/v1/issuers/{certifier['id']}/endorsements",
            json={"subject_issuer_id": provider["id"], "valid_until": "2020-01-01"},
            headers=service.admin,
        ),
        422,
    )
    assert problem["errors"] == [{"pointer": "#/valid_until", "detail": "must lie in the future"}]


async def test_endorsing_needs_the_manage_scope_and_revoking_the_revoke_scope(service: ServiceClient) -> None:
    certifier, provider, course = await _parties(service)
    body = {"subject_issuer_id": provider["id"], "subject_achievement_id": course["id"]}
    award_only = await service.issuer_key(certifier["id"], "award")
    refused = await service.http.post(f"/api/v1/issuers/{certifier['id']}/endorsements", json=body, headers=service.auth(award_only))
    is_problem(refused, 403)
    manager = await service.issuer_key(certifier["id"], "manage")
    endorsement = await _endorse(service, certifier["id"], key=manager, **body)
    revoke = f"/api/v1/issuers/{certifier['id']}/endorsements/{endorsement['id']}/revoke"
    is_problem(await service.http.post(revoke, headers=service.auth(manager)), 403)
    listed = await service.http.get(f"/api/v1/issuers/{certifier['id']}/endorsements", headers=service.auth(award_only))
    assert [e["id"] for e in listed.json()["items"]] == [endorsement["id"]]  # every key may read its issuer


async def test_another_issuer_neither_sees_nor_revokes_an_endorsement_nor_signs_in_the_endorsers_name(service: ServiceClient) -> None:
    certifier, provider, course = await _parties(service)
    endorsement = await _endorse(service, certifier["id"], subject_issuer_id=provider["id"], subject_achievement_id=course["id"])
    provider_key = service.auth(await service.issuer_key(provider["id"]))
    base = f"/api/v1/issuers/{certifier['id']}/endorsements"

    is_problem(await service.http.post(base, json={"subject_issuer_id": provider["id"]}, headers=provider_key), 404)
    is_problem(await service.http.get(base, headers=provider_key), 404)
    is_problem(await service.http.get(f"{base}/{endorsement['id']}", headers=provider_key), 404)
    is_problem(await service.http.post(f"{base}/{endorsement['id']}/revoke", headers=provider_key), 404)
    # Under its own issuer, the provider finds no endorsement of that id: it is the certifier's.
    is_problem(await service.http.get(f"/api/v1/issuers/{provider['id']}/endorsements/{endorsement['id']}", headers=provider_key), 404)
    listed = await service.http.get(f"/api/v1/issuers/{provider['id']}/endorsements", headers=provider_key)
    assert listed.json()["items"] == []
    is_problem(await service.http.get("/endorsements/no-such-endorsement"), 404)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "#/subject_issuer_id"),
        ({"subject_issuer_id": "no-such-issuer"}, "#/subject_issuer_id"),
        ({"subject_issuer_id": "{certifier}"}, "#/subject_issuer_id"),
        ({"subject_issuer_id": "{provider}", "subject_achievement_id": "no-such-course"}, "#/subject_achievement_id"),
        ({"subject_issuer_id": "{provider}", "subject_achievement_id": "{draft}"}, "#/subject_achievement_id"),
        ({"subject_issuer_id": "{provider}", "subject_achievement_id": "{elsewhere}"}, "#/subject_achievement_id"),
        ({"subject_issuer_id": "{provider}", "endorsement_comment": ""}, "#/endorsement_comment"),
        ({"subject_issuer_id": "{provider}", "comment": "typo"}, "#/comment"),
    ],
    ids=["nothing", "unknown issuer", "itself", "unknown course", "draft course", "another issuers course", "empty comment", "unknown field"],
)
async def test_what_cannot_be_endorsed_is_refused_naming_the_field(service: ServiceClient, body: dict[str, Any], pointer: str) -> None:
    certifier, provider, _ = await _parties(service)
    draft = await service.create_achievement(provider["id"], status="draft")
    elsewhere = await service.create_achievement(certifier["id"])
    ids = {"certifier": certifier["id"], "provider": provider["id"], "draft": draft["id"], "elsewhere": elsewhere["id"]}
    sent = {key: value.format(**ids) for key, value in body.items()}

    problem = is_problem(await service.http.post(f"/api/v1/issuers/{certifier['id']}/endorsements", json=sent, headers=service.admin), 422)

    assert pointer in [e["pointer"] for e in problem["errors"]]
    listed = await service.http.get(f"/api/v1/issuers/{certifier['id']}/endorsements", headers=service.admin)
    assert listed.json()["items"] == []


@pytest.mark.interop
async def test_digital_bazaar_verifies_the_endorsement_and_the_award_that_embeds_it(service: ServiceClient) -> None:
    certifier, provider, course = await _parties(service)
    endorsement = await _endorse(
        service, certifier["id"], subject_issuer_id=provider["id"], subject_achievement_id=course["id"], endorsement_comment=COMMENT
    )
    credential = await _awarded(service, provider["id"], course["id"])
    keystore = service.runtime.keystore
    did_documents = {did: keystore.did_document(did) for did in (certifier["did"], provider["did"])}

    assert await asyncio.to_thread(js_verify, endorsement["credential"], did_documents=did_documents) == (True, None)
    assert await asyncio.to_thread(js_verify, credential, did_documents=did_documents) == (True, None)
    embedded = credential["credentialSubject"]["achievement"]["endorsement"][0]
    assert await asyncio.to_thread(js_verify, embedded, did_documents=did_documents) == (True, None)
    embedded["credentialSubject"]["endorsementComment"] = "Best course in Europe."
    assert await asyncio.to_thread(js_verify, embedded, did_documents=did_documents) == (False, "Invalid signature.")
