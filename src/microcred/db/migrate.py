"""Bring a database to the newest schema (Alembic ``upgrade head``), safely from many processes.

The service calls this on start, so the embedded SQLite database is created on the first run and
a PostgreSQL deployment migrates once however many workers or hosts start together (a
transaction-level advisory lock makes the others wait, then find nothing to do).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade"]

_LOCK_ID = 0x6D6963726F637264  # "microcrd"


def _script_location() -> Path:
    # A source checkout (also an editable install) has migrations/ at the top; a wheel carries
    # them inside the package (pyproject's force-include).
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "migrations", here.parents[1] / "_migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise RuntimeError("microcred's Alembic migrations are missing from this installation")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_script_location()))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


async def upgrade(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
