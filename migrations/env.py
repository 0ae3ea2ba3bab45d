"""Alembic environment: runs migrations on the service's own async engine.

The URL comes from the caller (``microcred.db.migrate``) or, for `alembic` on the command line,
from ``MICROCRED_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from microcred.db.engine import create_engine
from microcred.db.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get("MICROCRED_DATABASE_URL", "")
    if not url:
        raise SystemExit("set MICROCRED_DATABASE_URL (e.g. sqlite+aiosqlite:///data/microcred.db)")
    asyncio.run(_run_online(url))
