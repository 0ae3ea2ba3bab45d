"""Learning pathways: completing the last course earns the pathway credential exactly once, in
the award's transaction, pinning each component credential by the digest of what its URL serves."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from microcred.app import create_app
from microcred.awards.service import Signing
from microcred.credentials import multibase, schema, verify
from microcred.db.models import Credential
from microcred.jobs.worker import JobRunner
from microcred.runtime import build_runtime

from ..factories.service import ServiceClient, award_body, resolver
from ..interop.nodejs import js_verify
from .conftest import is_problem
from .test_public import _Page

pytestmark = pytest.mark.asyncio

LEARNER = "ada.lovelace@example.org"


async def _school(service: ServiceClient, courses: int = 3, **issuer: Any) -> tuple[str, list[str], str]:
    """An issuer with ``courses`` published courses and the published achievement a pathway earns."""
    issuer_id = (await service.create_issuer(**issuer))["id"]
    course_ids = [(await service.create_achievement(issuer_id, name=f"Course {n + 1}"))["id"] for n in range(courses)]
    pathway_achievement = (await service.create_achievement(issuer_id, name="Certified Instrument Maker"))["id"]
    return issuer_id, course_ids, pathway_achievement


async def _pathway(service: ServiceClient, issuer_id: str, achievement_id: str, components: list[Any], **body: Any) -> dict[str, Any]:
    response = await service.http.post(
        f"/api/v1/issuers/{issuer_id}/pathways",
        json={
            "name": "Instrument maker track",
            "achievement_id": achievement_id,
            "components": [c if isinstance(c, dict) else {"achievement_id": c} for c in components],
            **body,
        },
        headers=service.admin,
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/v1/issuers/{issuer_id}/pathways/{response.json()['id']}"
    result: dict[str, Any] = response.json()
    return result


async def _complete(service: ServiceClient, issuer_id: str, achievement_id: str, email: str = LEARNER, **award: Any) -> dict[str, Any]:
    award.setdefault("recipient", {"email": email, "name": "Ada Lovelace"})
    response = await service.award(issuer_id, achievement_id, **award)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


async def _held(service: ServiceClient, issuer_id: str, achievement_id: str, email: str = LEARNER) -> list[dict[str, Any]]:
    """The learner's credentials for an achievement, as the issuer's API lists them, each signed."""
    listed = await service.http.get(
        f"/api/v1/issuers/{issuer_id}/credentials", params={"recipient": email, "achievement_id": achievement_id}, headers=service.admin
    )
    assert listed.status_code == 200, listed.text
    out = []
    for item in listed.json()["items"]:
        one = await service.http.get(f"/api/v1/issuers/{issuer_id}/credentials/{item['id']}", headers=service.admin)
        out.append(one.json()["credential"])
    return out


def _path(service: ServiceClient, url: str) -> str:
    return url.removeprefix(service.runtime.settings.base_url)


def _sha384(value: str) -> bytes:
    """The SHA-384 digest inside a digestMultibase value (multibase u, multihash 0x20)."""
    raw = multibase.decode(value)
    assert value.startswith("u") and raw[:2] == bytes([0x20, 48]), value
    return raw[2:]


async def test_the_last_course_earns_the_pathway_credential_exactly_once(service: ServiceClient) -> None:
    issuer_id, courses, achievement_id = await _school(service)
    pathway = await _pathway(service, issuer_id, achievement_id, courses)
    assert (pathway["rule"], pathway["status"], pathway["evaluation_job"]) == ("all", "active", None)
    assert [c["name"] for c in pathway["components"]] == ["Course 1", "Course 2", "Course 3"]

    first = [await _complete(service, issuer_id, course) for course in courses[:2]]
    assert await _held(service, issuer_id, achievement_id) == []
    last = await _complete(service, issuer_id, courses[2], completion_date="2024-09-30")
    [credential] = await _held(service, issuer_id, achievement_id)

    assert credential["credentialSubject"]["achievement"]["name"] == "Certified Instrument Maker"
    assert credential["awardedDate"] == "2024-09-30T00:00:00Z"  # when the last course was completed
    assert [r["id"] for r in credential["relatedResource"]] == [c["url"] for c in (*first, last)]
    assert {r["mediaType"] for r in credential["relatedResource"]} == {"application/vc+ld+json"}
    assert schema.validate(credential) == []
    report = verify(credential, resolve_key=resolver(service.runtime), recipient_email=LEARNER)
    assert report.verdict == "valid" and report.valid, report.to_dict()

    # A retry of the last award, a retake of a course and another learner's courses issue nothing more.
    assert (await service.award(issuer_id, courses[2], completion_date="2024-09-30", recipient={"email": LEARNER, "name": "Ada Lovelace"})).status_code == 200
    await _complete(service, issuer_id, courses[1], completion_date="2025-01-10")
    await _complete(service, issuer_id, courses[0], email="grace@example.org")
    assert [c["id"] for c in await _held(service, issuer_id, achievement_id)] == [credential["id"]]
    assert await _held(service, issuer_id, achievement_id, "grace@example.org") == []


async def test_the_pathway_credential_pins_each_component_by_the_digest_of_what_its_url_serves(service: ServiceClient) -> None:
    issuer_id, courses, achievement_id = await _school(service)
    await _pathway(service, issuer_id, achievement_id, courses)
    for course in courses:
        await _complete(service, issuer_id, course, recipient={"email": "Ada.Lovelace@Example.org", "name": "Ada Lovelace", "did": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"})
    [credential] = await _held(service, issuer_id, achievement_id)
    assert credential["credentialSubject"]["id"] == "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    for related in credential["relatedResource"]:
        served = await service.http.get(_path(service, related["id"]), headers={"Accept": related["mediaType"]})
        assert served.status_code == 200 and served.headers["content-type"] == related["mediaType"]
        assert hashlib.sha384(served.content).digest() == _sha384(related["digestMultibase"])
        assert served.json()["credentialSubject"]["achievement"]["id"].rsplit("/", 1)[1] in courses


async def test_at_least_n_of_the_courses_complete_an_at_least_pathway(service: ServiceClient) -> None:
    issuer_id, courses, achievement_id = await _school(service, courses=4)
    pathway = await _pathway(service, issuer_id, achievement_id, courses, rule="at_least", min_count=2)
    assert (pathway["rule"], pathway["min_count"]) == ("at_least", 2)
    one = await _complete(service, issuer_id, courses[3])
    assert await _held(service, issuer_id, achievement_id) == []
    two = await _complete(service, issuer_id, courses[1])
    [credential] = await _held(service, issuer_id, achievement_id)
    assert [r["id"] for r in credential["relatedResource"]] == [two["url"], one["url"]]  # in the pathway's order
    await _complete(service, issuer_id, courses[0])
    assert len(await _held(service, issuer_id, achievement_id)) == 1


async def test_another_issuers_published_achievement_counts_for_the_same_learner(service: ServiceClient) -> None:
    issuer_id, courses, achievement_id = await _school(service, courses=1)
    partner = (await service.create_issuer())["id"]
    their_course = (await service.create_achievement(partner, name="Metrology (partner)"))["id"]
    pathway = await _pathway(service, issuer_id, achievement_id, [courses[0], {"issuer_id": partner, "achievement_id": their_course}])
    assert pathway["components"][1] == {"issuer_id": partner, "achievement_id": their_course, "name": "Metrology (partner)"}
    ours = await _complete(service, issuer_id, courses[0])
    assert await _held(service, issuer_id, achievement_id) == []
    theirs = await _complete(service, partner, their_course, email=LEARNER.upper())  # the same learner: emails match case-blind
    [credential] = await _held(service, issuer_id, achievement_id)
    assert credential["issuer"]["id"] == ours["credential"]["issuer"]["id"] != theirs["credential"]["issuer"]["id"]
    assert [r["id"] for r in credential["relatedResource"]] == [ours["url"], theirs["url"]]
    assert verify(credential, resolve_key=resolver(service.runtime)).valid


async def test_a_revoked_course_does_not_count_toward_a_pathway(service: ServiceClient) -> None:
    issuer_id, courses, achievement_id = await _school(service, courses=2)
    await _pathway(service, issuer_id, achievement_id, courses)
    first = await _complete(service, issuer_id, courses[0])
    revoked = await service.http.post(f"/api/v1/issuers/{issuer_id}/credentials/{first['id']}/revoke", headers=service.admin)
    assert revoked.status_code == 200
    await _complete(service, issuer_id, courses[1])
    assert await _held(service, issuer_id, achievement_id) == []
    retaken = await _complete(service, issuer_id, courses[0], completion_date="2025-02-01")
    [credential] = await _held(service, issuer_id, achievement_id)
    assert credential["relatedResource"][0]["id"] == retaken["url"]


async def test_a_course_revoked_later_is_flagged_while_the_pathway_credential_stays_valid(service: ServiceClient) -> None:
    issuer_id, courses, achievement_id = await _school(service, courses=2)
    await _pathway(service, issuer_id, achievement_id, courses)
    first = await _complete(service, issuer_id, courses[0])
    await _complete(service, issuer_id, courses[1])
    [credential] = await _held(service, issuer_id, achievement_id)

    clean = (await service.http.post("/api/v1/verify", json=credential)).json()
    assert clean["valid"] and [c["state"] for c in clean["components"]] == ["valid", "valid"]
    assert next(c for c in clean["checks"] if c["name"] == "components")["outcome"] == "passed"

    assert (await service.http.post(f"/api/v1/issuers/{issuer_id}/credentials/{first['id']}/revoke", headers=service.admin)).status_code == 200
    report = (await service.http.post("/api/v1/verify", json=credential)).json()
    assert report["verdict"] == "valid" and report["valid"], report
    assert [(c["id"], c["state"]) for c in report["components"]] == [(first["url"], "revoked"), (credential["relatedResource"][1]["id"], "valid")]
    check = next(c for c in report["checks"] if c["name"] == "components")
    assert check["outcome"] == "warning" and "Course 1 (revoked)" in check["message"]

    html = await service.http.get(_path(service, credential["id"]), headers={"Accept": "text/html"})
    page = _Page.of(html.text)
    assert page.status == "valid"
    assert 'data-flag="component-lapsed"' in html.text and "Course 1 · Revoked by its issuer" in page.words
    assert "Course 2 · Valid" in page.words


async def test_a_component_changed_after_the_award_fails_the_components_check(service: ServiceClient) -> None:
    issuer_id, courses, achievement_id = await _school(service, courses=2)
    await _pathway(service, issuer_id, achievement_id, courses)
    first = await _complete(service, issuer_id, courses[0])
    await _complete(service, issuer_id, courses[1])
    [credential] = await _held(service, issuer_id, achievement_id)
    async with service.runtime.sessions() as session, session.begin():
        changed = {**first["credential"], "name": "Course 1 (re-issued)"}
        await session.execute(update(Credential).where(Credential.id == first["id"]).values(document=changed))
    report = (await service.http.post("/api/v1/verify", json=credential)).json()
    assert not report["valid"] and report["components"][0]["state"] == "digest_mismatch", report
    assert next(c for c in report["checks"] if c["name"] == "components")["outcome"] == "failed"
    page = _Page.of((await service.http.get(_path(service, credential["id"]), headers={"Accept": "text/html"})).text)
    assert page.status == "invalid" and f"{first['url']} · Changed since this credential was issued" in page.words


def _runner(service: ServiceClient) -> JobRunner:
    runtime = service.runtime
    return JobRunner(runtime.sessions, Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses), chunk_rows=2)


async def test_a_new_pathway_evaluates_earlier_awards_only_when_asked_in_a_job(service: ServiceClient) -> None:
    issuer_id, courses, achievement_id = await _school(service, courses=2)
    for n in range(3):  # three learners complete both courses; a fourth completes one
        for course in courses:
            await _complete(service, issuer_id, course, email=f"early{n}@example.org")
    await _complete(service, issuer_id, courses[0], recipient={"did": "did:web:learner.example"})

    quiet = await _pathway(service, issuer_id, achievement_id, courses)
    assert quiet["evaluation_job"] is None
    assert await _held(service, issuer_id, achievement_id, "early0@example.org") == []

    other_achievement = (await service.create_achievement(issuer_id, name="Second track"))["id"]
    pathway = await _pathway(service, issuer_id, other_achievement, courses, evaluate_existing=True)
    job_url = pathway["evaluation_job"]["url"]
    assert job_url == f"/api/v1/jobs/{pathway['evaluation_job']['id']}"
    # Before the job runs, one learner completes again through an award: the job finds it done.
    await _complete(service, issuer_id, courses[1], email="early2@example.org", completion_date="2025-03-03")
    assert await _runner(service).run_once() == pathway["evaluation_job"]["id"]
    job = (await service.http.get(job_url, headers=service.admin)).json()
    assert (job["kind"], job["pathway_id"], job["status"]) == ("pathway", pathway["id"], "completed")
    assert (job["total"], job["processed"], job["awarded"], job["duplicates"], job["failed"]) == (4, 4, 2, 1, 0)
    assert sorted(r["status"] for r in job["rows"]) == ["awarded", "awarded", "duplicate", "incomplete"]
    assert await _held(service, issuer_id, achievement_id, "early0@example.org") == []  # the quiet one never looked back
    for n in range(3):
        [credential] = await _held(service, issuer_id, other_achievement, f"early{n}@example.org")
        assert len(credential["relatedResource"]) == 2
        assert any(r["credential_url"] == credential["id"] for r in job["rows"])


async def test_a_bulk_job_completes_pathways_once_even_within_one_chunk(service: ServiceClient) -> None:
    issuer_id, courses, achievement_id = await _school(service)
    await _pathway(service, issuer_id, achievement_id, courses)
    rows = [award_body(course, recipient={"email": email}) for email in ("a@example.org", "b@example.org") for course in courses]
    submitted = await service.http.post(f"/api/v1/issuers/{issuer_id}/awards/batch", json=rows, headers=service.admin)
    assert submitted.status_code == 202, submitted.text
    runtime = service.runtime
    runner = JobRunner(runtime.sessions, Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses), chunk_rows=4)
    assert await runner.run_once() == submitted.json()["id"]
    for email in ("a@example.org", "b@example.org"):  # a's three courses in one chunk, b's across two
        [credential] = await _held(service, issuer_id, achievement_id, email)
        assert len(credential["relatedResource"]) == 3


async def test_a_pathway_credential_may_complete_a_pathway_of_pathways(service: ServiceClient) -> None:
    issuer_id, courses, track = await _school(service, courses=2)
    capstone = (await service.create_achievement(issuer_id, name="Capstone"))["id"]
    master = (await service.create_achievement(issuer_id, name="Master Instrument Maker"))["id"]
    await _pathway(service, issuer_id, track, courses)
    await _pathway(service, issuer_id, master, [track, capstone])
    await _complete(service, issuer_id, capstone)
    for course in courses:
        await _complete(service, issuer_id, course)
    [track_credential] = await _held(service, issuer_id, track)
    [credential] = await _held(service, issuer_id, master)
    assert credential["relatedResource"][0]["id"] == track_credential["id"]
    report = (await service.http.post("/api/v1/verify", json=credential)).json()
    assert report["valid"] and [c["state"] for c in report["components"]] == ["valid", "valid"]


async def test_changes_and_archiving_apply_to_later_awards(service: ServiceClient) -> None:
    issuer_id, courses, achievement_id = await _school(service)
    pathway = await _pathway(service, issuer_id, achievement_id, courses)
    path = f"/api/v1/issuers/{issuer_id}/pathways/{pathway['id']}"
    changed = await service.http.patch(path, json={"name": "Two of three", "rule": "at_least", "min_count": 2}, headers=service.admin)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["rule"], changed.json()["min_count"]) == ("Two of three", "at_least", 2)
    archived = await service.http.patch(path, json={"status": "archived"}, headers=service.admin)
    assert archived.json()["status"] == "archived"
    for course in courses[:2]:
        await _complete(service, issuer_id, course)
    assert await _held(service, issuer_id, achievement_id) == []
    narrowed = await service.http.patch(path, json={"status": "active", "rule": "all", "components": [{"achievement_id": courses[2]}]}, headers=service.admin)
    assert narrowed.status_code == 200, narrowed.text
    assert (narrowed.json()["rule"], narrowed.json()["min_count"], [c["achievement_id"] for c in narrowed.json()["components"]]) == ("all", None, [courses[2]])
    await _complete(service, issuer_id, courses[2])
    [credential] = await _held(service, issuer_id, achievement_id)
    assert len(credential["relatedResource"]) == 1
    listed = (await service.http.get(f"/api/v1/issuers/{issuer_id}/pathways", headers=service.admin)).json()["items"]
    assert [p["id"] for p in listed] == [pathway["id"]]
    assert (await service.http.get(path, headers=service.admin)).json() == narrowed.json()


async def test_bad_pathways_get_problems_naming_the_field(service: ServiceClient) -> None:
    issuer_id, courses, achievement_id = await _school(service, courses=2)
    draft = (await service.create_achievement(issuer_id, status="draft"))["id"]
    partner = (await service.create_issuer())["id"]
    partner_draft = (await service.create_achievement(partner, status="draft"))["id"]
    base = f"/api/v1/issuers/{issuer_id}/pathways"

    async def pointers(body: dict[str, Any], *, path: str = base, method: str = "POST") -> list[str]:
        response = await service.http.request(method, path, json=body, headers=service.admin)
        return [e["pointer"] for e in is_problem(response, 422)["errors"]]

    one = [{"achievement_id": courses[0]}]
    assert await pointers({"name": "x", "achievement_id": draft, "components": one}) == ["#/achievement_id"]
    assert await pointers({"name": "x", "achievement_id": achievement_id, "components": [{"achievement_id": "nope"}]}) == ["#/components/0/achievement_id"]
    assert await pointers({"name": "x", "achievement_id": achievement_id, "components": [*one, *one]}) == ["#/components/1/achievement_id"]
    assert await pointers({"name": "x", "achievement_id": achievement_id, "components": [{"achievement_id": achievement_id}]}) == [
        "#/components/0/achievement_id"
    ]
    theirs = [{"issuer_id": partner, "achievement_id": partner_draft}]
    assert await pointers({"name": "x", "achievement_id": achievement_id, "components": theirs}) == ["#/components/0/achievement_id"]
    assert await pointers({"name": "x", "achievement_id": achievement_id, "components": one, "rule": "at_least", "min_count": 2}) == ["#/min_count"]
    assert await pointers({"name": "x", "achievement_id": achievement_id, "components": one, "min_count": 1}) == ["#/min_count"]
    assert await pointers({"name": "x", "achievement_id": achievement_id, "components": []}) == ["#/components"]
    assert await pointers({"achievement_id": achievement_id, "components": one, "color": "red"}) == ["#/name", "#/color"]
    # A draft of the issuer's own may be a component (it counts once published).
    pathway = await _pathway(service, issuer_id, achievement_id, [courses[0], draft])
    path = f"{base}/{pathway['id']}"
    assert await pointers({"rule": "at_least"}, path=path, method="PATCH") == ["#/min_count"]
    assert await pointers({"components": [{"achievement_id": "nope"}]}, path=path, method="PATCH") == ["#/components/0/achievement_id"]
    assert await pointers({"name": None}, path=path, method="PATCH") == ["#/name"]
    is_problem(await service.http.get(f"{base}/no-such-pathway", headers=service.admin), 404)


async def test_another_issuers_key_finds_no_pathway(service: ServiceClient) -> None:
    issuer_id, courses, achievement_id = await _school(service, courses=1)
    pathway = await _pathway(service, issuer_id, achievement_id, courses)
    other = (await service.create_issuer())["id"]
    their_key = service.auth(await service.issuer_key(other))
    base = f"/api/v1/issuers/{issuer_id}/pathways"
    for method, path, body in (
        ("GET", base, None),
        ("POST", base, {"name": "x", "achievement_id": achievement_id, "components": [{"achievement_id": courses[0]}]}),
        ("GET", f"{base}/{pathway['id']}", None),
        ("PATCH", f"{base}/{pathway['id']}", {"status": "archived"}),
    ):
        is_problem(await service.http.request(method, path, json=body, headers=their_key), 404)
    own_key = service.auth(await service.issuer_key(issuer_id, "award"))
    is_problem(await service.http.patch(f"{base}/{pathway['id']}", json={"name": "y"}, headers=own_key), 403)
    assert (await service.http.get(f"{base}/{pathway['id']}", headers=own_key)).json()["status"] == "active"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_courses_completing_at_the_same_moment_earn_the_pathway_credential_once(service: ServiceClient) -> None:
    """Each award runs on its own worker (its own engine and app) and they commit together:
    without the per-learner lock each would see only its own course and neither would issue."""
    issuer_id, courses, achievement_id = await _school(service)
    await _pathway(service, issuer_id, achievement_id, courses)
    other = build_runtime(service.runtime.settings)
    try:
        app = create_app(other.settings, runtime=other, migrate=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as second:
            for attempt in range(8):
                email = f"learner-{attempt}-{uuid.uuid4().hex[:6]}@example.org"
                await _complete(service, issuer_id, courses[0], email=email)
                responses = await asyncio.gather(
                    service.http.post(
                        f"/api/v1/issuers/{issuer_id}/awards", json=award_body(courses[1], recipient={"email": email}), headers=service.admin
                    ),
                    second.post(f"/api/v1/issuers/{issuer_id}/awards", json=award_body(courses[2], recipient={"email": email}), headers=service.admin),
                )
                assert [r.status_code for r in responses] == [201, 201], [r.text for r in responses]
                held = await _held(service, issuer_id, achievement_id, email)
                assert len(held) == 1, f"attempt {attempt}: {len(held)} pathway credentials"
                urls = {r.json()["url"] for r in responses}
                assert urls <= {r["id"] for r in held[0]["relatedResource"]}
    finally:
        await other.close()
    async with service.runtime.sessions() as session:
        pathway_credentials = (await session.scalars(select(Credential.id).where(Credential.achievement_id == achievement_id))).all()
    assert len(pathway_credentials) == 8


@pytest.mark.interop
async def test_digital_bazaar_verifies_a_pathway_credential(service: ServiceClient) -> None:
    issuer_id, courses, achievement_id = await _school(service, courses=2)
    await _pathway(service, issuer_id, achievement_id, courses)
    for course in courses:
        await _complete(service, issuer_id, course)
    [credential] = await _held(service, issuer_id, achievement_id)
    did = credential["issuer"]["id"]
    documents = {did: service.runtime.keystore.did_document(did)}
    assert js_verify(credential, did_documents=documents) == (True, None)
    first, second = credential["relatedResource"]
    swapped = [{**first, "digestMultibase": second["digestMultibase"]}, {**second, "digestMultibase": first["digestMultibase"]}]
    assert js_verify({**credential, "relatedResource": swapped}, did_documents=documents)[0] is False


async def test_the_pathway_credential_carries_the_endorsements_of_its_achievement(service: ServiceClient) -> None:
    issuer_id, courses, achievement_id = await _school(service, courses=1)
    society = (await service.create_issuer(name="Society of Metrologists"))["id"]
    endorsed = await service.http.post(
        f"/api/v1/issuers/{society}/endorsements",
        json={"subject_issuer_id": issuer_id, "subject_achievement_id": achievement_id, "endorsement_comment": "Meets our standard"},
        headers=service.admin,
    )
    assert endorsed.status_code == 201, endorsed.text
    await _pathway(service, issuer_id, achievement_id, courses)
    await _complete(service, issuer_id, courses[0])
    [credential] = await _held(service, issuer_id, achievement_id)
    [embedded] = credential["credentialSubject"]["achievement"]["endorsement"]
    assert embedded["id"] == endorsed.json()["credential"]["id"] and embedded["credentialSubject"]["endorsementComment"] == "Meets our standard"
    report = verify(credential, resolve_key=resolver(service.runtime))
    assert report.valid and any(c.name == "endorsement" and c.outcome == "passed" for c in report.checks), report.to_dict()
