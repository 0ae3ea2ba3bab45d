"""Achievements: publishing needs every EU element; editing a published one makes a new version."""

from __future__ import annotations

import pytest

from microcred.credentials import eu_elements, schema

from ..factories.service import EU_ELEMENTS, ServiceClient
from .conftest import is_problem

pytestmark = pytest.mark.asyncio


async def test_publishing_names_each_missing_eu_element(service: ServiceClient) -> None:
    issuer = await service.create_issuer(address=None)
    response = await service.http.post(
        f"/api/v1/issuers/{issuer['id']}/achievements", json={"name": "Half done", "status": "published"}, headers=service.admin
    )
    body = is_problem(response, 422)
    pointers = {e["pointer"] for e in body["errors"]}
    assert pointers == {f"#/{f}" for f in ("description", "learning_outcomes", "credits_available", "eqf_level", "assessed", "assessment_type", "participation_form", "quality_assurance")} | {"#/issuer/address/country"}
    assert "learning outcomes" in body["detail"] and "quality assurance" in body["detail"]
    listed = await service.http.get(f"/api/v1/issuers/{issuer['id']}/achievements", headers=service.admin)
    assert listed.json()["items"] == []  # the refused request left nothing behind


async def test_a_draft_is_published_once_complete(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    draft = await service.http.post(f"/api/v1/issuers/{issuer['id']}/achievements", json={"name": "Course"}, headers=service.admin)
    assert draft.status_code == 201 and draft.json()["status"] == "draft" and draft.json()["version"] == 0
    path = f"/api/v1/issuers/{issuer['id']}/achievements/{draft.json()['id']}"
    missing_one = {k: v for k, v in EU_ELEMENTS.items() if k != "quality_assurance"}
    body = is_problem(await service.http.patch(path, json={**missing_one, "status": "published"}, headers=service.admin), 422)
    assert [e["pointer"] for e in body["errors"]] == ["#/quality_assurance"]
    published = await service.http.patch(path, json={**EU_ELEMENTS, "status": "published"}, headers=service.admin)
    assert published.status_code == 200, published.text
    document = published.json()["document"]
    assert published.json()["version"] == 1 and document["achievementType"] == "Diploma"
    assert "microCredential" not in document  # the elements ride as OB 3.0 alignments
    assert eu_elements.read(document)["qualityAssurance"] == EU_ELEMENTS["quality_assurance"]
    assert {"targetFramework": "European Qualifications Framework", "targetCode": "4"}.items() <= document["alignment"][0].items()


async def test_an_unassessed_course_awards_a_certificate_of_participation(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"], assessed=False, result_descriptions=None, assessment_type="None: attendance only")
    assert achievement["document"]["achievementType"] == "CertificateOfCompletion"
    body = is_problem(
        await service.http.post(
            f"/api/v1/issuers/{issuer['id']}/achievements",
            json={"name": "x", **EU_ELEMENTS, "assessed": False, "achievement_type": "Diploma", "status": "published"},
            headers=service.admin,
        ),
        422,
    )
    assert body["errors"][0]["pointer"] == "#/achievement_type"


async def test_editing_a_published_achievement_keeps_issued_credentials_on_their_version(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    first = (await service.award(issuer["id"], achievement["id"])).json()
    path = f"/api/v1/issuers/{issuer['id']}/achievements/{achievement['id']}"
    edited = await service.http.patch(path, json={"description": "Revised course description."}, headers=service.admin)
    assert edited.json()["version"] == 2
    second = (await service.award(issuer["id"], achievement["id"])).json()
    assert (first["achievement_version"], second["achievement_version"]) == (1, 2)
    assert second["credential"]["credentialSubject"]["achievement"]["description"] == "Revised course description."
    again = await service.http.get(f"/api/v1/issuers/{issuer['id']}/credentials/{first['id']}", headers=service.admin)
    assert again.json()["credential"] == first["credential"]  # untouched, still version 1
    assert again.json()["credential"]["credentialSubject"]["achievement"]["version"] == "1"
    assert schema.validate(second["credential"]) == []
    back = await service.http.patch(path, json={"status": "draft"}, headers=service.admin)
    is_problem(back, 422)


async def test_a_published_achievements_issuer_keeps_its_country(service: ServiceClient) -> None:
    """The awarding body's country is an EU mandatory element: once an achievement is published,
    no edit of the issuer may take it out of the credentials still to be awarded."""
    issuer = await service.create_issuer()
    path = f"/api/v1/issuers/{issuer['id']}"
    # Before anything is published, the address may go (publishing will ask for it again).
    assert (await service.http.patch(path, json={"address": None}, headers=service.admin)).status_code == 200
    restored = await service.http.patch(path, json={"address": {"country_code": "NL"}}, headers=service.admin)
    assert restored.status_code == 200, restored.text
    achievement = await service.create_achievement(issuer["id"])
    for removal in ({"address": None}, {"address": {"region": "Noord-Brabant"}}, {"address": {}}):
        body = is_problem(await service.http.patch(path, json=removal, headers=service.admin), 422)
        assert [e["pointer"] for e in body["errors"]] == ["#/address/country"], removal
        assert achievement["document"]["name"] in body["detail"]
    # Other edits, and a change of country, still go through.
    moved = await service.http.patch(path, json={"address": {"country": "Belgium", "country_code": "BE"}, "name": "SPE"}, headers=service.admin)
    assert moved.status_code == 200, moved.text
    awarded = (await service.award(issuer["id"], achievement["id"])).json()
    assert awarded["credential"]["issuer"]["address"]["addressCountry"] == "Belgium"


async def test_each_credentials_achievement_id_answers_with_the_version_it_names(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    base = service.runtime.settings.base_url
    first = (await service.award(issuer["id"], achievement["id"])).json()["credential"]["credentialSubject"]["achievement"]
    path = f"/api/v1/issuers/{issuer['id']}/achievements/{achievement['id']}"
    assert (await service.http.patch(path, json={"description": "Revised course description."}, headers=service.admin)).status_code == 200
    second = (await service.award(issuer["id"], achievement["id"])).json()["credential"]["credentialSubject"]["achievement"]

    plain = f"{base}/issuers/{issuer['id']}/achievements/{achievement['id']}"
    assert (first["id"], second["id"]) == (plain, f"{plain}/versions/2")
    for embedded in (first, second):
        served = await service.http.get(embedded["id"].removeprefix(base))
        assert served.status_code == 200, served.text
        document = served.json()
        assert (document["id"], document["version"], document["description"]) == (embedded["id"], embedded["version"], embedded["description"])
        assert served.headers["link"] == f'<{plain}/versions/2>; rel="latest-version"'
    # Every version at its own URL; the plain URL names version 1 (the id it was first published
    # under), and ?version= reaches any version from it.
    assert (await service.http.get(f"{plain.removeprefix(base)}/versions/1")).json()["description"] == first["description"]
    assert (await service.http.get(plain.removeprefix(base), params={"version": 2})).json()["version"] == "2"
    is_problem(await service.http.get(f"{plain.removeprefix(base)}/versions/3"), 404)
    body = is_problem(await service.http.get(plain.removeprefix(base), params={"version": "two"}), 422)
    assert body["errors"][0]["parameter"] == "version"
