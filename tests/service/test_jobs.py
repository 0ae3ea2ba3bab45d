"""Bulk awards: bad rows fail alone, re-sent files award nothing twice, and a job interrupted
mid-way resumes where it stopped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from microcred.awards.service import Signing
from microcred.db.models import Credential
from microcred.jobs.worker import JobRunner
from microcred.runtime import Runtime

from ..factories.service import ServiceClient, resolver
from microcred.credentials import verify

pytestmark = pytest.mark.asyncio


def _runner(runtime: Runtime, *, chunk_rows: int = 3, clock: Any = None) -> JobRunner:
    signing = Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses)
    return JobRunner(runtime.sessions, signing, chunk_rows=chunk_rows, **({"clock": clock} if clock else {}))


async def _credentials(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Credential)) or 0)


def _csv(achievement_id: str) -> bytes:
    rows = [
        "achievement_id,recipient_email,recipient_name,completion_date,grade,external_id",
        f"{achievement_id},ada@example.org,Ada,2021-05-01,8,c-1",
        f"{achievement_id},not-an-email,Bad Email,2021-05-01,8,c-2",
        f"{achievement_id},bob@example.org,Bob,2999-05-01,7,c-3",
        f"no-such-course,cy@example.org,Cy,2021-05-01,7,c-4",
        f"{achievement_id},dee@example.org,Dée Ünïcode,2021-05-01,,c-5",
        f"{achievement_id},eve@example.org,Eve,2021-05-01,9",
    ]
    return ("\n".join(rows) + "\n").encode()


async def _submit(service: ServiceClient, issuer_id: str, body: bytes, content_type: str = "text/csv") -> dict[str, Any]:
    response = await service.http.post(
        f"/api/v1/issuers/{issuer_id}/awards/batch", content=body, headers={**service.admin, "content-type": content_type}
    )
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/api/v1/jobs/{response.json()['id']}"
    result: dict[str, Any] = response.json()
    return result


async def _status(service: ServiceClient, job_id: str) -> dict[str, Any]:
    response = await service.http.get(f"/api/v1/jobs/{job_id}", headers=service.admin)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


async def test_valid_rows_are_awarded_and_bad_rows_reported(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    job = await _submit(service, issuer["id"], _csv(achievement["id"]))
    assert (job["status"], job["total"], job["processed"]) == ("queued", 6, 0)
    assert await _runner(service.runtime).run_once() == job["id"]
    status = await _status(service, job["id"])
    assert (status["status"], status["processed"], status["awarded"], status["failed"]) == ("completed", 6, 3, 3)
    rows = {row["row"]: row for row in status["rows"]}
    assert [rows[n]["status"] for n in range(1, 7)] == ["awarded", "failed", "failed", "failed", "awarded", "awarded"]
    assert rows[2]["error"]["errors"][0]["pointer"] == "#/recipient/email"
    assert rows[3]["error"]["errors"][0]["pointer"] == "#/completion_date"
    assert rows[4]["error"]["errors"][0]["pointer"] == "#/achievement_id"
    awarded = await service.http.get(f"/api/v1/issuers/{issuer['id']}/credentials/{rows[5]['credential_id']}", headers=service.admin)
    credential = awarded.json()["credential"]
    assert rows[5]["credential_url"] == credential["id"]
    assert credential["awardedDate"] == "2021-05-01T00:00:00Z"
    assert verify(credential, resolve_key=resolver(service.runtime)).valid
    failed_only = (await service.http.get(f"/api/v1/jobs/{job['id']}", params={"row_status": "failed"}, headers=service.admin)).json()
    assert [r["row"] for r in failed_only["rows"]] == [2, 3, 4]


async def test_resending_a_file_awards_nothing_twice(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    first = await _submit(service, issuer["id"], _csv(achievement["id"]))
    await _runner(service.runtime).run_once()
    assert await _credentials(service.runtime) == 3
    again = await _submit(service, issuer["id"], _csv(achievement["id"]))
    await _runner(service.runtime).run_once()
    status = await _status(service, again["id"])
    assert (status["awarded"], status["duplicates"], status["failed"]) == (0, 3, 3)
    original = {r["row"]: r["credential_id"] for r in (await _status(service, first["id"]))["rows"] if r["status"] == "awarded"}
    assert {r["row"]: r["credential_id"] for r in status["rows"] if r["status"] == "duplicate"} == original
    assert await _credentials(service.runtime) == 3


async def test_a_json_list_with_duplicate_rows_awards_each_learner_once(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    row = {"achievement_id": achievement["id"], "recipient": {"email": "x@example.org"}, "completion_date": "2022-02-02"}
    job = await _submit(service, issuer["id"], __import__("json").dumps([row, row, "not an object"]).encode(), "application/json")
    await _runner(service.runtime).run_once()
    status = await _status(service, job["id"])
    assert [r["status"] for r in status["rows"]] == ["awarded", "duplicate", "failed"]
    assert await _credentials(service.runtime) == 1


async def test_an_interrupted_job_resumes_after_its_lease_lapses(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    lines = ["achievement_id,recipient_email,completion_date,external_id"]
    lines += [f"{achievement['id']},l{i}@example.org,2020-01-0{1 + i % 9},row-{i}" for i in range(10)]
    job = await _submit(service, issuer["id"], ("\n".join(lines) + "\n").encode())

    crashed = _runner(service.runtime, chunk_rows=4)
    async with service.runtime.sessions() as session, session.begin():
        from microcred.jobs.service import claim_job

        assert await claim_job(session, owner=crashed.owner, now=crashed.clock()) == job["id"]
    assert await crashed.run_job(job["id"], max_chunks=1) is False  # then the process dies
    status = await _status(service, job["id"])
    assert (status["status"], status["processed"], status["awarded"]) == ("running", 4, 4)

    too_soon = _runner(service.runtime)
    assert await too_soon.run_once() is None  # the lease still holds
    later = _runner(service.runtime, chunk_rows=4, clock=lambda: datetime.now(UTC) + timedelta(minutes=5))
    assert await later.run_once() == job["id"]
    status = await _status(service, job["id"])
    assert (status["status"], status["processed"], status["awarded"], status["failed"]) == ("completed", 10, 10, 0)
    assert await _credentials(service.runtime) == 10
    assert await crashed.run_job(job["id"], max_chunks=1) is True  # the old worker finds nothing left to do
    assert await _credentials(service.runtime) == 10


async def test_a_file_over_the_row_limit_is_refused_whole(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    limit = service.runtime.settings.max_batch_rows
    body = ("achievement_id,recipient_email,completion_date\n" + "a,b@example.org,2020-01-01\n" * (limit + 1)).encode()
    response = await service.http.post(f"/api/v1/issuers/{issuer['id']}/awards/batch", content=body, headers={**service.admin, "content-type": "text/csv"})
    assert response.status_code == 413 and str(limit) in response.json()["detail"]
    unknown = await service.http.post(
        f"/api/v1/issuers/{issuer['id']}/awards/batch", content=b"who,what\n1,2\n", headers={**service.admin, "content-type": "text/csv"}
    )
    assert unknown.status_code == 400 and "who" in unknown.json()["detail"]


async def test_bulk_signing_in_a_process_pool_gives_the_same_outcomes(service: ServiceClient) -> None:
    from microcred.awards.signing_pool import SigningPool

    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    job = await _submit(service, issuer["id"], _csv(achievement["id"]))
    settings = service.runtime.settings
    pool = SigningPool(
        keys_dir=settings.keys_dir, passphrase=settings.key_passphrase.get_secret_value(), base_url=settings.base_url, processes=2
    )
    try:
        signing = Signing(service.runtime.keystore, service.runtime.loader, settings.base_url, service.runtime.statuses, pool)
        assert await JobRunner(service.runtime.sessions, signing, chunk_rows=50).run_once() == job["id"]
    finally:
        pool.close()
    status = await _status(service, job["id"])
    assert [r["status"] for r in status["rows"]] == ["awarded", "failed", "failed", "failed", "awarded", "awarded"]
    for row in status["rows"]:
        if row["status"] == "awarded":
            got = await service.http.get(f"/api/v1/issuers/{issuer['id']}/credentials/{row['credential_id']}", headers=service.admin)
            assert verify(got.json()["credential"], resolve_key=resolver(service.runtime)).verdict == "valid"
