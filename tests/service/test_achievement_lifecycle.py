"""Retiring an achievement, comparing its versions, and previewing a draft (the console's
achievement pages stand on these)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select

from microcred.app import create_app
from microcred.auth.principal import Principal
from microcred.awards.service import Signing
from microcred.jobs.worker import JobRunner
from microcred.db.models import Credential
from microcred.public.preview import preview_achievement
from microcred.runtime import build_runtime

from ..factories.service import EU_ELEMENTS, ServiceClient
from .conftest import is_problem

pytestmark = pytest.mark.asyncio


async def test_a_retired_achievement_awards_no_more_and_its_credentials_stay_valid(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    path = f"/api/v1/issuers/{issuer['id']}/achievements/{achievement['id']}"
    before = (await service.award(issuer["id"], achievement["id"])).json()

    retired = await service.http.post(f"{path}/retire", headers=service.admin)
    assert retired.status_code == 200, retired.text
    assert retired.json()["status"] == "retired" and retired.json()["version"] == 1
    again = await service.http.post(f"{path}/retire", headers=service.admin)
    assert again.status_code == 200 and again.json()["status"] == "retired"  # a no-op

    body = is_problem(await service.award(issuer["id"], achievement["id"]), 422)
    assert "retired" in body["detail"] and body["errors"] == [{"pointer": "#/achievement_id", "detail": "retired: no new awards"}]
    # The credential issued before still verifies, and its achievement version is still served.
    verified = await service.http.post("/api/v1/verify", json=before["credential"])
    assert verified.status_code == 200 and verified.json()["verdict"] == "valid", verified.text
    embedded = before["credential"]["credentialSubject"]["achievement"]["id"]
    assert (await service.http.get(embedded.removeprefix(service.runtime.settings.base_url))).status_code == 200
    # Not edited any more; listed with its status.
    edit = is_problem(await service.http.patch(path, json={"description": "x"}, headers=service.admin), 409)
    assert "retired" in edit["detail"]
    listed = (await service.http.get(f"/api/v1/issuers/{issuer['id']}/achievements", headers=service.admin)).json()["items"]
    assert [(a["id"], a["status"]) for a in listed] == [(achievement["id"], "retired")]
    audit = await service.http.get(f"/api/v1/issuers/{issuer['id']}/audit", headers=service.admin)
    assert "achievement.retired" in [e["action"] for e in audit.json()["items"]]


async def test_a_draft_cannot_be_retired_and_another_issuer_cannot_retire(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    other = await service.create_issuer()
    draft = (await service.http.post(f"/api/v1/issuers/{issuer['id']}/achievements", json={"name": "Draft"}, headers=service.admin)).json()
    path = f"/api/v1/issuers/{issuer['id']}/achievements/{draft['id']}/retire"
    is_problem(await service.http.post(path, headers=service.admin), 409)
    published = await service.create_achievement(issuer["id"])
    other_key = await service.issuer_key(other["id"])
    is_problem(
        await service.http.post(f"/api/v1/issuers/{issuer['id']}/achievements/{published['id']}/retire", headers=service.auth(other_key)),
        404,
    )
    awarder = await service.issuer_key(issuer["id"], "award")
    is_problem(
        await service.http.post(f"/api/v1/issuers/{issuer['id']}/achievements/{published['id']}/retire", headers=service.auth(awarder)),
        403,
    )


async def test_a_pathway_for_a_retired_achievement_is_refused(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    component = await service.create_achievement(issuer["id"], name="Component")
    target = await service.create_achievement(issuer["id"], name="Pathway")
    await service.http.post(f"/api/v1/issuers/{issuer['id']}/achievements/{target['id']}/retire", headers=service.admin)
    body = is_problem(
        await service.http.post(
            f"/api/v1/issuers/{issuer['id']}/pathways",
            json={"name": "Route", "achievement_id": target["id"], "components": [{"achievement_id": component["id"]}], "rule": "all"},
            headers=service.admin,
        ),
        422,
    )
    assert {"pointer": "#/achievement_id", "detail": "retired: it awards no new credentials"} in body["errors"]


async def test_two_versions_side_by_side(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    path = f"/api/v1/issuers/{issuer['id']}/achievements/{achievement['id']}"
    edited = await service.http.patch(
        path, json={"description": "Revised.", "assessment_type": "Written exam", "human_code": "PT-101"}, headers=service.admin
    )
    assert edited.json()["version"] == 2
    versions = (await service.http.get(f"{path}/versions", headers=service.admin)).json()["items"]
    assert [v["version"] for v in versions] == [1, 2] and versions[1]["document"]["description"] == "Revised."

    diff = await service.http.get(f"{path}/versions/diff", params={"from": 1, "to": 2}, headers=service.admin)
    assert diff.status_code == 200, diff.text
    rows = {f["key"]: f for f in diff.json()["fields"]}
    changed = {key for key, f in rows.items() if f["changed"]}
    assert changed == {"description", "alignment:assessmentType", "humanCode"}
    assert (rows["description"]["before"], rows["description"]["after"]) == (EU_ELEMENTS["description"], "Revised.")
    assert rows["alignment:assessmentType"]["label"] == "Type of assessment"
    assert (rows["humanCode"]["before"], rows["humanCode"]["after"]) == ("", "PT-101")
    assert rows["name"]["before"] == rows["name"]["after"] == achievement["document"]["name"]
    assert rows["level"]["after"] == "EQF level 4" and not rows["level"]["changed"]

    newest = (await service.http.get(f"{path}/versions/diff", headers=service.admin)).json()
    assert (newest["from_version"], newest["to_version"]) == (1, 2) and newest["fields"] == diff.json()["fields"]

    missing = is_problem(await service.http.get(f"{path}/versions/diff", params={"from": 1, "to": 3}, headers=service.admin), 404)
    assert missing["errors"] == [{"parameter": "to", "detail": "versions are 1 to 2"}]


async def test_a_draft_previews_as_an_unsigned_credential_and_nothing_is_stored(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    draft = await service.http.post(
        f"/api/v1/issuers/{issuer['id']}/achievements", json={"name": "Draft course", "description": "Turning."}, headers=service.admin
    )
    path = f"/api/v1/issuers/{issuer['id']}/achievements/{draft.json()['id']}/preview"
    response = await service.http.get(path, headers=service.admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["preview"] is True and body["signed"] is False
    assert "type of assessment" in body["missing_elements"] and "description of the achievement" not in body["missing_elements"]
    assert "learning outcomes (or a criteria narrative)" in body["missing_elements"]
    document = body["document"]
    assert "proof" not in document and "credentialStatus" not in document
    assert document["id"].startswith("urn:uuid:")
    assert document["credentialSubject"]["achievement"]["name"] == "Draft course"
    assert document["issuer"]["name"] == issuer["name"]
    async with service.runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Credential)) == 0
    # Still a draft, and nothing awardable.
    got = await service.http.get(path.removesuffix("/preview"), headers=service.admin)
    assert got.json()["status"] == "draft" and got.json()["version"] == 0
    other = await service.create_issuer()
    is_problem(await service.http.get(path, headers=service.auth(await service.issuer_key(other["id"]))), 404)


async def test_the_preview_page_says_it_is_a_preview(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    draft = (
        await service.http.post(
            f"/api/v1/issuers/{issuer['id']}/achievements", json={"name": "Draft course", **EU_ELEMENTS}, headers=service.admin
        )
    ).json()
    principal = Principal(client_id="test", issuer_id=issuer["id"], scopes=frozenset({"manage"}))
    async with service.runtime.sessions() as session:
        found = await preview_achievement(
            session, principal=principal, issuer_id=issuer["id"], achievement_id=draft["id"],
            base_url=service.runtime.settings.base_url, now=datetime.now(UTC),
        )
    assert found.missing == []
    assert "Preview: not a credential" in found.page_html and "Sample Learner" in found.page_html
    assert "Practical examination" in found.page_html  # the EU elements, as the public page shows them
    assert "Verification checks" not in found.page_html and "Add to LinkedIn" not in found.page_html
    assert 'name="robots" content="noindex"' in found.page_html
    assert found.badge_svg.startswith("<svg") and "Draft course" in found.badge_svg


async def test_a_bulk_row_for_a_retired_achievement_fails_alone(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    live = await service.create_achievement(issuer["id"], name="Live course")
    retired = await service.create_achievement(issuer["id"], name="Old course")
    await service.http.post(f"/api/v1/issuers/{issuer['id']}/achievements/{retired['id']}/retire", headers=service.admin)
    body = (
        "achievement_id,recipient_email,recipient_name,completion_date,grade\n"
        f"{live['id']},ada@example.org,Ada,2021-05-01,8\n"
        f"{retired['id']},bob@example.org,Bob,2021-05-01,8\n"
    ).encode()
    submitted = await service.http.post(
        f"/api/v1/issuers/{issuer['id']}/awards/batch", content=body, headers={**service.admin, "content-type": "text/csv"}
    )
    assert submitted.status_code == 202, submitted.text
    signing = Signing(service.runtime.keystore, service.runtime.loader, service.runtime.settings.base_url, service.runtime.statuses)
    assert await JobRunner(service.runtime.sessions, signing, chunk_rows=10).run_once() == submitted.json()["id"]
    rows = (await service.http.get(f"/api/v1/jobs/{submitted.json()['id']}", headers=service.admin)).json()["rows"]
    assert [r["status"] for r in rows] == ["awarded", "failed"]
    assert rows[1]["error"]["errors"] == [{"pointer": "#/achievement_id", "detail": "retired: no new awards"}]


async def test_a_course_code_names_one_achievement_of_the_issuer(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    other_issuer = await service.create_issuer()
    first = await service.create_achievement(issuer["id"], human_code="PT-101")
    body = is_problem(
        await service.http.post(
            f"/api/v1/issuers/{issuer['id']}/achievements", json={"name": "Another", "human_code": "pt-101"}, headers=service.admin
        ),
        409,
    )
    assert body["errors"] == [{"pointer": "#/human_code", "detail": "taken by another achievement of this issuer"}]
    second = (
        await service.http.post(f"/api/v1/issuers/{issuer['id']}/achievements", json={"name": "Another", "human_code": "PT-102"}, headers=service.admin)
    ).json()
    path = f"/api/v1/issuers/{issuer['id']}/achievements/{second['id']}"
    is_problem(await service.http.patch(path, json={"human_code": "PT-101"}, headers=service.admin), 409)
    # Its own code again, and the same code at another issuer, are fine.
    assert (await service.http.patch(f"/api/v1/issuers/{issuer['id']}/achievements/{first['id']}", json={"human_code": "PT-101", "description": "Again."}, headers=service.admin)).status_code == 200
    assert (await service.create_achievement(other_issuer["id"], human_code="PT-101"))["definition"]["human_code"] == "PT-101"


async def test_a_pathway_whose_achievement_is_retired_awards_nothing_and_the_course_award_stands(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    course = await service.create_achievement(issuer["id"], name="Course")
    target = await service.create_achievement(issuer["id"], name="Pathway")
    created = await service.http.post(
        f"/api/v1/issuers/{issuer['id']}/pathways",
        json={"name": "Route", "achievement_id": target["id"], "components": [{"achievement_id": course["id"]}]},
        headers=service.admin,
    )
    assert created.status_code == 201, created.text
    await service.http.post(f"/api/v1/issuers/{issuer['id']}/achievements/{target['id']}/retire", headers=service.admin)
    awarded = await service.award(issuer["id"], course["id"])
    assert awarded.status_code == 201, awarded.text
    async with service.runtime.sessions() as session:
        achievements = (await session.scalars(select(Credential.achievement_id))).all()
    assert achievements == [course["id"]]  # the course credential only: the retired pathway achievement awards nothing


async def test_two_achievements_created_at_once_cannot_both_take_a_course_code(service: ServiceClient) -> None:
    """Each create runs on its own worker (its own engine and app): the code is checked under
    the issuer's row lock, so one of them sees the other's."""
    issuer = await service.create_issuer()
    other = build_runtime(service.runtime.settings)
    try:
        app = create_app(other.settings, runtime=other, migrate=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as second:
            for attempt in range(5):
                body = {"name": f"Course {attempt}", "human_code": f"C-{attempt}"}
                path = f"/api/v1/issuers/{issuer['id']}/achievements"
                responses = await asyncio.gather(
                    service.http.post(path, json=body, headers=service.admin), second.post(path, json=body, headers=service.admin)
                )
                assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    finally:
        await other.close()
