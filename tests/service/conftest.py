"""The service under test, on SQLite and on PostgreSQL.

Each backend's database is migrated by Alembic once per session (never create_all). Tests commit
for real (idempotency races and job leases need several connections), so every table is emptied
after each test. Without a reachable PostgreSQL the PostgreSQL half skips with a message, unless
MICROCRED_TEST_REQUIRE_POSTGRES=1 (set by .ci/run), where it fails.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from sqlalchemy import delete

from microcred.app import create_app
from microcred.config import Settings
from microcred.db.engine import create_engine
from microcred.db.migrate import upgrade
from microcred.db.models import Base
from microcred.runtime import Runtime, build_runtime

from ..factories.service import ServiceClient

PG_HOST = os.environ.get("MICROCRED_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
BASE_URL = "https://badges.example.org"
PASSPHRASE = "test-passphrase-not-secret"


def _pg_admin(url: str) -> str:
    return url + "/postgres"


async def _create_pg_database(name: str) -> None:
    connection = await asyncpg.connect(_pg_admin(PG_HOST), timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_pg_database(name: str) -> None:
    connection = await asyncpg.connect(_pg_admin(PG_HOST), timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'microcred.db'}"
    asyncio.run(_migrate(url))
    return url


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    name = f"microcred_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(_create_pg_database(name))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        message = f"PostgreSQL is not reachable at {PG_HOST} ({type(exc).__name__}: {exc}); start it to run the PostgreSQL half"
        if os.environ.get("MICROCRED_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    url = f"{PG_HOST.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    asyncio.run(_migrate(url))
    yield url
    asyncio.run(_drop_pg_database(name))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture
def settings(database_url: str, keys_dir: Path, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        base_url=BASE_URL,
        keys_dir=keys_dir,
        data_dir=tmp_path,
        key_passphrase=PASSPHRASE,  # type: ignore[arg-type]
        run_jobs=False,
        job_chunk_rows=50,
        # Many tests verify more than 60 times a minute from one address (fuzzing, interop);
        # test_rate_limits.py turns the limits on with a clock of its own.
        verify_requests_per_minute=0,
        oauth_registrations_per_minute=0,
    )


@pytest_asyncio.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    built = build_runtime(settings)
    try:
        yield built
    finally:
        async with built.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(delete(table))
        await built.close()


@pytest_asyncio.fixture
async def client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, runtime=runtime, migrate=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


@pytest_asyncio.fixture
async def service(client: httpx.AsyncClient, runtime: Runtime) -> ServiceClient:
    """An admin API key and helpers that create issuers, achievements and awards through the API."""
    return await ServiceClient.start(client, runtime)


def is_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 problem with ``status`` and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body
