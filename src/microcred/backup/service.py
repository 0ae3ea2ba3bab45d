"""``microcred backup`` and ``microcred restore``: the use cases.

A backup is the database (a consistent snapshot), the key store's files (still encrypted) and a
manifest, in one archive. The passphrase is not in it: it opens every key, so it is kept apart.

A restore goes into an empty database and an empty key store (or, with ``force``, replaces
them), and everything that can be checked before writing is: the archive's hashes, the database
kind, that this microcred knows the schema revision, and that every key opens with the configured
passphrase. After writing it brings the schema to this version's newest and checks that every key
the database refers to is in the key store.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError as AlembicError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .. import __version__
from ..config import Settings
from ..db.engine import create_engine, create_sessionmaker
from ..db.migrate import alembic_config, current_revision, head_revision, upgrade
from ..keystore import PASSPHRASE_ENV, FileKeyStore, KeyStoreError, key_files
from . import repository
from .archive import DatabaseEntry, KeyEntry, Manifest, hash_file, read_archive, write_archive
from .database import database_kind, occupied_tables, restore_dump, take_snapshot
from .errors import BackupError
from .record import BackupRecord, write_record
from .store_files import copy_store, install_store, occupied_entries

__all__ = ["FAILURES", "BackupReport", "Check", "RestoreReport", "describe", "make_backup", "restore_backup"]

#: How a backup or restore fails: said by us, or by a database out of reach or refusing (or a full disk).
FAILURES: tuple[type[Exception], ...] = (BackupError, SQLAlchemyError, sqlite3.Error, OSError)


def describe(exc: Exception) -> str:
    """One line for an operator (SQLAlchemy's messages go on with a link and the statement)."""
    if isinstance(exc, BackupError):
        return str(exc)
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"


@dataclass(frozen=True)
class BackupReport:
    path: Path
    bytes: int
    sha256: str
    manifest: Manifest
    #: Why the record of this backup could not be written (the archive is fine), if it could not.
    record_error: str | None = None


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class RestoreReport:
    manifest: Manifest
    checks: list[Check] = field(default_factory=list)
    #: Where the key files the key store held before a forced restore went.
    moved_aside: Path | None = None

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


# -- backup ------------------------------------------------------------------------------------


async def make_backup(settings: Settings, path: Path, *, now: datetime) -> BackupReport:
    path = path.absolute()
    if path.exists():
        raise BackupError(f"{path} exists: give a new file name (a backup never overwrites another)")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} is not a folder")
    passphrase = settings.key_passphrase.get_secret_value()
    # Staged beside the archive, which must have room for it anyway (a temporary folder may not).
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".microcred-backup-") as staging_name:
        staging = Path(staging_name)
        # The database first, then the keys: a key made in between is in the archive with nothing
        # referring to it, where the other order could leave the database naming a missing key.
        snapshot = await take_snapshot(settings, staging / "database")
        copied = copy_store(settings.keys_dir, staging / "keys")
        # The copies are opened, not the live files: what is archived is what a restore will read.
        keys = await asyncio.to_thread(_open_keys, staging / "keys", passphrase=passphrase, shown_as=settings.keys_dir)
        files = {f"keys/{name}": hash_file(staging / "keys" / name) for name in copied}
        key_paths = {f.verification_method: f"keys/{f.path.relative_to(staging / 'keys').as_posix()}" for f in key_files(staging / "keys")}
        database_file = snapshot.path.relative_to(staging).as_posix()
        files[database_file] = hash_file(snapshot.path)
        manifest = Manifest(
            microcred_version=__version__,
            created_at=now,
            database=DatabaseEntry(kind=snapshot.kind, revision=snapshot.revision, file=database_file, made_by=snapshot.made_by),
            keys=[KeyEntry(**vars(key), file=key_paths[key.verification_method]) for key in keys],
            files=files,
        )
        await asyncio.to_thread(write_archive, path, staging=staging, manifest=manifest)
    written = hash_file(path)
    record_error = None
    try:
        write_record(settings.keys_dir, BackupRecord(at=now, archive=str(path), archive_sha256=written.sha256, keys=frozenset(k.verification_method for k in manifest.keys)))
    except OSError as exc:
        record_error = f"the record of this backup could not be written to {settings.keys_dir}: {exc}"
    return BackupReport(path=path, bytes=written.bytes, sha256=written.sha256, manifest=manifest, record_error=record_error)


@dataclass(frozen=True)
class _OpenedKey:
    verification_method: str
    issuer: str
    public_key_multibase: str
    valid_from: str
    valid_until: str | None


def _open_keys(root: Path, *, passphrase: str, shown_as: Path) -> list[_OpenedKey]:
    """Every key of the store at ``root``, each decrypted once (the store checks it against its
    public key); errors name the files as ``shown_as``, where the operator knows them."""
    store = FileKeyStore(root, passphrase=passphrase)
    opened = []
    try:
        for issuer in store.issuers():
            for key in store.published_keys(issuer):
                opened.append(_OpenedKey(
                    verification_method=key.id,
                    issuer=issuer,
                    public_key_multibase=key.public_key_multibase,
                    valid_from=key.valid_from.isoformat() if key.valid_from else "",
                    valid_until=key.valid_until.isoformat() if key.valid_until else None,
                ))
    except KeyStoreError as exc:
        message = str(exc).replace(str(root), str(shown_as))
        raise BackupError(f"the key store {shown_as} does not open with {PASSPHRASE_ENV}: {message}") from None
    return opened


# -- restore -----------------------------------------------------------------------------------


async def restore_backup(settings: Settings, path: Path, *, force: bool, now: datetime) -> RestoreReport:
    path = path.absolute()
    if not path.is_file():
        raise BackupError(f"no such file: {path}")
    passphrase = settings.key_passphrase.get_secret_value()
    occupied = await _occupied(settings)
    if occupied and not force:
        raise BackupError(
            "restore goes into an empty database and key store, and " + "; ".join(occupied) + ". Point the settings at "
            "empty ones, or give --force to replace them (the database's contents are replaced; key files are moved "
            f"into {settings.keys_dir}/.replaced-<time>/, never deleted)"
        )
    with tempfile.TemporaryDirectory(prefix="microcred-restore-") as staging_name:
        staging = Path(staging_name)
        manifest = await asyncio.to_thread(read_archive, path, into=staging)
        report = RestoreReport(manifest=manifest)
        report.checks.append(Check("archive", True, f"{len(manifest.files)} files match the manifest's SHA-256 (made {manifest.created_at.isoformat(timespec='seconds')} by microcred {manifest.microcred_version})"))
        if manifest.database.kind != database_kind(settings):
            raise BackupError(
                f"the backup holds a {manifest.database.kind} database and the configured one is {database_kind(settings)}: "
                "a backup restores into the same kind of database (set MICROCRED_DATABASE_URL accordingly)"
            )
        _check_known_revision(manifest.database.revision, manifest.microcred_version)
        keys = await asyncio.to_thread(_open_keys_to_restore, staging / "keys", passphrase, manifest)
        report.checks.append(Check("keys open", True, f"{len(keys)} keys of {len({k.issuer for k in keys})} issuers open with {PASSPHRASE_ENV}"))
        # Nothing has been written so far; from here on the target changes.
        report.moved_aside = await asyncio.to_thread(install_store, staging / "keys", settings.keys_dir, now=now)
        try:
            await restore_dump(settings, staging / manifest.database.file, kind=manifest.database.kind)
        except FAILURES as exc:
            raise BackupError(f"the key files were restored into {settings.keys_dir}, the database was not: {describe(exc)}") from None
    report.checks.append(Check("database", True, f"{manifest.database.kind} restored at schema {manifest.database.revision}"))
    engine = create_engine(settings.sqlalchemy_url, pool_size=1)
    try:
        report.checks.append(await _bring_schema_up(engine))
        if report.ok:
            report.checks.extend(await _check_key_references(create_sessionmaker(engine), keys))
    finally:
        await engine.dispose()
    if report.ok:
        archive = hash_file(path)
        write_record(settings.keys_dir, BackupRecord(at=now, archive=str(path), archive_sha256=archive.sha256, keys=frozenset(k.verification_method for k in keys), restored=True))
    return report


async def _occupied(settings: Settings) -> list[str]:
    """What is already in the target, said in words; empty when the restore may go ahead."""
    found = []
    _, filled = await occupied_tables(settings)
    if filled:
        found.append(f"the database holds data ({len(filled)} tables with rows, e.g. {', '.join(sorted(filled)[:3])})")
    entries = occupied_entries(settings.keys_dir)
    if entries:
        found.append(f"the key store {settings.keys_dir} holds {', '.join(entries[:3])}{' ...' if len(entries) > 3 else ''}")
    return found


def _check_known_revision(revision: str, made_with: str) -> None:
    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except AlembicError:
        raise BackupError(
            f"the backup's database is at schema revision {revision}, which this microcred ({__version__}) does not "
            f"know: it was made by microcred {made_with}; restore it with that version or a newer one"
        ) from None


def _open_keys_to_restore(root: Path, passphrase: str, manifest: Manifest) -> list[_OpenedKey]:
    try:
        opened = _open_keys(root, passphrase=passphrase, shown_as=Path("keys"))
    except BackupError as exc:
        raise BackupError(f"{exc}. Nothing was restored: set the passphrase the keys were made under") from None
    named = {key.verification_method for key in manifest.keys}
    if {key.verification_method for key in opened} != named:
        raise BackupError("the archive's key files are not the keys its manifest names: it was altered. Nothing was restored")
    return opened


async def _bring_schema_up(engine: AsyncEngine) -> Check:
    restored = await current_revision(engine)
    head = head_revision()
    if restored == head:
        return Check("schema", True, f"at {head}, this version's newest")
    try:
        await upgrade(engine)
    except Exception as exc:  # a failed migration is reported, not a traceback
        return Check("schema", False, f"at {restored}; bringing it to {head} failed: {type(exc).__name__}: {exc}")
    return Check("schema", True, f"upgraded from {restored} to {head}")


async def _check_key_references(sessions: async_sessionmaker[AsyncSession], keys: list[_OpenedKey]) -> list[Check]:
    methods = {key.verification_method for key in keys}
    # A VC-API credential signed as a did:key names the key under its did:key: did:key:zX#zX.
    public = {key.public_key_multibase for key in keys}

    def present(method: str) -> bool:
        if method in methods:
            return True
        did, _, fragment = method.partition("#")
        return did.startswith("did:key:") and did.removeprefix("did:key:") == fragment and fragment in public

    async with sessions() as session:
        current = await repository.issuer_keys(session)
        signed = await repository.proof_keys(session)
    checks = []
    lacking = sorted(f"{issuer} ({key})" for issuer, key in current.items() if not present(key))
    checks.append(Check(
        "issuer keys",
        not lacking,
        f"every issuer's current key is in the key store ({len(current)} issuers)" if not lacking
        else f"{len(lacking)} issuers' current keys are missing from the key store: {', '.join(lacking[:5])}",
    ))
    missing = sorted(method for method in signed if not present(method))
    checks.append(Check(
        "signing keys",
        not missing,
        f"every key the stored credentials and status lists were signed with is in the key store ({len(signed)} keys)" if not missing
        else f"{len(missing)} keys that signed stored credentials are missing, so those credentials cannot be verified: {', '.join(missing[:5])}",
    ))
    return checks
