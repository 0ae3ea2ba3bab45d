"""One backup archive: a gzip'd tar holding ``manifest.json``, ``database/<dump>`` and
``keys/<the key store's files>``, and the manifest that describes it.

The manifest names every other member with its SHA-256 and size. Reading an archive refuses any
member the manifest does not name, any it names that is missing, any hash or size that differs,
and any member that is not a plain file under a plain relative name (no links, no ``..``): what
a damaged or edited archive would show. The hashes find damage, not forgery: whoever can write
the archive can rewrite its manifest too, so backups belong where only operators can write.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import tarfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import BackupError

__all__ = ["FORMAT", "MANIFEST", "DatabaseEntry", "FileEntry", "KeyEntry", "Manifest", "hash_file", "read_archive", "write_archive"]

FORMAT = "microcred-backup/1"
MANIFEST = "manifest.json"
_TOP_LEVEL = ("database", "keys")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    bytes: int


@dataclass(frozen=True)
class DatabaseEntry:
    #: ``sqlite`` or ``postgresql``: a dump restores into the same kind of database.
    kind: str
    #: The Alembic revision the snapshot is at (read inside the snapshot).
    revision: str
    #: The member holding the dump, and how it was made (``sqlite3 online backup``, ``pg_dump 15.2 custom``).
    file: str
    made_by: str


@dataclass(frozen=True)
class KeyEntry:
    verification_method: str
    issuer: str
    #: The public key: the key's fingerprint, and the end of its verification method id.
    public_key_multibase: str
    valid_from: str
    valid_until: str | None
    file: str


@dataclass(frozen=True)
class Manifest:
    microcred_version: str
    created_at: datetime
    database: DatabaseEntry
    keys: list[KeyEntry]
    files: dict[str, FileEntry]

    def to_json(self) -> bytes:
        document = {
            "format": FORMAT,
            "microcred_version": self.microcred_version,
            "created_at": self.created_at.isoformat(),
            "database": vars(self.database),
            "key_passphrase": "not included: keep MICROCRED_KEY_PASSPHRASE elsewhere; every key in keys/ opens only with it",
            "keys": [vars(key) for key in self.keys],
            "files": {name: vars(entry) for name, entry in sorted(self.files.items())},
        }
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            document = json.loads(data)
            if not isinstance(document, Mapping) or document.get("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} manifest")
            files = document["files"]
            if not isinstance(files, Mapping):
                raise ValueError("files is not an object")
            return cls(
                microcred_version=str(document["microcred_version"]),
                created_at=datetime.fromisoformat(document["created_at"]),
                database=DatabaseEntry(**_fields(document["database"], DatabaseEntry)),
                keys=[KeyEntry(**_fields(key, KeyEntry)) for key in document["keys"]],
                files={str(name): FileEntry(**_fields(entry, FileEntry)) for name, entry in files.items()},
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"the archive's {MANIFEST} is not a microcred backup manifest ({exc})") from None


def _fields(value: Any, kind: type[Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(kind)}
    if not isinstance(value, Mapping) or set(value) != names:
        raise ValueError(f"expected the fields {sorted(names)}")
    return dict(value)


def hash_file(path: Path) -> FileEntry:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileEntry(sha256=digest.hexdigest(), bytes=size)


def write_archive(path: Path, *, staging: Path, manifest: Manifest) -> None:
    """Write ``manifest`` and the files it names (relative to ``staging``) to ``path``, readable
    by its owner alone (it holds the whole database); a crash leaves no half archive there."""
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            body = manifest.to_json()
            tar.addfile(_member(MANIFEST, len(body), manifest.created_at), io.BytesIO(body))
            for name in sorted(manifest.files):
                with (staging / name).open("rb") as handle:
                    tar.addfile(_member(name, manifest.files[name].bytes, manifest.created_at), handle)
            tar.close()  # writes the gzip trailer before the file is synced
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _member(name: str, size: int, at: datetime) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(at.timestamp())
    return info


def read_archive(path: Path, *, into: Path) -> Manifest:
    """Unpack ``path`` into the empty directory ``into``, checking every file against the
    manifest; raise :class:`BackupError` naming the first thing that does not hold."""
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            found: dict[str, FileEntry] = {}
            manifest_bytes: bytes | None = None
            for member in tar:
                name = _safe_name(member)
                source = tar.extractfile(member)
                assert source is not None  # a regular file, checked by _safe_name
                if name == MANIFEST:
                    manifest_bytes = source.read()
                    continue
                target = into / name
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                digest, size = hashlib.sha256(), 0
                with open(target, "xb") as out:
                    os.fchmod(out.fileno(), 0o600)
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                found[name] = FileEntry(sha256=digest.hexdigest(), bytes=size)
    except FileNotFoundError:
        raise BackupError(f"no such file: {path}") from None
    except FileExistsError as exc:
        raise BackupError(f"{path} holds {exc.filename} twice: it was not written by microcred backup") from None
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(f"{path} is damaged or not a microcred backup (a .tar.gz): {exc}") from None
    if manifest_bytes is None:
        raise BackupError(f"{path} has no {MANIFEST}: it is not a microcred backup")
    manifest = Manifest.from_json(manifest_bytes)
    for name, expected in sorted(manifest.files.items()):
        got = found.get(name)
        if got is None:
            raise BackupError(f"{path} is incomplete: {name}, named in its manifest, is missing")
        if got != expected:
            raise BackupError(
                f"{path} is damaged or was altered: {name} has SHA-256 {got.sha256} ({got.bytes} bytes), "
                f"its manifest says {expected.sha256} ({expected.bytes} bytes)"
            )
    extra = sorted(set(found) - set(manifest.files))
    if extra:
        raise BackupError(f"{path} holds files its manifest does not name ({', '.join(extra[:3])}): it was altered")
    if manifest.database.file not in manifest.files or any(key.file not in manifest.files for key in manifest.keys):
        raise BackupError(f"{path}: its manifest names a database dump or key file the archive does not hold")
    return manifest


def _safe_name(member: tarfile.TarInfo) -> str:
    """A member's name, if it is a plain file at a plain relative path we write ourselves."""
    path = PurePosixPath(member.name)
    if (
        not member.isreg()
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in member.name.split("/"))
        or "\\" in member.name
        or (member.name != MANIFEST and (len(path.parts) < 2 or path.parts[0] not in _TOP_LEVEL))
    ):
        raise BackupError(f"the archive holds {member.name!r}, which microcred backup never writes: refused")
    return member.name
