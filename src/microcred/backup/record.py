"""The record of the key store's last backup, and the warning the service logs when it starts
with a key no backup holds.

Losing the key store makes every credential its keys signed unverifiable (a verifier finds no
key for the proof), so a key made after the last backup (a new issuer, a rotation) is a risk an
operator should hear about. ``microcred backup`` (and a successful ``microcred restore``, whose
archive holds the keys it restored) writes ``.last-backup.json`` into the key store folder with
the keys the archive holds; at start the service compares it with the key files it finds.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..keystore import KeyStoreError, key_files

__all__ = ["RECORD_FILE", "BackupRecord", "backup_warning", "read_record", "write_record"]

RECORD_FILE = ".last-backup.json"
_FORMAT = "microcred-backup-record/1"


@dataclass(frozen=True)
class BackupRecord:
    at: datetime
    archive: str
    archive_sha256: str
    #: The verification method ids of the keys the archive holds.
    keys: frozenset[str]
    #: The keys came back from this archive (a restore), rather than went into it.
    restored: bool = False


def write_record(keys_dir: Path, record: BackupRecord) -> None:
    payload = {
        "format": _FORMAT,
        "at": record.at.isoformat(),
        "archive": record.archive,
        "archive_sha256": record.archive_sha256,
        "restored": record.restored,
        "keys": sorted(record.keys),
    }
    target = keys_dir / RECORD_FILE
    partial = keys_dir / f".{RECORD_FILE}.{secrets.token_hex(4)}.tmp"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2)
            handle.write("\n")
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def read_record(keys_dir: Path) -> BackupRecord | None:
    """The last backup's record, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads((keys_dir / RECORD_FILE).read_bytes())
        if data.get("format") != _FORMAT:
            return None
        return BackupRecord(
            at=datetime.fromisoformat(data["at"]),
            archive=str(data["archive"]),
            archive_sha256=str(data["archive_sha256"]),
            keys=frozenset(str(key) for key in data["keys"]),
            restored=bool(data.get("restored", False)),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def backup_warning(keys_dir: Path) -> str | None:
    """What to warn about at start: a key store with keys and no backup, or keys newer than its
    last backup. None when every key is in the last backup (or there are no keys yet)."""
    try:
        stored = key_files(keys_dir)
    except KeyStoreError:
        return None  # an unreadable key file is /readyz's to report, and the service's first signing's
    if not stored:
        return None
    record = read_record(keys_dir)
    advice = "run `microcred backup FILE` and keep the archive, and the passphrase, somewhere else (README: Backup and restore)"
    if record is None:
        return (
            f"the key store {keys_dir} ({len(stored)} keys) has no backup: if it is lost, every credential its keys "
            f"signed stops verifying; {advice}"
        )
    missing = [key for key in stored if key.verification_method not in record.keys]
    if not missing:
        return None
    newest = max(missing, key=lambda key: key.created)
    return (
        f"the key store {keys_dir} has {len(missing)} key(s) made after its last backup ({record.at.isoformat()}, "
        f"{record.archive}), the newest {newest.verification_method} of {newest.created.isoformat()}; {advice}"
    )
