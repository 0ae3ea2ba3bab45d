"""API keys: required, hashed, scoped to one issuer; another issuer's resources do not exist."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from microcred.db.models import ApiClient

from ..factories.service import ServiceClient, award_body
from .conftest import is_problem

pytestmark = pytest.mark.asyncio


async def test_requests_without_a_valid_key_are_401(service: ServiceClient) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer mc_0123456789abcdef_" + "x" * 43}):
        response = await service.http.get("/api/v1/issuers", headers=headers)
        body = is_problem(response, 401)
        assert "Bearer" in response.headers["www-authenticate"]
        assert "API key" in body["detail"]


async def test_keys_are_stored_hashed(service: ServiceClient) -> None:
    async with service.runtime.sessions() as session:
        stored = (await session.scalars(select(ApiClient))).all()
    assert stored and all(service.admin_key not in (c.key_hash, c.key_prefix) for c in stored)
    assert any(c.key_hash == hashlib.sha256(service.admin_key.encode()).hexdigest() for c in stored)


async def test_only_admins_create_issuers(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    key = await service.issuer_key(issuer["id"])
    response = await service.http.post("/api/v1/issuers", json={"name": "Rogue"}, headers=service.auth(key))
    is_problem(response, 403)


async def test_a_key_without_the_scope_is_refused(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    read_only = await service.issuer_key(issuer["id"], "revoke")
    is_problem(await service.award(issuer["id"], achievement["id"], key=read_only), 403)
    award_only = await service.issuer_key(issuer["id"], "award")
    assert (await service.award(issuer["id"], achievement["id"], key=award_only)).status_code == 201
    response = await service.http.patch(f"/api/v1/issuers/{issuer['id']}", json={"name": "x"}, headers=service.auth(award_only))
    is_problem(response, 403)


async def test_every_issuer_route_hides_other_issuers(service: ServiceClient) -> None:
    """Every issuer-scoped route, called with another issuer's key, answers exactly what it
    answers for an issuer that does not exist: 404, and nothing about the other issuer."""
    mine = await service.create_issuer("mine")
    theirs = await service.create_issuer("theirs")
    their_achievement = await service.create_achievement(theirs["id"])
    award = await service.award(theirs["id"], their_achievement["id"])
    their_credential = award.json()["id"]
    batch = await service.http.post(
        f"/api/v1/issuers/{theirs['id']}/awards/batch", json=[award_body(their_achievement["id"])], headers=service.admin
    )
    their_job = batch.json()["id"]
    endorsed = await service.http.post(
        f"/api/v1/issuers/{theirs['id']}/endorsements", json={"subject_issuer_id": mine["id"]}, headers=service.admin
    )
    their_endorsement = endorsed.json()["id"]
    pathway_body = {"name": "x", "achievement_id": their_achievement["id"], "components": [{"achievement_id": their_achievement["id"]}]}
    their_track = (await service.create_achievement(theirs["id"], name="Track"))["id"]
    their_pathway = await service.http.post(
        f"/api/v1/issuers/{theirs['id']}/pathways", json={**pathway_body, "achievement_id": their_track}, headers=service.admin
    )
    assert their_pathway.status_code == 201, their_pathway.text
    hook = {"url": "https://hooks.example/in", "events": ["credential.issued"]}
    their_webhook = (await service.http.post(f"/api/v1/issuers/{theirs['id']}/webhooks", json=hook, headers=service.admin)).json()["id"]
    my_key = service.auth(await service.issuer_key(mine["id"]))

    paths = service.http._transport.app.openapi()["paths"]  # type: ignore[attr-defined]
    values = {
        "issuer_id": theirs["id"], "achievement_id": their_achievement["id"], "credential_id": their_credential, "job_id": their_job,
        "endorsement_id": their_endorsement,
        "pathway_id": their_pathway.json()["id"],
        "webhook_id": their_webhook,
        "delivery_id": "00000000-0000-4000-8000-000000000000",  # the issuer is refused before the delivery is looked for
    }
    bodies = {
        "/api/v1/issuers/{issuer_id}/awards": award_body(their_achievement["id"]),
        "/api/v1/issuers/{issuer_id}/awards/batch": [award_body(their_achievement["id"])],
        "/api/v1/issuers/{issuer_id}/achievements": {"name": "x"},
        "/api/v1/issuers/{issuer_id}/achievements/{achievement_id}": {"name": "x"},
        "/api/v1/issuers/{issuer_id}": {"name": "x"},
        "/api/v1/issuers/{issuer_id}/endorsements": {"subject_issuer_id": mine["id"]},
        "/api/v1/issuers/{issuer_id}/pathways": pathway_body,
        "/api/v1/issuers/{issuer_id}/pathways/{pathway_id}": {"name": "x"},
        "/api/v1/issuers/{issuer_id}/webhooks": hook,
        "/api/v1/issuers/{issuer_id}/webhooks/{webhook_id}": {"enabled": False},
        "/api/v1/issuers/{issuer_id}/branding": {"colours": None},
    }
    tried = 0
    for template, operations in paths.items():
        if not template.startswith("/api/") or ("{issuer_id}" not in template and "{job_id}" not in template):
            continue  # the public side (credential pages, DID documents, status lists) is public by design
        for method in operations:
            path = template.format(**values)
            body_json = bodies.get(template) if method != "get" else None
            response = await service.http.request(method.upper(), path, json=body_json, headers=my_key)
            body = is_problem(response, 404)
            assert "theirs" not in body["detail"] or "no issuer 'theirs'" == body["detail"], body
            revealed = {k: v for k, v in body.items() if k != "instance"}  # instance echoes the path we sent
            assert their_credential not in str(revealed) and "Society" not in str(revealed)
            tried += 1
    assert tried >= 10  # every issuer-scoped route of this release
    async with service.runtime.sessions() as session:
        from microcred.db.models import Achievement, Credential, Endorsement

        assert len((await session.scalars(select(Credential))).all()) == 1  # nothing awarded through the other key
        endorsements = (await session.scalars(select(Endorsement))).all()
        assert [(e.id, e.revoked_at) for e in endorsements] == [(their_endorsement, None)]  # none signed or revoked either
        names = {a.definition["name"] for a in (await session.scalars(select(Achievement))).all()}
        assert names == {"Precision Turning for Instrument Makers", "Track"}


async def test_an_issuer_key_lists_only_its_issuer(service: ServiceClient) -> None:
    mine = await service.create_issuer("mine")
    await service.create_issuer("theirs")
    response = await service.http.get("/api/v1/issuers", headers=service.auth(await service.issuer_key(mine["id"])))
    assert [i["id"] for i in response.json()["items"]] == ["mine"]
    response = await service.http.get("/api/v1/issuers", headers=service.admin)
    assert {i["id"] for i in response.json()["items"]} == {"mine", "theirs"}
