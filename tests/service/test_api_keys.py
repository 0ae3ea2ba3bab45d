"""The API key lifecycle: listed (never the key), revoked, expiring and rotated, each change
in the audit log; an issuer's owner key manages its issuer's keys alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from microcred.auth.service import authenticate, create_client
from microcred.problems import Unauthorized

from ..factories.service import ServiceClient
from .conftest import is_problem

pytestmark = pytest.mark.asyncio


async def _client_id(service: ServiceClient, key: str) -> str:
    prefix = key.split("_")[1]
    listing = (await service.http.get("/api/v1/clients", headers=service.admin)).json()["items"]
    return next(c["id"] for c in listing if c["key_prefix"] == prefix)


async def _audit(service: ServiceClient, action: str) -> list[dict[str, Any]]:
    entries = (await service.http.get("/api/v1/audit", headers=service.admin)).json()["items"]
    return [e for e in entries if e["action"] == action]


async def test_listing_shows_every_client_but_never_a_key(service: ServiceClient) -> None:
    issuer = await service.create_issuer("mine")
    key = await service.issuer_key(issuer["id"], "award")
    response = await service.http.get("/api/v1/clients", headers=service.admin)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(c["issuer_id"], c["scopes"], c["state"]) for c in items] == [
        (None, ["award", "revoke", "manage"], "active"),
        ("mine", ["award"], "active"),
    ]
    assert key.split("_")[1] == items[1]["key_prefix"]
    assert key not in response.text and service.admin_key not in response.text
    assert {"created_at", "expires_at", "revoked_at", "rotated_at", "name"} <= set(items[1])


async def test_an_owner_key_manages_its_own_issuers_keys_alone(service: ServiceClient) -> None:
    await service.create_issuer("mine")
    await service.create_issuer("theirs")
    owner = service.auth(await service.issuer_key("mine", "manage"))
    awarder = await service.issuer_key("mine", "award")
    theirs = await service.issuer_key("theirs", "award")
    listing = (await service.http.get("/api/v1/clients", headers=owner)).json()["items"]
    assert {c["issuer_id"] for c in listing} == {"mine"} and len(listing) == 2  # no admin key, no other issuer's
    is_problem(await service.http.get("/api/v1/clients?issuer_id=theirs", headers=owner), 404)
    for target in (await _client_id(service, theirs), await _client_id(service, service.admin_key)):
        for action in ("revoke", "rotate"):
            is_problem(await service.http.post(f"/api/v1/clients/{target}/{action}", headers=owner), 404)
    assert (await service.http.get("/api/v1/issuers/theirs", headers=service.auth(theirs))).status_code == 200
    # A key without `manage` may not list or revoke keys, not even its own issuer's.
    is_problem(await service.http.get("/api/v1/clients", headers=service.auth(awarder)), 403)
    revoked = await service.http.post(f"/api/v1/clients/{await _client_id(service, awarder)}/revoke", headers=owner)
    assert revoked.json()["state"] == "revoked"


async def test_a_revoked_key_gets_401_from_its_next_request(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    key = await service.issuer_key(issuer["id"], "award")
    assert (await service.http.get(f"/api/v1/issuers/{issuer['id']}", headers=service.auth(key))).status_code == 200
    client_id = await _client_id(service, key)
    response = await service.http.post(f"/api/v1/clients/{client_id}/revoke", headers=service.admin)
    assert response.status_code == 200 and response.json()["revoked_at"], response.text
    body = is_problem(await service.http.get(f"/api/v1/issuers/{issuer['id']}", headers=service.auth(key)), 401)
    assert "revoked" in body["detail"]
    again = await service.http.post(f"/api/v1/clients/{client_id}/revoke", headers=service.admin)
    assert again.json()["revoked_at"] == response.json()["revoked_at"]
    entries = await _audit(service, "client.revoked")
    assert [(e["subject"], e["issuer_id"], e["actor"]) for e in entries] == [(client_id, issuer["id"], await _client_id(service, service.admin_key))]
    is_problem(await service.http.post(f"/api/v1/clients/{client_id}/rotate", headers=service.admin), 409)


async def test_an_expired_key_gets_401_saying_it_expired(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    past = datetime.now(UTC) - timedelta(days=30)
    async with service.runtime.sessions() as session, session.begin():
        created = await create_client(session, name="lms", issuer_id=issuer["id"], scopes=["award"], expires_at=past + timedelta(days=1), now=past)
    body = is_problem(await service.http.get(f"/api/v1/issuers/{issuer['id']}", headers=service.auth(created.api_key)), 401)
    assert "expired" in body["detail"]
    listed = (await service.http.get(f"/api/v1/clients/{created.client.id}", headers=service.admin)).json()
    assert listed["state"] == "expired" and listed["expires_at"].startswith((past + timedelta(days=1)).date().isoformat())
    created_entry = next(e for e in await _audit(service, "client.created") if e["subject"] == created.client.id)
    assert created_entry["data"]["expires_at"].startswith((past + timedelta(days=1)).date().isoformat())


async def test_rotating_gives_a_new_key_and_stops_the_old_one(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    old = await service.issuer_key(issuer["id"], "award", "manage")
    client_id = await _client_id(service, old)
    until = (datetime.now(UTC) + timedelta(days=90)).replace(microsecond=0)
    response = await service.http.post(
        f"/api/v1/clients/{client_id}/rotate", json={"expires_at": until.isoformat()}, headers=service.auth(old)
    )
    assert response.status_code == 200, response.text
    rotated = response.json()
    new = rotated["api_key"]
    assert new != old and rotated["id"] == client_id and rotated["scopes"] == ["award", "manage"]
    assert datetime.fromisoformat(rotated["expires_at"]) == until and rotated["rotated_at"]
    is_problem(await service.http.get(f"/api/v1/issuers/{issuer['id']}", headers=service.auth(old)), 401)
    assert (await service.http.get(f"/api/v1/issuers/{issuer['id']}", headers=service.auth(new))).status_code == 200
    listing = (await service.http.get("/api/v1/clients", headers=service.admin)).text
    assert new not in listing and old not in listing
    [entry] = await _audit(service, "client.rotated")
    assert (entry["subject"], entry["actor"]) == (client_id, client_id)
    assert (entry["data"]["previous_key_prefix"], entry["data"]["key_prefix"]) == (old.split("_")[1], new.split("_")[1])
    assert new not in str(entry) and old not in str(entry)


async def test_an_expiry_in_the_past_is_refused_naming_the_field(service: ServiceClient) -> None:
    client_id = await _client_id(service, service.admin_key)
    response = await service.http.post(f"/api/v1/clients/{client_id}/rotate", json={"expires_at": "2020-01-01T00:00:00Z"}, headers=service.admin)
    body = is_problem(response, 422)
    assert body["errors"][0]["pointer"] == "#/expires_at"
    too_far = {"expires_at": "9999-12-31T23:59:59-05:00"}  # past the last representable year in UTC
    is_problem(await service.http.post(f"/api/v1/clients/{client_id}/rotate", json=too_far, headers=service.admin), 422)
    assert (await service.http.get("/api/v1/issuers", headers=service.admin)).status_code == 200  # nothing changed


async def test_keys_made_through_the_api_stay_within_what_the_maker_may_do(service: ServiceClient) -> None:
    await service.create_issuer("mine")
    await service.create_issuer("theirs")
    made = await service.http.post("/api/v1/clients", json={"name": "lms", "issuer_id": "mine", "scopes": ["award", "manage"]}, headers=service.admin)
    assert made.status_code == 201, made.text
    owner = service.auth(made.json()["api_key"])
    assert made.json()["scopes"] == ["award", "manage"] and made.json()["state"] == "active"
    awarder = await service.http.post("/api/v1/clients", json={"name": "quiz", "issuer_id": "mine", "scopes": ["award"]}, headers=owner)
    assert awarder.status_code == 201, awarder.text
    assert (await service.http.get("/api/v1/issuers/mine", headers=service.auth(awarder.json()["api_key"]))).status_code == 200
    is_problem(await service.http.post("/api/v1/clients", json={"issuer_id": "mine", "scopes": ["revoke"]}, headers=owner), 403)  # it lacks revoke
    is_problem(await service.http.post("/api/v1/clients", json={"issuer_id": None}, headers=owner), 403)  # no admin keys
    is_problem(await service.http.post("/api/v1/clients", json={"issuer_id": "theirs"}, headers=owner), 404)
    bad = is_problem(await service.http.post("/api/v1/clients", json={"issuer_id": "mine", "scopes": ["root"]}, headers=service.admin), 422)
    assert "scopes" in str(bad["errors"])
    [entry] = [e for e in await _audit(service, "client.created") if e["subject"] == awarder.json()["id"]]
    assert entry["actor"] == made.json()["id"]


async def test_changing_an_expiry_is_recorded_and_takes_effect(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    key = await service.issuer_key(issuer["id"], "award")
    client_id = await _client_id(service, key)
    until = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    response = await service.http.patch(f"/api/v1/clients/{client_id}", json={"expires_at": until.isoformat()}, headers=service.admin)
    assert response.status_code == 200, response.text
    assert datetime.fromisoformat(response.json()["expires_at"]) == until
    cleared = await service.http.patch(f"/api/v1/clients/{client_id}", json={"expires_at": None}, headers=service.admin)
    assert cleared.json()["expires_at"] is None and cleared.json()["state"] == "active"
    is_problem(await service.http.patch(f"/api/v1/clients/{client_id}", json={"expires_at": "2020-01-01T00:00:00Z"}, headers=service.admin), 422)
    changes = [e["data"]["expires_at"] for e in await _audit(service, "client.updated") if e["subject"] == client_id]
    assert len(changes) == 2 and changes[0] is None and changes[1].startswith(until.date().isoformat())  # newest first
    assert (await service.http.get(f"/api/v1/issuers/{issuer['id']}", headers=service.auth(key))).status_code == 200


async def test_the_last_used_time_is_written_at_most_once_a_minute(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    key = await service.issuer_key(issuer["id"], "award")
    client_id = await _client_id(service, key)

    async def last_used() -> str | None:
        listed = (await service.http.get("/api/v1/clients", headers=service.admin)).json()["items"]
        return next(c["last_used_at"] for c in listed if c["id"] == client_id)

    assert await last_used() is None  # made, never used
    before = datetime.now(UTC)
    assert (await service.http.get(f"/api/v1/issuers/{issuer['id']}", headers=service.auth(key))).status_code == 200
    first = await last_used()
    assert first is not None and datetime.fromisoformat(first) >= before - timedelta(seconds=1)
    assert (await service.http.get(f"/api/v1/issuers/{issuer['id']}", headers=service.auth(key))).status_code == 200
    assert await last_used() == first  # within the minute: not written again
    later = datetime.now(UTC) + timedelta(minutes=2)
    async with service.runtime.sessions() as session, session.begin():
        await authenticate(session, f"Bearer {key}", now=later, record_use=True)
    assert datetime.fromisoformat(await last_used() or "") == later
    async with service.runtime.sessions() as session, session.begin():
        await authenticate(session, f"Bearer {key}", now=later + timedelta(minutes=5))  # record_use not asked
    assert datetime.fromisoformat(await last_used() or "") == later
    # A refused key (here: revoked) records no use.
    await service.http.post(f"/api/v1/clients/{client_id}/revoke", headers=service.admin)
    is_problem(await service.http.get(f"/api/v1/issuers/{issuer['id']}", headers=service.auth(key)), 401)
    assert datetime.fromisoformat(await last_used() or "") == later


async def test_a_key_that_works_is_refused_from_the_moment_it_expires(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    until = datetime.now(UTC) + timedelta(hours=1)
    async with service.runtime.sessions() as session, session.begin():
        created = await create_client(session, name="lms", issuer_id=issuer["id"], scopes=["award"], expires_at=until)
    bearer = f"Bearer {created.api_key}"
    assert (await service.http.get(f"/api/v1/issuers/{issuer['id']}", headers={"Authorization": bearer})).status_code == 200
    async with service.runtime.sessions() as session:
        principal = await authenticate(session, bearer, now=until - timedelta(microseconds=1))
        assert principal.client_id == created.client.id
        for moment in (until, until + timedelta(days=1)):
            with pytest.raises(Unauthorized, match="expired"):
                await authenticate(session, bearer, now=moment)
