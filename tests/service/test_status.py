"""Revocation and suspension through W3C Bitstring Status Lists."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from microcred.app import create_app
from microcred.credentials import schema, verify
from microcred.credentials.status_list import MIN_LENGTH, BitstringStatusList
from microcred.achievements.repository import AchievementRepository
from microcred.awards.schemas import AwardIn
from microcred.awards.service import Signing, sign_award
from microcred.awards.service import _row as legacy_row
from microcred.db.models import Credential, Issuer, StatusList
from microcred.runtime import build_runtime

from ..factories.service import ServiceClient, award_body, resolver
from .conftest import is_problem

pytestmark = pytest.mark.asyncio


async def _awarded(service: ServiceClient, **issuer: Any) -> tuple[str, dict[str, Any]]:
    created = await service.create_issuer(**issuer)
    achievement = await service.create_achievement(created["id"])
    response = await service.award(created["id"], achievement["id"])
    assert response.status_code == 201, response.text
    return created["id"], response.json()


def _entries(credential: dict[str, Any]) -> list[dict[str, Any]]:
    status = credential["credentialStatus"]
    return status if isinstance(status, list) else [status]


async def _report(service: ServiceClient, credential: dict[str, Any]) -> Any:
    """The core verifier's report, with the status lists fetched from the service as they are now."""
    lists = {}
    for entry in _entries(credential):
        url = entry["statusListCredential"]
        response = await service.http.get(url.removeprefix(service.runtime.settings.base_url))
        assert response.status_code == 200, response.text
        lists[url] = response.json()
    return verify(credential, resolve_key=resolver(service.runtime), fetch_status_list=lists.__getitem__)


async def test_an_award_carries_one_revocation_entry_and_still_fits_the_ob3_schema(service: ServiceClient) -> None:
    _, award = await _awarded(service)
    credential = award["credential"]
    entry = credential["credentialStatus"]
    assert isinstance(entry, dict) and entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
    assert entry["id"] == f"{entry['statusListCredential']}#{entry['statusListIndex']}"
    assert 0 <= int(entry["statusListIndex"]) < MIN_LENGTH
    assert schema.validate(credential) == []
    assert (await _report(service, credential)).verdict == "valid"


async def test_the_status_list_is_public_signed_and_answers_a_conditional_get_with_304(service: ServiceClient) -> None:
    _, award = await _awarded(service)
    path = award["credential"]["credentialStatus"]["statusListCredential"].removeprefix(service.runtime.settings.base_url)
    response = await service.http.get(path)  # no API key
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/vc+ld+json")
    listed = response.json()
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert listed["issuer"] == award["credential"]["issuer"]["id"] and "proof" in listed
    ttl = service.runtime.settings.status_list_ttl_seconds
    assert listed["credentialSubject"]["ttl"] == ttl * 1000
    assert f"max-age={ttl}" in response.headers["cache-control"]
    bits = BitstringStatusList.decode(listed["credentialSubject"]["encodedList"])
    assert bits.length >= MIN_LENGTH
    again = await service.http.get(path, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == response.headers["etag"]
    is_problem(await service.http.get("/status-lists/no-such-list"), 404)


async def test_revoking_sets_the_bit_the_verifier_reports_revoked_and_the_reason_stays_private(service: ServiceClient) -> None:
    issuer_id, award = await _awarded(service)
    entry = award["credential"]["credentialStatus"]
    path = entry["statusListCredential"].removeprefix(service.runtime.settings.base_url)
    before = await service.http.get(path)
    reason = "plagiarism found in the final assessment"
    revoked = await service.http.post(
        f"/api/v1/issuers/{issuer_id}/credentials/{award['id']}/revoke", json={"reason": reason}, headers=service.admin
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    after = await service.http.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    bits = BitstringStatusList.decode(after.json()["credentialSubject"]["encodedList"])
    assert bits.get(int(entry["statusListIndex"])) == 1
    assert sum(bits.get(i) for i in range(bits.length)) == 1
    assert reason not in after.text
    assert (await _report(service, award["credential"])).verdict == "revoked"
    # Revoking again changes nothing; a revocation is final.
    again = await service.http.post(f"/api/v1/issuers/{issuer_id}/credentials/{award['id']}/revoke", headers=service.admin)
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked.json()["revoked_at"]


async def test_suspension_needs_an_issuer_that_offers_it_then_comes_and_goes(service: ServiceClient) -> None:
    plain_issuer, plain = await _awarded(service)
    is_problem(await service.http.post(f"/api/v1/issuers/{plain_issuer}/credentials/{plain['id']}/suspend", headers=service.admin), 409)

    issuer_id, award = await _awarded(service, offers_suspension=True)
    credential = award["credential"]
    # One entry for both states, so the credential stays valid against the official OB 3.0
    # schema (which allows one credentialStatus object).
    entry = credential["credentialStatus"]
    assert isinstance(entry, dict) and (entry["statusPurpose"], entry["statusSize"]) == ("message", 2)
    assert [m["message"] for m in entry["statusMessage"]] == ["active", "revoked", "suspended", "undefined"]
    assert schema.validate(credential) == []
    base = f"/api/v1/issuers/{issuer_id}/credentials/{award['id']}"
    assert (await service.http.post(f"{base}/suspend", headers=service.admin)).json()["status"] == "suspended"
    assert (await _report(service, credential)).verdict == "suspended"
    # Read as the specification says (two bits at index * 2): 0x2, suspended. Read one bit at
    # the index, as verifiers that ignore statusSize do: set, so they too refuse it.
    listed = (await service.http.get(entry["statusListCredential"].removeprefix(service.runtime.settings.base_url))).json()
    encoded, index = listed["credentialSubject"]["encodedList"], int(entry["statusListIndex"])
    assert BitstringStatusList.decode(encoded, status_size=2).get(index) == 2
    assert BitstringStatusList.decode(encoded).get(index) == 1
    assert (await service.http.post(f"{base}/unsuspend", headers=service.admin)).json()["status"] == "active"
    assert (await _report(service, credential)).verdict == "valid"
    assert (await service.http.post(f"{base}/revoke", headers=service.admin)).status_code == 200
    is_problem(await service.http.post(f"{base}/suspend", headers=service.admin), 409)
    assert (await _report(service, credential)).verdict == "revoked"


async def test_the_issuer_api_says_each_credentials_status_and_filters_on_it(service: ServiceClient) -> None:
    created = await service.create_issuer(offers_suspension=True)
    issuer_id = created["id"]
    achievement = await service.create_achievement(issuer_id)
    ids = [(await service.award(issuer_id, achievement["id"])).json()["id"] for _ in range(4)]
    active, revoked, suspended, expired = ids
    base = f"/api/v1/issuers/{issuer_id}/credentials"
    assert (await service.http.post(f"{base}/{revoked}/revoke", headers=service.admin)).status_code == 200
    assert (await service.http.post(f"{base}/{suspended}/suspend", headers=service.admin)).status_code == 200
    async with service.runtime.sessions() as session, session.begin():
        await session.execute(update(Credential).where(Credential.id == expired).values(valid_until=datetime(2025, 1, 1, tzinfo=UTC)))

    listed = (await service.http.get(base, headers=service.admin)).json()["items"]
    assert {item["id"]: item["status"] for item in listed} == {
        active: "active", revoked: "revoked", suspended: "suspended", expired: "expired"
    }
    one = (await service.http.get(f"{base}/{revoked}", headers=service.admin)).json()
    assert one["status"] == "revoked" and one["revoked_at"] is not None and one["suspended_at"] is None
    for state, expected in (("active", active), ("revoked", revoked), ("suspended", suspended), ("expired", expired)):
        only = (await service.http.get(base, params={"status": state}, headers=service.admin)).json()["items"]
        assert [item["id"] for item in only] == [expected], state
    # An unknown status is refused, naming the parameter, never ignored (which would list everything).
    body = is_problem(await service.http.get(base, params={"status": "withdrawn"}, headers=service.admin), 422)
    assert body["errors"][0]["parameter"] == "status"


async def test_credentials_awarded_with_two_status_entries_still_change_status_and_verify(service: ServiceClient) -> None:
    """Awards of issuers offering suspension used to carry a revocation and a suspension entry;
    those credentials keep working as they were signed."""
    created = await service.create_issuer(offers_suspension=True)
    achievement = await service.create_achievement(created["id"])
    signing = Signing(service.runtime.keystore, service.runtime.loader, service.runtime.settings.base_url, service.runtime.statuses)
    now = datetime.now(UTC)
    async with service.runtime.sessions() as session, session.begin():
        issuer = await session.get(Issuer, created["id"])
        assert issuer is not None
        version = await AchievementRepository(session).current_version(issuer.id, achievement["id"])
        assert version is not None
        status = (await signing.statuses.slots_for(session, issuer, separate_suspension=True))[0]
        data = AwardIn.model_validate(award_body(achievement["id"]))
        document = sign_award(data, issuer=issuer, version=version, signing=signing, credential_id=str(uuid.uuid4()), now=now, status=status)
        row = legacy_row(data, issuer=issuer, version=version, key="legacy", digest="0" * 64, credential_id=document["id"].rsplit("/", 1)[-1], document=document, now=now, status=status)
        session.add(row)
    assert [e["statusPurpose"] for e in _entries(document)] == ["revocation", "suspension"]
    assert (await _report(service, document)).verdict == "valid"
    base = f"/api/v1/issuers/{created['id']}/credentials/{row.id}"
    listed = (await service.http.get(base, headers=service.admin)).json()
    assert listed["status"] == "active" and listed["credential"] == document
    assert (await service.http.post(f"{base}/suspend", headers=service.admin)).json()["status"] == "suspended"
    assert (await _report(service, document)).verdict == "suspended"
    assert (await service.http.post(f"{base}/unsuspend", headers=service.admin)).json()["status"] == "active"
    assert (await _report(service, document)).verdict == "valid"
    assert (await service.http.post(f"{base}/revoke", headers=service.admin)).json()["status"] == "revoked"
    assert (await _report(service, document)).verdict == "revoked"


async def test_revoking_needs_the_revoke_scope(service: ServiceClient) -> None:
    issuer_id, award = await _awarded(service)
    award_only = await service.issuer_key(issuer_id, "award")
    path = f"/api/v1/issuers/{issuer_id}/credentials/{award['id']}/revoke"
    is_problem(await service.http.post(path, headers=service.auth(award_only)), 403)
    revoker = await service.issuer_key(issuer_id, "revoke")
    assert (await service.http.post(path, headers=service.auth(revoker))).status_code == 200


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("offers_suspension", [False, True])
async def test_concurrent_awards_on_several_workers_never_share_a_status_index(service: ServiceClient, offers_suspension: bool) -> None:
    issuer_id, _ = await _awarded(service, offers_suspension=offers_suspension)
    achievement_id = (await service.create_achievement(issuer_id))["id"]
    # A second worker: its own engine and its own allocator, on the same database.
    other = build_runtime(service.runtime.settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(other.settings, runtime=other, migrate=False)), base_url="http://test") as second:

            async def one(client: httpx.AsyncClient, n: int) -> dict[str, Any]:
                body = award_body(achievement_id, external_id=f"run-{n}", recipient={"email": f"learner{n}@example.org"})
                response = await client.post(f"/api/v1/issuers/{issuer_id}/awards", json=body, headers=service.admin)
                assert response.status_code == 201, response.text
                return response.json()["credential"]  # type: ignore[no-any-return]

            credentials = await asyncio.gather(*[one(service.http if n % 2 else second, n) for n in range(40)])
    finally:
        await other.close()
    slots = [(e["statusPurpose"], e["statusListCredential"], e["statusListIndex"]) for c in credentials for e in _entries(c)]
    assert {purpose for purpose, _, _ in slots} == ({"message"} if offers_suspension else {"revocation"})
    assert len(slots) == 40 and len(set(slots)) == 40
    if offers_suspension:  # a combined list hands out its upper half only (status.combined)
        assert all(int(index) >= MIN_LENGTH // 2 for _, _, index in slots)


async def test_a_full_list_is_followed_by_a_new_one(service: ServiceClient) -> None:
    issuer_id, first = await _awarded(service)
    first_list = first["credential"]["credentialStatus"]["statusListCredential"]
    async with service.runtime.sessions() as session, session.begin():
        # Pretend all but one index of the list went out (on PostgreSQL to this worker's block too).
        await session.execute(update(StatusList).values(next_slot=StatusList.length - 1))
    service.runtime.statuses._free.clear()  # noqa: SLF001  # forget indexes reserved before
    achievement_id = (await service.create_achievement(issuer_id))["id"]
    lists = []
    for n in range(2):
        response = await service.award(issuer_id, achievement_id, external_id=f"after-{n}")
        assert response.status_code == 201, response.text
        lists.append(response.json()["credential"]["credentialStatus"]["statusListCredential"])
    assert lists[0] == first_list != lists[1]
    listed = (await service.http.get(lists[1].removeprefix(service.runtime.settings.base_url))).json()
    assert listed["credentialSubject"]["statusPurpose"] == "revocation"


async def test_a_list_signed_on_its_first_fetch_is_valid_from_before_anyone_could_ask(service: ServiceClient) -> None:
    """A verifier takes its "now" before fetching; a list first signed during that fetch must not
    claim to be valid only from later (the first page view once reported "not valid before")."""
    _, award = await _awarded(service)
    awarded_by = datetime.now(UTC)
    await asyncio.sleep(1.1)
    url = award["credential"]["credentialStatus"]["statusListCredential"]
    listed = (await service.http.get(url.removeprefix(service.runtime.settings.base_url))).json()
    assert datetime.fromisoformat(listed["validFrom"].replace("Z", "+00:00")) <= awarded_by
    report = verify(award["credential"], resolve_key=resolver(service.runtime), fetch_status_list={url: listed}.__getitem__, now=awarded_by)
    assert report.check("status:revocation") is not None and report.check("status:revocation").outcome == "passed"  # type: ignore[union-attr]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_reserving_status_indexes_never_waits_for_a_connection_the_awards_hold(service: ServiceClient) -> None:
    """Every request holds a pooled connection while it awards; the allocator commits its
    reservations on its own engine, so even a pool of one serves concurrent awards (before, the
    reservation waited for the pool until its timeout)."""
    issuer_id, _ = await _awarded(service)
    achievement_id = (await service.create_achievement(issuer_id))["id"]
    tight = build_runtime(service.runtime.settings.model_copy(update={"db_pool_size": 1}))
    try:
        app = create_app(tight.settings, runtime=tight, migrate=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            responses = await asyncio.gather(
                *[
                    client.post(
                        f"/api/v1/issuers/{issuer_id}/awards",
                        json=award_body(achievement_id, external_id=f"tight-{n}", recipient={"email": f"t{n}@example.org"}),
                        headers=service.admin,
                    )
                    for n in range(6)
                ]
            )
    finally:
        await tight.close()
    assert [r.status_code for r in responses] == [201] * 6
