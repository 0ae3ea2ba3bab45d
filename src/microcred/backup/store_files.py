"""The key store half of a backup: its files copied as they are stored (every private key still
sealed under the passphrase, which is never copied), and put back on restore.

Names that start with a dot are left out: interrupted writes' temporary files, the record of the
last backup, keys moved aside by a forced restore, and ``.dev-passphrase`` (the development
passphrase ``make run`` keeps there), which must never travel with the keys it opens.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path


__all__ = ["copy_store", "install_store", "occupied_entries"]

#: A README about the folder (the repository ships one in keys/) is not a key.
_NOT_KEYS = frozenset({"README.md"})


def copy_store(keys_dir: Path, into: Path) -> list[str]:
    """Copy the key store's files into ``into``; their paths relative to it, sorted. A store not
    made yet (no issuer so far) is an empty one."""
    into.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not keys_dir.is_dir():
        return []
    copied = []
    for path in sorted(_files(keys_dir)):
        relative = path.relative_to(keys_dir)
        target = into / relative
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        os.chmod(target, 0o600)
        copied.append(relative.as_posix())
    return copied


def _files(root: Path) -> list[Path]:
    found = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = [d for d in subdirectories if not d.startswith(".")]
        found += [Path(directory) / name for name in names if not name.startswith(".")]
    return found


def occupied_entries(keys_dir: Path) -> list[str]:
    """What the key store folder holds that a restore would mix its keys with."""
    if not keys_dir.is_dir():
        return []
    return sorted(e.name for e in keys_dir.iterdir() if not e.name.startswith(".") and e.name not in _NOT_KEYS)


def install_store(staged: Path, keys_dir: Path, *, now: datetime) -> Path | None:
    """Put the staged key files into ``keys_dir``. Whatever the folder held is first moved into
    ``.replaced-<time>/`` inside it (a key is never deleted: it may be the only copy of one that
    signed credentials); returns that folder, or None when there was nothing to move."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    present = [e for e in keys_dir.iterdir() if not e.name.startswith(".")]
    aside = None
    if present:
        aside = keys_dir / f".replaced-{now.strftime('%Y%m%dT%H%M%SZ')}"
        aside.mkdir(mode=0o700)
        for entry in present:
            entry.rename(aside / entry.name)
    for path in sorted(_files(staged)):
        target = keys_dir / path.relative_to(staged)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.restore.tmp")
        shutil.copyfile(path, partial)
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    return aside
