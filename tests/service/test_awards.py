"""Awards: signed, verifiable (by us and by Digital Bazaar), schema-valid, private, and never twice."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from microcred.credentials import schema, verify
from microcred.credentials.ob3 import IdentityObject
from microcred.issuers.key_lock import hold_for_rotation, hold_for_signing

from ..factories.service import ServiceClient, award_body, resolver
from ..interop.nodejs import js_verify
from .conftest import is_problem

pytestmark = pytest.mark.asyncio


async def _setup(service: ServiceClient, **issuer: object) -> tuple[str, str]:
    created = await service.create_issuer(**issuer)
    achievement = await service.create_achievement(created["id"])
    return created["id"], achievement["id"]


async def test_an_award_is_a_signed_valid_ob3_credential(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _setup(service)
    response = await service.award(issuer_id, achievement_id, completion_date="2023-03-15", recipient={"email": "Zoe@Example.org", "name": "Zoë Jansen"})
    assert response.status_code == 201, response.text
    body = response.json()
    credential = body["credential"]
    assert body["url"] == credential["id"] == f"https://badges.example.org/credentials/{body['id']}"
    assert response.headers["location"] == body["url"]
    assert credential["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert credential["awardedDate"] == "2023-03-15T00:00:00Z"  # retroactive: completed long ago
    assert schema.validate(credential) == []
    report = verify(credential, resolve_key=resolver(service.runtime), recipient_email="Zoe@Example.org")
    assert report.verdict == "valid" and report.valid, report.to_dict()
    # the email is in the credential only as a salted hash
    assert "Zoe@Example.org" not in json.dumps(credential) and "zoe@example.org" not in json.dumps(credential).lower()
    email_id = IdentityObject.model_validate(credential["credentialSubject"]["identifier"][0])
    assert email_id.hashed and email_id.salt and email_id.matches("Zoe@Example.org")


@pytest.mark.interop
async def test_digital_bazaar_verifies_awarded_credentials(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _setup(service)
    credential = (await service.award(issuer_id, achievement_id, recipient={"email": "a@example.org", "name": "Łukasz Żółć 李"})).json()["credential"]
    did = credential["issuer"]["id"]
    documents = {did: service.runtime.keystore.did_document(did)}
    assert js_verify(credential, did_documents=documents) == (True, None)
    tampered = {**credential, "name": credential["name"] + "!"}
    assert js_verify(tampered, did_documents=documents)[0] is False


async def test_the_issuer_can_choose_plain_emails_and_jcs(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _setup(service, hash_recipient_emails=False, cryptosuite="eddsa-jcs-2022")
    credential = (await service.award(issuer_id, achievement_id, recipient={"email": "a@example.org"})).json()["credential"]
    assert credential["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert credential["credentialSubject"]["identifier"][0] == {"type": "IdentityObject", "identityType": "emailAddress", "hashed": False, "identityHash": "a@example.org"}
    assert verify(credential, resolve_key=resolver(service.runtime)).valid


async def test_a_retry_returns_the_first_credential_and_a_changed_body_conflicts(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _setup(service)
    body = award_body(achievement_id)
    path = f"/api/v1/issuers/{issuer_id}/awards"
    headers = {**service.admin, "Idempotency-Key": "lms-42"}
    first = await service.http.post(path, json=body, headers=headers)
    retry = await service.http.post(path, json=body, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    changed = await service.http.post(path, json={**body, "result": {"value": "9"}}, headers=headers)
    assert is_problem(changed, 409)["credential_id"] == first.json()["id"]
    # without a key, external_id (or else achievement + learner + completion date) deduplicates
    by_external = [await service.http.post(path, json={**body, "external_id": "e-1"}, headers=service.admin) for _ in range(2)]
    assert [r.status_code for r in by_external] == [201, 200]
    natural = award_body(achievement_id)
    assert [(await service.http.post(path, json=natural, headers=service.admin)).status_code for _ in range(2)] == [201, 200]
    listed = await service.http.get(f"/api/v1/issuers/{issuer_id}/credentials", headers=service.admin)
    assert len(listed.json()["items"]) == 3


async def test_identical_requests_at_the_same_moment_award_once(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _setup(service)
    body = award_body(achievement_id)
    headers = {**service.admin, "Idempotency-Key": "same-moment"}
    responses = await asyncio.gather(
        *[service.http.post(f"/api/v1/issuers/{issuer_id}/awards", json=body, headers=headers) for _ in range(6)]
    )
    assert sorted(r.status_code for r in responses) == [200] * 5 + [201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    listed = await service.http.get(f"/api/v1/issuers/{issuer_id}/credentials", headers=service.admin)
    assert len(listed.json()["items"]) == 1


async def test_bad_awards_get_problems_naming_the_field(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _setup(service)
    path = f"/api/v1/issuers/{issuer_id}/awards"
    cases = [
        ({"recipient": {"email": "a@example.org"}, "completion_date": "2024-01-01"}, "#/achievement_id"),
        (award_body(achievement_id, recipient={"name": "No Email"}), "#/recipient"),
        (award_body(achievement_id, recipient={"email": "not-an-email"}), "#/recipient/email"),
        (award_body(achievement_id, completion_date="2999-01-01"), "#/completion_date"),
        (award_body("no-such-achievement"), "#/achievement_id"),
        (award_body(achievement_id, result={"value": "8", "result_description_id": "urn:uuid:x"}), "#/result/result_description_id"),
        (award_body(achievement_id, surprise=1), "#/surprise"),
        (award_body(achievement_id, credits_earned=3e-7), "#/credits_earned"),  # JSON-LD reads it as 0: unsignable
    ]
    for body, pointer in cases:
        problem = is_problem(await service.http.post(path, json=body, headers=service.admin), 422)
        assert pointer in [e.get("pointer") for e in problem["errors"]], (pointer, problem)
    unreadable = await service.http.post(path, content=b"{not json", headers={**service.admin, "content-type": "application/json"})
    is_problem(unreadable, 400)
    huge = await service.http.post(path, content=b"[" + b"1," * 600_000 + b"1]", headers={**service.admin, "content-type": "application/json"})
    is_problem(huge, 413)
    listed = await service.http.get(f"/api/v1/issuers/{issuer_id}/credentials", headers=service.admin)
    assert listed.json()["items"] == []


async def test_listing_filters_and_pages(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _setup(service)
    other = (await service.create_achievement(issuer_id, name="Another course"))["id"]
    for i in range(5):
        await service.award(issuer_id, achievement_id, recipient={"email": f"l{i}@example.org"})
    await service.award(issuer_id, other, recipient={"email": "L0@Example.org"})
    path = f"/api/v1/issuers/{issuer_id}/credentials"
    seen, cursor = [], None
    while True:
        page = (await service.http.get(path, params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=service.admin)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 6
    by_learner = (await service.http.get(path, params={"recipient": "l0@example.org"}, headers=service.admin)).json()["items"]
    assert {i["achievement_id"] for i in by_learner} == {achievement_id, other}
    by_course = (await service.http.get(path, params={"achievement_id": other}, headers=service.admin)).json()["items"]
    assert len(by_course) == 1
    tomorrow = datetime.now(UTC).date().isoformat()
    assert (await service.http.get(path, params={"issued_before": "2000-01-01"}, headers=service.admin)).json()["items"] == []
    assert len((await service.http.get(path, params={"issued_after": "2000-01-01", "limit": 500}, headers=service.admin)).json()["items"]) == 6
    assert tomorrow
    is_problem(await service.http.get(path, params={"cursor": "garbage"}, headers=service.admin), 400)


async def test_key_rotation_keeps_old_credentials_verifying(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _setup(service)
    before = (await service.award(issuer_id, achievement_id)).json()["credential"]
    await asyncio.sleep(1.1)  # retirement is rounded up to the second
    rotated = await service.http.post(f"/api/v1/issuers/{issuer_id}/keys/rotate", headers=service.admin)
    assert rotated.status_code == 200, rotated.text
    after = (await service.award(issuer_id, achievement_id)).json()["credential"]
    assert before["proof"]["verificationMethod"] != after["proof"]["verificationMethod"] == rotated.json()["verification_method"]
    for credential in (before, after):
        assert verify(credential, resolve_key=resolver(service.runtime)).verdict == "valid"
    keys = (await service.http.get(f"/api/v1/issuers/{issuer_id}/keys", headers=service.admin)).json()["items"]
    assert len(keys) == 2 and keys[0]["valid_until"] is not None and keys[1]["valid_until"] is None


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite serializes all writes anyway
async def test_a_key_rotation_waits_for_awards_in_flight_and_awards_wait_for_it(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _setup(service)
    rotate = f"/api/v1/issuers/{issuer_id}/keys/rotate"
    async with service.runtime.sessions() as in_flight, in_flight.begin():
        await hold_for_signing(in_flight, issuer_id)  # as an award does before it reads the key
        rotation = asyncio.create_task(service.http.post(rotate, headers=service.admin))
        await asyncio.sleep(0.5)
        assert not rotation.done()  # still waiting for the award to commit
    assert (await rotation).status_code == 200

    async with service.runtime.sessions() as rotating, rotating.begin():
        await hold_for_rotation(rotating, issuer_id)
        award = asyncio.create_task(service.award(issuer_id, achievement_id))
        await asyncio.sleep(0.5)
        assert not award.done()
    assert (await award).status_code == 201


async def test_a_bad_date_is_one_error_at_its_field(service: ServiceClient) -> None:
    issuer_id, achievement_id = await _setup(service)
    response = await service.http.post(f"/api/v1/issuers/{issuer_id}/awards", json=award_body(achievement_id, completion_date="soon"), headers=service.admin)
    assert [e["pointer"] for e in is_problem(response, 422)["errors"]] == ["#/completion_date"]
