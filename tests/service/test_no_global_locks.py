"""Awards of different issuers never wait for one another's locks (PostgreSQL, where awards run
side by side; SQLite's writers take turns by design).

A sampler on a connection of its own reads ``pg_locks`` with ``pg_stat_activity`` while the
awards run: every backend of the test database waiting for a lock, what kind, and who holds it.
One award is held open just before its commit, holding every lock an award takes until then,
while the others run: awards of other issuers must all finish beside it, awards of its own
issuer must all queue behind it (which shows the sampler sees waits when there are any).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import event, text

from microcred.auth.principal import Principal
from microcred.awards.repository import CredentialRepository
from microcred.awards.schemas import AwardIn
from microcred.awards.service import Signing, award
from microcred.db.models import Credential

from ..factories.service import ServiceClient, award_body

pytestmark = pytest.mark.asyncio

AWARDS = 20
#: Locks a transaction keeps to its end. Relation extension ("extend") and GIN pending-list
#: ("page") locks are held for a moment of storage work, not for the transaction; they are
#: counted, and reported, apart.
TRANSACTION_LOCKS = {"transactionid", "tuple", "relation", "advisory", "object", "virtualxid"}

_WAITING = """
    SELECT w.pid, l.locktype, l.mode, l.relation::regclass::text AS relation, pg_blocking_pids(w.pid) AS blockers
    FROM pg_stat_activity w JOIN pg_locks l ON l.pid = w.pid AND NOT l.granted
    WHERE w.datname = current_database() AND w.wait_event_type = 'Lock'
"""


@pytest.fixture
def database_url(postgresql_url: str) -> str:
    return postgresql_url


@dataclass
class Waits:
    """What the sampler saw."""

    samples: int = 0
    #: Samples in which at least one backend waited for a transaction lock.
    samples_waiting: int = 0
    most_waiting: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    brief: Counter[str] = field(default_factory=Counter)  # extension and page locks
    blocked_by_held: int = 0

    def add(self, rows: list[asyncpg.Record], *, held_pid: int) -> int:
        """Count one sample; the number of backends waiting for a transaction lock in it."""
        self.samples += 1
        waiting = [row for row in rows if row["locktype"] in TRANSACTION_LOCKS]
        self.brief.update(_kind(row) for row in rows if row["locktype"] not in TRANSACTION_LOCKS)
        self.kinds.update(_kind(row) for row in waiting)
        self.blocked_by_held += sum(held_pid in row["blockers"] for row in waiting)
        backends = len({row["pid"] for row in waiting})
        self.samples_waiting += backends > 0
        self.most_waiting = max(self.most_waiting, backends)
        return backends

    def __str__(self) -> str:
        return (
            f"{self.samples} samples, {self.samples_waiting} with a lock wait, at most {self.most_waiting} backends waiting at once,"
            f" {self.blocked_by_held} waits on the held award; kinds {dict(self.kinds)}; brief storage locks {dict(self.brief)}"
        )


def _kind(row: asyncpg.Record) -> str:
    return f"{row['locktype']} {row['mode']}" + (f" on {row['relation']}" if row["relation"] else "")


async def _issuers(service: ServiceClient, count: int) -> list[tuple[str, str, str]]:
    """(issuer id, achievement id, an LMS key with the award scope) for ``count`` new issuers."""
    made = []
    for _ in range(count):
        issuer = await service.create_issuer()
        achievement = await service.create_achievement(issuer["id"])
        made.append((issuer["id"], achievement["id"], await service.issuer_key(issuer["id"], "award")))
    return made


async def _awards_beside_a_held_one(service: ServiceClient, targets: list[tuple[str, str, str]], *, expect_queue: bool) -> Waits:
    """Award ``targets[0]`` through the award service and keep its transaction open before the
    commit; meanwhile award every other target through the API, sampling lock waits until they
    are all done (or, ``expect_queue``, until all of them wait), then commit the held one."""
    runtime = service.runtime
    sampler = await asyncpg.connect(runtime.settings.sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://"))
    waits = Waits()
    others: list[asyncio.Task[httpx.Response]] = []
    try:
        async with runtime.sessions() as held, held.begin():
            held_pid = int(await held.scalar(text("SELECT pg_backend_pid()")))
            issuer_id, achievement_id, _ = targets[0]
            signing = Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses)
            result = await award(
                held, principal=Principal("lms", issuer_id, frozenset({"award"})), signing=signing, issuer_id=issuer_id,
                data=AwardIn.model_validate(award_body(achievement_id)), idempotency_key=None, now=datetime.now(UTC),
            )
            assert result.created
            others = [asyncio.create_task(service.award(i, a, key=k)) for i, a, k in targets[1:]]
            pending: set[asyncio.Task[httpx.Response]] = set(others)
            async with asyncio.timeout(120):  # a failsafe against a hang, not a measurement
                while pending:
                    waiting = waits.add(await sampler.fetch(_WAITING), held_pid=held_pid)
                    if expect_queue and waiting == len(others):
                        break  # every other award queues behind the held one
                    if not expect_queue and waits.blocked_by_held:
                        break  # they wait for the held award: let it commit, or they never finish
                    _, pending = await asyncio.wait(pending, timeout=0.002)
        responses = await asyncio.gather(*others)
    finally:
        for task in others:
            task.cancel()
        await sampler.close()
    assert [r.status_code for r in responses] == [201] * len(others), [r.text for r in responses if r.status_code != 201]
    print(f"\nlock waits, {'one issuer' if expect_queue else f'{len(targets)} issuers'}: {waits}")
    return waits


async def test_awards_of_twenty_issuers_wait_for_none_of_one_anothers_locks(service: ServiceClient) -> None:
    assert service.runtime.engine.pool.size() >= AWARDS  # every award has a connection of its own
    targets = await _issuers(service, AWARDS)
    waits = await _awards_beside_a_held_one(service, targets, expect_queue=False)
    assert waits.samples > 0 and waits.samples_waiting == 0 and waits.blocked_by_held == 0, str(waits)


async def test_the_sampler_sees_twenty_awards_of_one_issuer_take_turns(service: ServiceClient) -> None:
    """The same run for one issuer: its awards append to one audit chain, so they queue at its
    head behind the held award (per-issuer serialization, which is allowed)."""
    (issuer_id, achievement_id, key), = await _issuers(service, 1)
    waits = await _awards_beside_a_held_one(service, [(issuer_id, achievement_id, key)] * AWARDS, expect_queue=True)
    assert waits.most_waiting == AWARDS - 1, str(waits)
    # The first waits for the held transaction to end, the others for the row it locked.
    assert waits.blocked_by_held >= 1 and set(waits.kinds) <= {"transactionid ShareLock", "tuple AccessExclusiveLock on audit_chain_heads"}, str(waits)


async def test_dedup_look_ups_read_only_the_unique_indexes(service: ServiceClient) -> None:
    """A bulk chunk's look-ups of dedup keys and external ids, as the repository sends them, are
    index-only scans of the unique indexes (which carry the id and request hash), with or
    without table statistics, also when they say the issuer is rare (where a scan of the issuer's
    few rows in another issuer_id index, filtered, would look cheaper); sequential and bitmap scans are switched off, so the planner shows
    the index it would use on a large table."""
    (issuer_id, achievement_id, _), (busy_id, busy_achievement_id, _) = await _issuers(service, 2)
    for n in range(3):
        assert (await service.award(issuer_id, achievement_id, external_id=f"lms-{n}")).status_code == 201
    # Statistics in which the issuer is rare: another issuer has most of the credentials.
    busy = await asyncio.gather(*(service.award(busy_id, busy_achievement_id, external_id=f"lms-{n}") for n in range(30)))
    assert {r.status_code for r in busy} == {201}
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "credentials" in statement:
            sent.append((statement, parameters))

    async with service.runtime.sessions() as session, session.begin():
        keys = list(await session.scalars(Credential.__table__.select().with_only_columns(Credential.dedup_key).where(Credential.issuer_id == issuer_id)))
        event.listen(service.runtime.engine.sync_engine, "before_cursor_execute", capture)
        try:
            repository = CredentialRepository(session)
            assert len(await repository.by_dedup_keys(issuer_id, keys)) == 3
            # lms-9 is the other issuer's only.
            assert sorted(await repository.by_external_ids(issuer_id, ["lms-0", "lms-2", "lms-9"])) == ["lms-0", "lms-2"]
        finally:
            event.remove(service.runtime.engine.sync_engine, "before_cursor_execute", capture)
        assert len(sent) == 2
        connection = await session.connection()
        await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        await connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        for analyzed in (False, True):
            if analyzed:
                await connection.exec_driver_sql("ANALYZE credentials")
            scans = []
            for statement, parameters in sent:
                plan = (await connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)).scalar_one()
                scans += [(node["Node Type"], node.get("Index Name")) for node in _nodes(json.loads(plan) if isinstance(plan, str) else plan)]
            assert sorted(scans) == [
                ("Index Only Scan", "uq_credentials_dedup_key_issuer_id"),
                ("Index Only Scan", "uq_credentials_external_id_issuer_id"),
            ], (analyzed, scans)


def _nodes(plan: Any) -> list[dict[str, Any]]:
    """The plan's nodes that read the credentials table."""
    found: list[dict[str, Any]] = []
    stack = [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        if node.get("Relation Name") == "credentials":
            found.append(node)
        stack += node.get("Plans", [])
    return found
