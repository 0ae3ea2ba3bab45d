"""The audit log: who did what and when, in hash chains (one per issuer, one for the service's
own actions) that `microcred audit verify` checks, and that show any entry changed, removed,
moved or slipped in afterwards, in whichever chain."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from microcred.audit.chain import SERVICE, chain_of, entry_hash
from microcred.awards.service import Signing
from microcred.cli import main
from microcred.db.models import AuditChainHead, AuditEntry
from microcred.jobs.worker import JobRunner
from microcred.runtime import Runtime

from ..factories.service import ServiceClient, award_body
from .conftest import PASSPHRASE, is_problem

pytestmark = pytest.mark.asyncio


@pytest.fixture
def verify_command(database_url: str, keys_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """`microcred audit verify` against the test database: (exit code, stdout, stderr)."""
    for name, value in {
        "MICROCRED_DATABASE_URL": database_url,
        "MICROCRED_KEY_PASSPHRASE": PASSPHRASE,
        "MICROCRED_KEYS_DIR": str(keys_dir),
        "MICROCRED_DATA_DIR": str(tmp_path),
        "MICROCRED_BASE_URL": "https://badges.example.org",
    }.items():
        monkeypatch.setenv(name, value)

    async def run() -> tuple[int, str, str]:
        capsys.readouterr()
        code = await asyncio.to_thread(main, ["audit", "verify"])
        out, err = capsys.readouterr()
        return code, out, err

    return run


async def entries(runtime: Runtime) -> list[AuditEntry]:
    async with runtime.sessions() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all())


async def history(service: ServiceClient) -> dict[str, Any]:
    """An issuer's life: created, edited, an achievement published, a key for its LMS, awards,
    a revocation, a key rotation."""
    issuer = await service.create_issuer(offers_suspension=True)
    achievement = await service.create_achievement(issuer["id"])
    assert (await service.http.patch(f"/api/v1/issuers/{issuer['id']}", json={"description": "Since 1911."}, headers=service.admin)).status_code == 200
    lms = await service.issuer_key(issuer["id"], "award", "revoke")
    awards = []
    for n in range(2):
        response = await service.award(issuer["id"], achievement["id"], key=lms, external_id=f"lms-{n}")
        assert response.status_code == 201, response.text
        awards.append(response.json())
    reason = "awarded to the wrong learner"
    revoked = await service.http.post(
        f"/api/v1/issuers/{issuer['id']}/credentials/{awards[0]['id']}/revoke", json={"reason": reason}, headers=service.auth(lms)
    )
    assert revoked.status_code == 200
    rotated = await service.http.post(f"/api/v1/issuers/{issuer['id']}/keys/rotate", headers=service.admin)
    assert rotated.status_code == 200
    return {"issuer": issuer, "achievement": achievement, "awards": awards, "reason": reason, "key": rotated.json(), "lms": lms}


async def test_every_change_is_recorded_with_who_did_it(service: ServiceClient) -> None:
    made = await history(service)
    issuer_id = made["issuer"]["id"]
    log = await entries(service.runtime)
    admin = log[0].subject  # the test's admin client, created first (by the command line's service)
    assert (log[0].action, log[0].actor, log[0].issuer_id, log[0].data["admin"]) == ("client.created", "cli", None, True)
    mine = [(e.action, e.subject) for e in log if e.issuer_id == issuer_id]
    lms_client = next(e.subject for e in log if e.action == "client.created" and e.issuer_id == issuer_id)
    assert mine == [
        ("issuer.created", issuer_id),
        ("achievement.created", made["achievement"]["id"]),
        ("achievement.published", made["achievement"]["id"]),
        ("issuer.updated", issuer_id),
        ("client.created", lms_client),
        ("credential.issued", made["awards"][0]["id"]),
        ("credential.issued", made["awards"][1]["id"]),
        ("credential.revoked", made["awards"][0]["id"]),
        ("key.rotated", made["key"]["verification_method"]),
    ]
    by_action = {e.action: e for e in log if e.issuer_id == issuer_id}
    assert by_action["issuer.created"].actor == admin and by_action["issuer.updated"].data == {"fields": ["description"]}
    assert by_action["credential.issued"].actor == lms_client and by_action["credential.revoked"].actor == lms_client
    assert by_action["credential.revoked"].data["reason"] == made["reason"]  # the audit log keeps it; webhooks never see it
    assert by_action["key.rotated"].actor == admin
    assert by_action["key.rotated"].data["previous_key_id"] == made["issuer"]["verification_method"]
    assert all("@example.org" not in str(e.data) for e in log)  # learners' email addresses stay out of the log
    # The issuer's entries are its own chain, the admin client's the service's; each chain
    # numbered without gaps and linked, in the log's order.
    assert {e.chain for e in log} == {SERVICE, chain_of(issuer_id)}
    for chain in {e.chain for e in log}:
        links = [e for e in log if e.chain == chain]
        assert {e.issuer_id for e in links} == {issuer_id if chain != SERVICE else None}
        assert [e.chain_seq for e in links] == list(range(1, len(links) + 1))
        assert all(e.prev_hash == before.hash for before, e in zip(links, links[1:], strict=False))
    assert len({e.seq for e in log}) == len(log)


async def test_a_bulk_chunk_appends_its_awards_in_one_run_of_the_chain(service: ServiceClient) -> None:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    rows = [award_body(achievement["id"], external_id=f"bulk-{n}") for n in range(12)]
    job = (await service.http.post(f"/api/v1/issuers/{issuer['id']}/awards/batch", json=rows, headers=service.admin)).json()
    runtime = service.runtime
    runner = JobRunner(runtime.sessions, Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses), chunk_rows=5)
    assert await runner.run_once() == job["id"]
    issued = [e for e in await entries(runtime) if e.action == "credential.issued"]
    assert len(issued) == 12 and {e.actor for e in issued} == {f"job:{job['id']}"}
    submitted = [e for e in await entries(runtime) if e.action == "job.submitted"]
    assert [(e.subject, e.data["rows"]) for e in submitted] == [(job["id"], 12)]
    # Three chunks of 5, 5 and 2 rows, one after the other in the issuer's chain.
    seqs = [e.chain_seq for e in issued]
    assert [seqs[i + 1] - seqs[i] for i in range(11)] == [1] * 11 and {e.chain for e in issued} == {chain_of(issuer["id"])}


async def test_verify_passes_on_an_intact_chain(service: ServiceClient, verify_command: Any) -> None:
    made = await history(service)
    log = await entries(service.runtime)
    code, out, err = await verify_command()
    assert code == 0, err
    assert f"{len(log)} entries in 2 chains checked" in out
    # Each chain's head, to keep a copy of elsewhere.
    mine = [e for e in log if e.issuer_id == made["issuer"]["id"]]
    assert f"issuer:{made['issuer']['id']}: entry {len(mine)}, head {mine[-1].hash}" in out


def _in_chain(log: list[AuditEntry], chain: str) -> list[AuditEntry]:
    return [e for e in log if e.chain == chain]


async def test_verify_finds_an_entry_whose_data_was_changed(service: ServiceClient, verify_command: Any) -> None:
    made = await history(service)
    issuer_id = made["issuer"]["id"]
    revoked = next(e for e in await entries(service.runtime) if e.action == "credential.revoked")
    async with service.runtime.sessions() as session, session.begin():
        await session.execute(update(AuditEntry).where(AuditEntry.seq == revoked.seq).values(data={**revoked.data, "reason": "routine"}))
    code, _, err = await verify_command()
    assert code == 1
    assert f"broken at entry {revoked.chain_seq} of issuer {issuer_id}'s chain (credential.revoked of {made['awards'][0]['id']}" in err
    assert "changed" in err and err.count("broken at") == 1  # the service's chain holds


async def test_verify_finds_a_changed_entry_even_with_its_hash_recomputed(service: ServiceClient, verify_command: Any) -> None:
    """Whoever rewrites an entry and its hash breaks the link from the next entry."""
    made = await history(service)
    log = await entries(service.runtime)
    victim = next(e for e in log if e.action == "credential.issued")
    forged = {**victim.data, "recipient_name": "Someone Else"}
    forged_hash = entry_hash(
        seq=victim.seq, chain=victim.chain, chain_seq=victim.chain_seq, event_id=victim.event_id, at=victim.at, issuer_id=victim.issuer_id,
        actor=victim.actor, action=victim.action, subject=victim.subject, data=forged, prev_hash=victim.prev_hash,
    )
    async with service.runtime.sessions() as session, session.begin():
        await session.execute(update(AuditEntry).where(AuditEntry.seq == victim.seq).values(data=forged, hash=forged_hash))
    code, _, err = await verify_command()
    assert code == 1
    assert f"broken at entry {victim.chain_seq + 1} of issuer {made['issuer']['id']}'s chain " in err and "not linked to the entry before it" in err


async def test_verify_finds_a_deleted_entry(service: ServiceClient, verify_command: Any) -> None:
    made = await history(service)
    log = await entries(service.runtime)
    victim = next(e for e in log if e.action == "credential.revoked")
    async with service.runtime.sessions() as session, session.begin():
        await session.execute(delete(AuditEntry).where(AuditEntry.seq == victim.seq))
    code, _, err = await verify_command()
    assert code == 1
    n = victim.chain_seq
    assert f"broken at entry {n} of issuer {made['issuer']['id']}'s chain: entry {n} missing (removed); the chain resumes at entry {n + 1}" in err


async def test_verify_finds_entries_removed_from_the_end(service: ServiceClient, verify_command: Any) -> None:
    made = await history(service)
    last = _in_chain(await entries(service.runtime), chain_of(made["issuer"]["id"]))[-1]
    async with service.runtime.sessions() as session, session.begin():
        await session.execute(delete(AuditEntry).where(AuditEntry.chain == last.chain, AuditEntry.chain_seq >= last.chain_seq - 1))
    code, _, err = await verify_command()
    assert code == 1
    assert f"entries {last.chain_seq - 1} to {last.chain_seq} missing (removed from the end)" in err


async def _slip_in(service: ServiceClient, after: AuditEntry, *, action: str, subject: str) -> None:
    """A made-up entry in ``after``'s chain right after it, well formed and linked to it, the
    later entries moved up one place (as someone rewriting the table would)."""
    log = _in_chain(await entries(service.runtime), after.chain)
    async with service.runtime.sessions() as session, session.begin():
        for later in reversed([e for e in log if e.chain_seq > after.chain_seq]):  # make room, from the end
            await session.execute(update(AuditEntry).where(AuditEntry.seq == later.seq).values(chain_seq=later.chain_seq + 1))
        seq = int(await session.scalar(select(func.max(AuditEntry.seq))) or 0) + 1
        fields: dict[str, Any] = {
            "seq": seq, "chain": after.chain, "chain_seq": after.chain_seq + 1, "event_id": "00000000-0000-4000-8000-000000000000",
            "at": after.at, "issuer_id": after.issuer_id, "actor": after.actor, "action": action, "subject": subject, "data": {},
        }
        session.add(AuditEntry(**fields, prev_hash=after.hash, hash=entry_hash(**fields, prev_hash=after.hash)))
        await session.execute(update(AuditChainHead).where(AuditChainHead.chain == after.chain).values(seq=log[-1].chain_seq + 1))


async def test_verify_finds_reordered_and_inserted_entries(service: ServiceClient, verify_command: Any) -> None:
    made = await history(service)
    log = await entries(service.runtime)
    a, b = [e for e in log if e.action == "credential.issued"]
    mine = f"of issuer {made['issuer']['id']}'s chain"

    async def place(a_at: int, b_at: int) -> None:  # the two entries' places in the chain
        async with service.runtime.sessions() as session, session.begin():
            await session.execute(update(AuditEntry).where(AuditEntry.seq == a.seq).values(chain_seq=-1))
            await session.execute(update(AuditEntry).where(AuditEntry.seq == b.seq).values(chain_seq=b_at))
            await session.execute(update(AuditEntry).where(AuditEntry.seq == a.seq).values(chain_seq=a_at))

    await place(b.chain_seq, a.chain_seq)  # swapped
    code, _, err = await verify_command()
    assert code == 1 and f"broken at entry {a.chain_seq} {mine} " in err
    await place(a.chain_seq, b.chain_seq)  # put back
    assert (await verify_command())[0] == 0

    # Slip a made-up entry in after the first award, well formed and linked to the one before it.
    await _slip_in(service, a, action="credential.revoked", subject=b.subject)
    code, _, err = await verify_command()
    assert code == 1
    assert f"broken at entry {a.chain_seq + 2} {mine} " in err and "not linked" in err


async def test_the_service_chain_shows_a_changed_a_deleted_and_an_inserted_entry(service: ServiceClient, verify_command: Any) -> None:
    """The entries of no issuer (admin keys, here) are a chain of their own, checked the same way;
    a break in it leaves the issuers' chains holding."""
    made = await history(service)
    for _ in range(3):
        await service._key(service.runtime, issuer_id=None, scopes=())  # more admin keys: client.created of no issuer
    log = _in_chain(await entries(service.runtime), SERVICE)
    assert [e.action for e in log] == ["client.created"] * 4
    first, second, third = log[0], log[1], log[2]
    ours = "of the service's own chain"

    async with service.runtime.sessions() as session, session.begin():
        await session.execute(update(AuditEntry).where(AuditEntry.seq == second.seq).values(actor="someone-else"))
    code, _, err = await verify_command()
    assert code == 1 and f"broken at entry 2 {ours} (client.created of {second.subject} by someone-else" in err and "changed" in err
    assert err.count("broken at") == 1  # the issuer's chain holds
    async with service.runtime.sessions() as session, session.begin():
        await session.execute(update(AuditEntry).where(AuditEntry.seq == second.seq).values(actor=second.actor))
        await session.execute(delete(AuditEntry).where(AuditEntry.seq == third.seq))
    code, _, err = await verify_command()
    assert code == 1 and f"broken at entry 3 {ours}: entry 3 missing (removed); the chain resumes at entry 4" in err
    async with service.runtime.sessions() as session, session.begin():
        session.add(AuditEntry(**{c: getattr(third, c) for c in AuditEntry.__table__.columns.keys()}))
    assert (await verify_command())[0] == 0

    await _slip_in(service, first, action="client.revoked", subject=made["lms"][:8])
    code, _, err = await verify_command()
    assert code == 1 and f"broken at entry 3 {ours} " in err and "not linked" in err


async def test_the_log_is_read_by_admins_and_by_issuers_with_manage(service: ServiceClient) -> None:
    made = await history(service)
    issuer_id = made["issuer"]["id"]
    other = await service.create_issuer()
    manage = service.auth(await service.issuer_key(issuer_id, "manage"))
    everything = (await service.http.get("/api/v1/audit", params={"limit": 1000}, headers=service.admin)).json()["items"]
    assert [e["seq"] for e in everything] == sorted((e["seq"] for e in everything), reverse=True)  # newest first
    assert {e["issuer_id"] for e in everything} >= {None, issuer_id, other["id"]}
    assert [(e["action"], e["issuer_id"]) for e in everything[:2]] == [("client.created", issuer_id), ("issuer.created", other["id"])]
    assert all(len(e["hash"]) == 64 for e in everything)

    is_problem(await service.http.get("/api/v1/audit", headers=manage), 403)
    is_problem(await service.http.get(f"/api/v1/issuers/{issuer_id}/audit", headers=service.auth(made["lms"])), 403)
    is_problem(await service.http.get(f"/api/v1/issuers/{other['id']}/audit", headers=manage), 404)
    first = (await service.http.get(f"/api/v1/issuers/{issuer_id}/audit", params={"limit": 4}, headers=manage)).json()
    rest = (await service.http.get(f"/api/v1/issuers/{issuer_id}/audit", params={"before": first["next_before"]}, headers=manage)).json()
    mine = first["items"] + rest["items"]
    assert rest["next_before"] is None and {e["issuer_id"] for e in mine} == {issuer_id}
    assert [e["action"] for e in mine][:3] == ["client.created", "key.rotated", "credential.revoked"]
    assert mine == [e for e in everything if e["issuer_id"] == issuer_id]
    filtered = (await service.http.get("/api/v1/audit", params={"issuer_id": issuer_id, "limit": 1000}, headers=service.admin)).json()["items"]
    assert filtered == mine


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_concurrent_changes_make_chains_that_hold(service: ServiceClient, verify_command: Any) -> None:
    """Awards, revocations and a bulk job of two issuers on several connections at once: each
    append waits its turn at its issuer's chain head, so no chain has a fork, a gap or a
    duplicate number."""
    issuer, other = await service.create_issuer(), await service.create_issuer()
    achievement, theirs = await service.create_achievement(issuer["id"]), await service.create_achievement(other["id"])
    first = [await service.award(issuer["id"], achievement["id"], external_id=f"pre-{n}") for n in range(6)]
    rows = [award_body(achievement["id"], external_id=f"bulk-{n}") for n in range(40)]
    job = (await service.http.post(f"/api/v1/issuers/{issuer['id']}/awards/batch", json=rows, headers=service.admin)).json()
    runtime = service.runtime
    runner = JobRunner(runtime.sessions, Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses), chunk_rows=4)
    before = len(await entries(runtime))

    async def one(n: int) -> None:
        for issuer_id, achievement_id in ((issuer["id"], achievement["id"]), (other["id"], theirs["id"])):
            response = await service.award(issuer_id, achievement_id, external_id=f"live-{n}")
            assert response.status_code == 201, response.text

    async def revoke(credential_id: str) -> None:
        response = await service.http.post(f"/api/v1/issuers/{issuer['id']}/credentials/{credential_id}/revoke", headers=service.admin)
        assert response.status_code == 200, response.text

    await asyncio.gather(runner.run_once(), *(one(n) for n in range(12)), *(revoke(r.json()["id"]) for r in first))
    log = await entries(runtime)
    assert len(log) == before + 40 + 24 + 6
    for chain in {e.chain for e in log}:
        assert [e.chain_seq for e in _in_chain(log, chain)] == list(range(1, len(_in_chain(log, chain)) + 1))
    assert len({e.hash for e in log}) == len(log)
    code, out, err = await verify_command()
    assert code == 0, err
    assert f"{len(log)} entries in 3 chains checked" in out


async def test_the_log_is_filtered_by_action_actor_subject_and_time_a_page_at_a_time(service: ServiceClient) -> None:
    made = await history(service)
    issuer_id = made["issuer"]["id"]
    path = f"/api/v1/issuers/{issuer_id}/audit"

    async def read(**params: Any) -> dict[str, Any]:
        response = await service.http.get(path, params=params, headers=service.admin)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page

    mine = (await read(limit=1000))["items"]
    assert [e["subject"] for e in (await read(action="credential.issued"))["items"]] == [a["id"] for a in reversed(made["awards"])]
    family = (await read(action="credential.*"))["items"]
    assert [e["action"] for e in family] == ["credential.revoked", "credential.issued", "credential.issued"]
    assert (await read(action="credential"))["items"] == []  # exact unless it ends in .*
    assert (await read(action="credential_*"))["items"] == []  # a LIKE wildcard in it is a plain character

    lms_actor = family[0]["actor"]  # the LMS key revoked it
    by_lms = (await read(actor=lms_actor))["items"]
    assert {e["action"] for e in by_lms} == {"credential.issued", "credential.revoked"} and len(by_lms) == 3
    about_first = (await read(subject=made["awards"][0]["id"]))["items"]
    assert [e["action"] for e in about_first] == ["credential.revoked", "credential.issued"]

    # A page at a time, the filter kept: two of the three, then the last.
    first = await read(actor=lms_actor, limit=2)
    rest = await read(actor=lms_actor, limit=2, before=first["next_before"])
    assert [e["seq"] for e in first["items"] + rest["items"]] == [e["seq"] for e in by_lms] and rest["next_before"] is None

    # Time: since is inclusive, until exclusive; a date is its midnight UTC.
    revoked_at = family[0]["at"]
    assert [e["action"] for e in (await read(action="credential.*", since=revoked_at))["items"]] == ["credential.revoked"]
    assert [e["action"] for e in (await read(action="credential.*", until=revoked_at))["items"]] == ["credential.issued"] * 2
    first_day = mine[-1]["at"][:10]  # the oldest entry's date
    assert len((await read(since=first_day))["items"]) == len(mine)
    assert (await read(until=first_day))["items"] == []
    is_problem(await service.http.get(path, params={"since": "yesterday"}, headers=service.admin), 422)
    # The admin view filters the same way.
    everything = (await service.http.get("/api/v1/audit", params={"action": "issuer.*"}, headers=service.admin)).json()["items"]
    assert {e["action"] for e in everything} == {"issuer.created", "issuer.updated"}
