"""Backup and restore of a whole installation: the database, the key store and a manifest in one
archive (``microcred backup``/``restore``), and the start-up warning about keys no backup holds."""

from .errors import BackupError
from .record import backup_warning
from .service import FAILURES, BackupReport, Check, RestoreReport, describe, make_backup, restore_backup

__all__ = [
    "FAILURES", "BackupError", "BackupReport", "Check", "RestoreReport", "backup_warning", "describe", "make_backup",
    "restore_backup",
]
