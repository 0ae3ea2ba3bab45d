"""The database half of a backup: a consistent snapshot in the database's own format, and its
restore into an empty database of the same kind.

SQLite is copied with its online backup API (``sqlite3.Connection.backup``): a page-by-page copy
under a read transaction, so a running service keeps writing (WAL) while it is taken. PostgreSQL
is dumped by ``pg_dump`` in its custom format from a snapshot this module exports and holds
open, so the Alembic revision the manifest names is read in the very snapshot that is dumped.

Why the databases' own dumps rather than a portable dump of every table through SQLAlchemy
(which could restore a SQLite backup into PostgreSQL): a native dump is exact (types, indexes,
constraints, pg_trgm, the audit chain's byte-for-byte rows) and consistent by construction, it
streams a database of any size without holding a table in memory, it needs no code of ours to be
right for every column type we will ever add, and an operator can restore it with the standard
tools (``sqlite3``, ``pg_restore``) when microcred itself is not at hand. Moving from SQLite to
PostgreSQL is a migration, not a restore, and is not what this is for.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url

from ..config import Settings
from ..db.engine import create_engine
from .errors import BackupError

__all__ = ["Snapshot", "database_kind", "occupied_tables", "restore_dump", "take_snapshot"]

_SQLITE_FILE = "microcred.sqlite3"
_PG_FILE = "microcred.pgdump"
_ALEMBIC_TABLE = "alembic_version"


@dataclass(frozen=True)
class Snapshot:
    path: Path
    kind: str
    revision: str
    made_by: str


def database_kind(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"


# -- backup ------------------------------------------------------------------------------------


async def take_snapshot(settings: Settings, directory: Path) -> Snapshot:
    """Dump the configured database into ``directory``, without changing it (no migration)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if settings.is_sqlite:
        return await asyncio.to_thread(_sqlite_snapshot, _sqlite_path(settings), directory / _SQLITE_FILE)
    return await _pg_snapshot(settings, directory / _PG_FILE)


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.sqlalchemy_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("the database is an in-memory SQLite database: there is nothing on disk to back up or restore into")
    return Path(database)


def _sqlite_snapshot(source: Path, target: Path) -> Snapshot:
    if not source.is_file():
        raise BackupError(f"there is no database at {source}: nothing to back up (check MICROCRED_DATA_DIR or MICROCRED_DATABASE_URL)")
    with contextlib.closing(sqlite3.connect(source, timeout=30)) as live, contextlib.closing(sqlite3.connect(target)) as copy:
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        revision = _sqlite_revision(copy)
    if revision is None:
        raise BackupError(f"the database at {source} has no microcred schema (no Alembic revision): nothing to back up")
    return Snapshot(path=target, kind="sqlite", revision=revision, made_by=f"sqlite3 {sqlite3.sqlite_version} online backup")


def _sqlite_revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute(f"SELECT version_num FROM {_ALEMBIC_TABLE}").fetchone()
    except sqlite3.OperationalError:
        return None
    return str(row[0]) if row else None


async def _pg_snapshot(settings: Settings, target: Path) -> Snapshot:
    pg_dump = _tool("pg_dump")
    engine = create_engine(settings.sqlalchemy_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                # pg_dump reads the snapshot this transaction exports, which must stay open until it is done.
                snapshot_id = (await connection.execute(text("SELECT pg_export_snapshot()"))).scalar_one()
                revision = await connection.run_sync(_current_revision)
                await _run(
                    [pg_dump, "--format=custom", "--no-owner", "--no-privileges", "--no-comments", f"--snapshot={snapshot_id}",
                     f"--file={target}", f"--dbname={_pg_database(settings)}"],
                    settings, what="pg_dump",
                )
    finally:
        await engine.dispose()
    if revision is None:
        raise BackupError("the database has no microcred schema (no Alembic revision): nothing to back up")
    version = (await _run([pg_dump, "--version"], settings, what="pg_dump")).strip()
    return Snapshot(path=target, kind="postgresql", revision=revision, made_by=f"{version} --format=custom")


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


# -- restore -----------------------------------------------------------------------------------


async def occupied_tables(settings: Settings) -> tuple[list[str], list[str]]:
    """The configured database's tables, and those of them holding rows (Alembic's own aside):
    a database with tables but no rows is one the service started on once, and still empty."""
    if settings.is_sqlite and not _sqlite_path(settings).exists():
        return [], []
    engine = create_engine(settings.sqlalchemy_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            tables: list[str] = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            filled = []
            for table in tables:
                quoted = engine.dialect.identifier_preparer.quote(table)
                if table != _ALEMBIC_TABLE and (await connection.execute(text(f"SELECT 1 FROM {quoted} LIMIT 1"))).first():
                    filled.append(table)
            return tables, filled
    finally:
        await engine.dispose()


async def restore_dump(settings: Settings, dump: Path, *, kind: str) -> None:
    """Replace the configured database's contents with ``dump`` (the caller has checked that it
    may: the database is empty, or the operator said --force)."""
    if kind != database_kind(settings):
        raise BackupError(
            f"the backup holds a {kind} database and the configured one is {database_kind(settings)}: a backup "
            "restores into the same kind of database (set MICROCRED_DATABASE_URL accordingly)"
        )
    if settings.is_sqlite:
        await asyncio.to_thread(_sqlite_restore, dump, _sqlite_path(settings))
    else:
        await _pg_drop_tables(settings)
        await _run(
            [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
             f"--dbname={_pg_database(settings)}", str(dump)],
            settings, what="pg_restore",
        )


def _sqlite_restore(dump: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Through SQLite itself, not a file copy: a -wal file left beside the old database is
    # replaced with it, never replayed over the new one.
    with contextlib.closing(sqlite3.connect(dump)) as source, contextlib.closing(sqlite3.connect(target, timeout=30)) as live:
        source.backup(live)


async def _pg_drop_tables(settings: Settings) -> None:
    engine = create_engine(settings.sqlalchemy_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            # Tables, then the sequences no table owns (the audit log's): the dump creates both.
            tables: list[str] = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            if tables:
                quoted = ", ".join(engine.dialect.identifier_preparer.quote(table) for table in tables)
                await connection.execute(text(f"DROP TABLE {quoted} CASCADE"))
            sequences: list[str] = await connection.run_sync(lambda sync: inspect(sync).get_sequence_names())
            if sequences:
                quoted = ", ".join(engine.dialect.identifier_preparer.quote(sequence) for sequence in sequences)
                await connection.execute(text(f"DROP SEQUENCE {quoted} CASCADE"))
    finally:
        await engine.dispose()


# -- the PostgreSQL client tools ---------------------------------------------------------------


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not on PATH: install the PostgreSQL client tools, of the server's major version or newer "
            "(Debian and Ubuntu: apt install postgresql-client)"
        )
    return found


def _pg_database(settings: Settings) -> str:
    database = make_url(settings.sqlalchemy_url).database
    if not database:
        raise BackupError("MICROCRED_DATABASE_URL names no database")
    return database


def _pg_environment(settings: Settings) -> dict[str, str]:
    """libpq's variables for the configured database: the password travels in the environment
    of the child process, never on its command line (which ``ps`` shows to every user)."""
    url = make_url(settings.sqlalchemy_url)
    environment = dict(os.environ)
    query = {key: value if isinstance(value, str) else value[0] for key, value in url.query.items()}
    host = url.host or query.get("host")
    for variable, value in (("PGHOST", host), ("PGPORT", url.port), ("PGUSER", url.username), ("PGPASSWORD", url.password)):
        if value is not None:
            environment[variable] = str(value)
    ssl = query.get("sslmode") or query.get("ssl")
    if ssl:
        environment["PGSSLMODE"] = {"true": "require", "false": "disable"}.get(ssl.lower(), ssl)
    return environment


async def _run(command: list[str], settings: Settings, *, what: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *command, env=_pg_environment(settings), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        message = re.sub(r"\s+", " ", err.decode("utf-8", "replace")).strip()
        raise BackupError(f"{what} failed (exit {process.returncode}): {message}")
    return out.decode("utf-8", "replace")
