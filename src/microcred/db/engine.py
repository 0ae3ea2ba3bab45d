"""Engine and session factory for the configured database (SQLite embedded, PostgreSQL in
production)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

__all__ = ["create_engine", "create_sessionmaker"]


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    # hide_parameters: a failed statement's error (which a 500 logs) names its SQL, not the
    # values bound to it (learners' addresses, token digests).
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    # Connections beyond the pool are opened and closed per use (measured: 240 backends in 30 s
    # at 32 concurrent requests), so the pool itself should cover the expected concurrency.
    return create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size // 2, pool_pre_ping=True, hide_parameters=True)


def create_sessionmaker(engine: AsyncEngine, *, info: dict[str, Any] | None = None) -> async_sessionmaker[AsyncSession]:
    """``info``: what every session carries (the composition root's event subscribers)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info=info or {})


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, open transactions (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    # WAL lets readers work beside the one writer; foreign keys are off by default in SQLite;
    # busy_timeout makes a second writer wait instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front: a transaction that reads and then writes
    # waits for the other writer (busy_timeout) instead of failing when it upgrades its lock.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
