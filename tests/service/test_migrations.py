"""The migrated schema is the models' schema, on both databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from microcred.db.engine import create_engine
from microcred.db.migrate import alembic_config, current_revision, head_revision, upgrade
from microcred.db.models import Base


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


def _before(revision: str) -> str:
    previous = ScriptDirectory.from_config(alembic_config()).get_revision(revision).down_revision
    assert isinstance(previous, str)
    return previous


def _migrate_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
