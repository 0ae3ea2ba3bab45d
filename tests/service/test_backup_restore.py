"""`microcred backup` and `microcred restore`, driven through the command line as an operator
would: a service with three issuers, a rotated key and revoked credentials is backed up and
restored into an empty database and an empty key store, where every credential verifies as it
did before; damaged archives and occupied targets are refused, and the service warns at start
while its keys have no backup."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import tarfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from microcred.app import create_app
from microcred.backup.database import occupied_tables
from microcred.cli import main
from microcred.config import Settings
from microcred.db.engine import create_engine
from microcred.db.migrate import alembic_config, head_revision

from ..factories.service import ServiceClient
from .conftest import BASE_URL, PASSPHRASE, PG_HOST, _create_pg_database, _drop_pg_database

pytestmark = pytest.mark.asyncio


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    """A key store of this test's own (the suite's shared one holds every other test's issuers)."""
    return tmp_path / "keys"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run `microcred ARGS...` with the environment an operator would set for ``settings``."""

    async def run(settings: Settings, *argv: str, passphrase: str = PASSPHRASE) -> tuple[int, str, str]:
        monkeypatch.setenv("MICROCRED_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("MICROCRED_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("MICROCRED_KEYS_DIR", str(settings.keys_dir))
        monkeypatch.setenv("MICROCRED_BASE_URL", settings.base_url)
        monkeypatch.setenv("MICROCRED_KEY_PASSPHRASE", passphrase)
        capsys.readouterr()
        code = await asyncio.to_thread(main, list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def empty_target(database_url: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a second installation: an empty key store, and an empty database (the
    embedded SQLite file in an empty data folder, or a new PostgreSQL database)."""
    pg_name = None
    if database_url.startswith("postgresql"):
        pg_name = f"microcred_restore_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        asyncio.run(_create_pg_database(pg_name))
        url = f"{PG_HOST.replace('postgresql://', 'postgresql+asyncpg://')}/{pg_name}"
    else:
        url = ""  # the embedded database, in data_dir
    yield Settings(
        database_url=url,
        base_url=BASE_URL,
        keys_dir=tmp_path / "restored" / "keys",
        data_dir=tmp_path / "restored" / "data",
        key_passphrase=PASSPHRASE,  # type: ignore[arg-type]
        run_jobs=False,
    )
    if pg_name is not None:
        asyncio.run(_drop_pg_database(pg_name))


@contextlib.asynccontextmanager
async def started(settings: Settings, caplog: pytest.LogCaptureFixture, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The service started as `microcred serve` starts it, its start-up log in ``caplog``."""
    caplog.clear()
    app = create_app(settings, **kwargs)
    with caplog.at_level(logging.WARNING, logger="microcred"):
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
                yield http


def backup_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "backup" in r.getMessage()]


async def verdicts(http: httpx.AsyncClient, credentials: dict[str, dict[str, Any]]) -> dict[str, str]:
    found = {}
    for award_id, credential in credentials.items():
        response = await http.post("/api/v1/verify", json=credential)
        assert response.status_code == 200, response.text
        found[award_id] = response.json()["verdict"]
    return found


async def is_empty(settings: Settings) -> bool:
    _, filled = await occupied_tables(settings)
    keys = settings.keys_dir
    return not filled and not (keys.exists() and any(not e.name.startswith(".") for e in keys.iterdir()))


def tampered(archive: Path, target: Path, *, member_prefix: str) -> Path:
    """A copy of ``archive`` with one byte changed in its first member under ``member_prefix``."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(target, "w:gz") as copy:
        changed = False
        for member in source:
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if not changed and member.name.startswith(member_prefix):
                middle = len(data) // 2
                data = data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]
                changed = True
            copy.addfile(member, io.BytesIO(data))
    assert changed
    return target


async def test_a_backup_restores_into_an_empty_installation_where_every_credential_verifies_as_before(
    service: ServiceClient, settings: Settings, empty_target: Settings, cli: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A service with three issuers, one of them with a rotated key, and revoked credentials.
    credentials: dict[str, dict[str, Any]] = {}
    issuers = [(await service.create_issuer())["id"] for _ in range(3)]
    for issuer in issuers:
        achievement = await service.create_achievement(issuer)
        for _ in range(2):
            award = (await service.award(issuer, achievement["id"])).json()
            credentials[award["id"]] = award["credential"]
    code, _, err = await cli(settings, "issuers", "rotate-key", issuers[0])
    assert code == 0, err
    achievement = await service.create_achievement(issuers[0])
    award = (await service.award(issuers[0], achievement["id"])).json()
    credentials[award["id"]] = award["credential"]
    assert award["credential"]["proof"]["verificationMethod"] != next(iter(credentials.values()))["proof"]["verificationMethod"]
    revoked = [next(iter(credentials)), list(credentials)[3]]  # one signed with the retired key, one of another issuer
    for award_id in revoked:
        issuer = next(i for i in issuers if credentials[award_id]["issuer"]["id"].endswith(i))
        response = await service.http.post(f"/api/v1/issuers/{issuer}/credentials/{award_id}/revoke", headers=service.admin)
        assert response.status_code == 200, response.text
    before = await verdicts(service.http, credentials)
    assert sorted(before.values()) == ["revoked"] * 2 + ["valid"] * 5
    did_document = (await service.http.get(f"/issuers/{issuers[0]}/did.json")).json()
    assert len(did_document["verificationMethod"]) == 2  # the retired key and the current one
    # The development passphrase `make run` keeps beside the keys must not travel with them.
    (settings.keys_dir / ".dev-passphrase").write_text(PASSPHRASE)

    # Started without a backup, the service warns; after one, it does not.
    async with started(settings, caplog, runtime=service.runtime, migrate=False):
        pass
    assert any("has no backup" in line for line in backup_warnings(caplog)), caplog.text

    archive = tmp_path / "microcred-backup.tar.gz"
    code, out, err = await cli(settings, "backup", str(archive))
    assert code == 0, err
    assert f"wrote {archive}" in out and "4 keys of 3 issuers" in out and "MICROCRED_KEY_PASSPHRASE" in out
    with tarfile.open(archive, "r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]
    manifest = json.loads(members["manifest.json"])
    assert manifest["database"]["kind"] == ("sqlite" if settings.is_sqlite else "postgresql")
    assert len(manifest["keys"]) == 4 and set(manifest["files"]) == set(members) - {"manifest.json"}
    assert not any(PASSPHRASE.encode() in data for data in members.values())
    assert not any(".dev-passphrase" in name for name in members)
    code, _, err = await cli(settings, "backup", str(archive))
    assert code == 2 and "exists" in err  # an earlier backup is never overwritten

    async with started(settings, caplog, runtime=service.runtime, migrate=False):
        pass
    assert backup_warnings(caplog) == []

    # Refused: an occupied target, damaged archives, a wrong passphrase. Nothing is written.
    code, _, err = await cli(settings, "restore", str(archive))
    assert code == 2 and "empty" in err and "--force" in err
    edited = tampered(archive, tmp_path / "edited.tar.gz", member_prefix="keys/")
    code, _, err = await cli(empty_target, "restore", str(edited))
    assert code == 2 and "altered" in err and "SHA-256" in err, err
    edited = tampered(archive, tmp_path / "edited-db.tar.gz", member_prefix="database/")
    code, _, err = await cli(empty_target, "restore", str(edited))
    assert code == 2 and "altered" in err and "database/" in err, err
    flipped = tmp_path / "flipped.tar.gz"
    raw = bytearray(archive.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    flipped.write_bytes(bytes(raw))
    code, _, err = await cli(empty_target, "restore", str(flipped))
    assert code == 2 and ("damaged" in err or "altered" in err), err
    code, _, err = await cli(empty_target, "restore", str(archive), passphrase="not-the-passphrase")
    assert code == 2 and "does not open" in err and "Nothing was restored" in err, err
    assert await is_empty(empty_target)

    # Restored into the empty installation: checked, and every credential verifies as before.
    code, out, err = await cli(empty_target, "restore", str(archive))
    assert code == 0, out + err
    assert "FAILED" not in out and "ok      issuer keys" in out, out
    assert "ok      signing keys: every key the stored credentials and status lists were signed with is in the key store (4 keys)" in out
    async with started(empty_target, caplog) as restored:
        assert await verdicts(restored, credentials) == before
        assert (await restored.get(f"/issuers/{issuers[0]}/did.json")).json() == did_document
    assert backup_warnings(caplog) == []  # the keys came from a backup that holds them all

    # A restore over it again needs --force, which moves the key files aside rather than deleting them.
    code, _, err = await cli(empty_target, "restore", str(archive))
    assert code == 2 and "--force" in err
    code, out, err = await cli(empty_target, "restore", "--force", str(archive))
    assert code == 0, out + err
    aside = [e for e in empty_target.keys_dir.iterdir() if e.name.startswith(".replaced-")]
    assert len(aside) == 1 and len(list(aside[0].rglob("*.json"))) == 4
    async with started(empty_target, caplog) as restored:
        assert await verdicts(restored, credentials) == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the check is the one above; its failure once
async def test_a_restore_whose_key_store_lacks_a_key_that_signed_credentials_fails_naming_it(
    service: ServiceClient, settings: Settings, empty_target: Settings, cli: Any, tmp_path: Path
) -> None:
    issuer = (await service.create_issuer())["id"]
    achievement = await service.create_achievement(issuer)
    signed_before = (await service.award(issuer, achievement["id"])).json()["credential"]["proof"]["verificationMethod"]
    code, _, err = await cli(settings, "issuers", "rotate-key", issuer)
    assert code == 0, err
    # The retired key's file is lost; the key store still opens, and backs up without it.
    (lost,) = [p for p in settings.keys_dir.rglob("*.json") if p.name == signed_before.split("#")[1] + ".json"]
    lost.unlink()
    code, _, err = await cli(settings, "backup", str(tmp_path / "lacking.tar.gz"))
    assert code == 0, err
    code, out, err = await cli(empty_target, "restore", str(tmp_path / "lacking.tar.gz"))
    assert code == 1 and "the restore is not usable" in err
    assert "ok      issuer keys" in out and "FAILED  signing keys" in out and signed_before in out, out


async def test_a_key_made_after_the_last_backup_brings_the_warning_back(
    service: ServiceClient, settings: Settings, cli: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    issuer = (await service.create_issuer())["id"]
    code, _, err = await cli(settings, "backup", str(tmp_path / "first.tar.gz"))
    assert code == 0, err
    async with started(settings, caplog, runtime=service.runtime, migrate=False):
        pass
    assert backup_warnings(caplog) == []
    code, _, err = await cli(settings, "issuers", "rotate-key", issuer)
    assert code == 0, err
    async with started(settings, caplog, runtime=service.runtime, migrate=False):
        pass
    (warning,) = backup_warnings(caplog)
    assert "1 key(s) made after its last backup" in warning and "first.tar.gz" in warning


async def test_a_backup_of_an_older_schema_is_brought_to_the_newest_and_one_of_an_unknown_schema_refused(
    cli: Any, tmp_path: Path
) -> None:
    def installation(name: str) -> Settings:
        return Settings(base_url=BASE_URL, keys_dir=tmp_path / name / "keys", data_dir=tmp_path / name / "data", key_passphrase=PASSPHRASE)  # type: ignore[arg-type]

    older = installation("older")  # a microcred one migration behind, with no issuer yet (so no keys either)
    older.data_dir.mkdir(parents=True)
    previous = ScriptDirectory.from_config(alembic_config()).get_revision(head_revision()).down_revision
    assert isinstance(previous, str)
    engine = create_engine(older.sqlalchemy_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: _upgrade_to(sync, previous))
    finally:
        await engine.dispose()
    archive = tmp_path / "older.tar.gz"
    code, out, err = await cli(older, "backup", str(archive))
    assert code == 0, err
    assert f"schema {previous}" in out and "0 keys of 0 issuers" in out

    code, out, err = await cli(installation("newer"), "restore", str(archive))
    assert code == 0, out + err
    assert f"upgraded from {previous} to {head_revision()}" in out

    # A backup made by a later microcred, whose schema this one does not know: refused before writing.
    future = tmp_path / "future.tar.gz"
    with tarfile.open(archive, "r:gz") as source, tarfile.open(future, "w:gz") as copy:
        for member in source:
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["database"]["revision"], manifest["microcred_version"] = "0123456789ab", "9.0.0"
                data = json.dumps(manifest).encode()
                member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    target = installation("other")
    code, _, err = await cli(target, "restore", str(future))
    assert code == 2 and "0123456789ab" in err and "9.0.0" in err, err
    assert not target.data_dir.exists() and not target.keys_dir.exists()


def _upgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
