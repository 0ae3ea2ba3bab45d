"""The migrated schema is the models' schema, on both databases."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import rfc8785
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from microcred.audit.chain import LEGACY
from microcred.audit.service import append, verify_chain
from microcred.db.base import UTCDateTime
from microcred.db.engine import create_engine, create_sessionmaker
from microcred.db.migrate import alembic_config, current_revision, head_revision, upgrade
from microcred.db.models import AuditChainHead, AuditEntry, Base
from microcred.events import Event

from .conftest import PG_HOST, _create_pg_database, _drop_pg_database


@pytest.mark.asyncio
async def test_migrations_reach_head_and_match_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await current_revision(engine) == head_revision() is not None
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert diff == [], f"models and migrations differ; run `alembic revision --autogenerate`: {diff}"


@pytest.mark.asyncio
async def test_external_ids_become_unique_keeping_the_first_of_earlier_duplicates(tmp_path: Path) -> None:
    """Before 7c2e91a4d5b3, an external_id sent under several Idempotency-Keys made several
    credentials; the migration keeps them all, and the external_id on the first alone."""
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: _migrate_to(sync, _before("7c2e91a4d5b3")))
        with sqlite3.connect(path) as db:
            at = "2026-01-01 00:00:00.000000"
            db.execute(
                "INSERT INTO issuers (id, did, name, hash_recipient_emails, cryptosuite, current_key_id, created_at, updated_at)"
                " VALUES ('i', 'did:web:x', 'I', 1, 'eddsa-rdfc-2022', 'did:web:x#k', ?, ?)",
                (at, at),
            )
            db.execute("INSERT INTO achievements VALUES ('a', 'i', 'published', '{}', 1, ?, ?)", (at, at))
            db.execute("INSERT INTO achievement_versions VALUES ('v', 'a', 1, '{}', 0, ?)", (at,))
            for n, external_id in enumerate(["lms-1", "lms-1", "lms-1", None, None, "lms-2"]):
                db.execute(
                    "INSERT INTO credentials (id, issuer_id, achievement_id, achievement_version_id, dedup_key, request_hash, external_id,"
                    " completed_at, issued_at, cryptosuite, document) VALUES (?, 'i', 'a', 'v', ?, 'h', ?, ?, ?, 'eddsa-rdfc-2022', '{}')",
                    (f"c{n}", f"key:{n}", external_id, at, f"2026-01-0{n + 1} 00:00:00.000000"),
                )
        await upgrade(engine)
        with sqlite3.connect(path) as db:
            kept = dict(db.execute("SELECT id, external_id FROM credentials ORDER BY id").fetchall())
            assert kept == {"c0": "lms-1", "c1": None, "c2": None, "c3": None, "c4": None, "c5": "lms-2"}
            with pytest.raises(sqlite3.IntegrityError):
                db.execute("UPDATE credentials SET external_id = 'lms-1' WHERE id = 'c1'")
    finally:
        await engine.dispose()


def _old_hash(fields: dict[str, Any]) -> str:
    """An entry's hash as it was written when the service had one chain: SHA-256 of the JCS of
    its fields (seq, event_id, at, issuer_id, actor, action, subject, data, prev_hash)."""
    return hashlib.sha256(rfc8785.dumps({**fields, "at": fields["at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")})).hexdigest()


_OLD = sa.MetaData()
_OLD_LOG = sa.Table(
    "audit_log", _OLD, sa.Column("seq", sa.BigInteger), sa.Column("event_id", sa.String), sa.Column("at", UTCDateTime()),
    sa.Column("issuer_id", sa.String), sa.Column("actor", sa.String), sa.Column("action", sa.String), sa.Column("subject", sa.String),
    sa.Column("data", sa.JSON), sa.Column("prev_hash", sa.String), sa.Column("hash", sa.String),
)
_OLD_HEAD = sa.Table("audit_chain_head", _OLD, sa.Column("id", sa.Integer), sa.Column("seq", sa.BigInteger), sa.Column("hash", sa.String))


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database of its own, with no tables yet."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    name = f"microcred_migrate_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await _create_pg_database(name)
    try:
        yield f"{PG_HOST.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    finally:
        await _drop_pg_database(name)


@pytest.mark.asyncio
async def test_the_one_audit_chain_from_before_stays_checked_as_written_and_new_chains_start_after_it(empty_database: str) -> None:
    """Upgrading to per-issuer chains re-hashes nothing: an entry changed before the upgrade is
    still found afterwards; the old entries are checked with the hashes they were written with,
    and rebuilding their chain after a change breaks the first entry of every later chain."""
    engine = create_engine(empty_database)
    sessions = create_sessionmaker(engine)
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: _migrate_to(sync, _before("bf07c4d921dd")))
        old: list[dict[str, Any]] = []
        prev_hash = "0" * 64
        for seq, (issuer_id, action) in enumerate([(None, "client.created"), ("spe", "issuer.created"), ("spe", "credential.issued")], 1):
            fields = {
                "seq": seq, "event_id": str(uuid.uuid4()), "at": at, "issuer_id": issuer_id, "actor": "cli", "action": action,
                "subject": f"s{seq}", "data": {"n": seq}, "prev_hash": prev_hash,
            }
            prev_hash = _old_hash(fields)
            old.append({**fields, "hash": prev_hash})
        async with engine.begin() as connection:
            # The second entry's data was changed before the upgrade.
            await connection.execute(_OLD_LOG.insert(), [{**e, "data": {"n": 20}} if e["seq"] == 2 else e for e in old])
            await connection.execute(_OLD_HEAD.insert(), {"id": 1, "seq": 3, "hash": prev_hash})
        await upgrade(engine)

        async with sessions() as session, session.begin():
            await append(session, [Event("credential.issued", "spe", "lms", "c1", at), Event("issuer.created", "ccc", "cli", "ccc", at)])
            await append(session, [Event("client.created", None, "cli", "k1", at), Event("credential.issued", "spe", "lms", "c2", at)])
        async with sessions() as session:
            report = await verify_chain(session)
            new = list(await session.scalars(select(AuditEntry).where(AuditEntry.chain != LEGACY).order_by(AuditEntry.seq)))
        assert [b.describe() for b in report.breaks] == [
            f"entry 2 of the service's chain from before per-issuer chains (issuer.created of s2 by cli at {at.isoformat()}, event {old[1]['event_id']}):"
            " its contents were changed after it was written (hash mismatch)"
        ]
        assert (report.chains, report.checked) == (4, 1 + 4)  # the legacy chain up to its break, and the new chains whole
        # New places in the log follow the old ones; each new chain starts from the old chain's last hash.
        assert [(e.seq, e.chain, e.chain_seq) for e in new] == [(4, "issuer:spe", 1), (5, "issuer:ccc", 1), (6, "service", 1), (7, "issuer:spe", 2)]
        assert [e.prev_hash for e in new if e.chain_seq == 1] == [prev_hash] * 3

        async with sessions() as session, session.begin():  # the change undone: everything holds
            await session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(data={"n": 2}))
        async with sessions() as session:
            report = await verify_chain(session)
        assert report.intact and (report.chains, report.checked) == (4, 7), report

        # Whoever changes an old entry and rebuilds the old chain after it still breaks the new chains.
        async with sessions() as session, session.begin():
            rebuilt = "0" * 64
            for entry in old:
                fields = {k: v for k, v in entry.items() if k != "hash"} | {"prev_hash": rebuilt, **({"data": {"n": 20}} if entry["seq"] == 2 else {})}
                rebuilt = _old_hash(fields)
                await session.execute(update(AuditEntry).where(AuditEntry.seq == entry["seq"]).values(data=fields["data"], prev_hash=fields["prev_hash"], hash=rebuilt))
            await session.execute(update(AuditChainHead).where(AuditChainHead.chain == LEGACY).values(hash=rebuilt))
        async with sessions() as session:
            report = await verify_chain(session)
        unlinked = "not linked to the entry before it (an entry was inserted, removed or moved)"
        assert sorted((b.chain, b.seq, b.reason) for b in report.breaks) == [(chain, 1, unlinked) for chain in ("issuer:ccc", "issuer:spe", "service")]
    finally:
        await engine.dispose()


def _before(revision: str) -> str:
    previous = ScriptDirectory.from_config(alembic_config()).get_revision(revision).down_revision
    assert isinstance(previous, str)
    return previous


def _migrate_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
