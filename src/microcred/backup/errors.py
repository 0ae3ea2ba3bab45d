"""What goes wrong in a backup or a restore, said so an operator can act on it."""

from __future__ import annotations

__all__ = ["BackupError"]


class BackupError(Exception):
    """A backup cannot be written, or an archive cannot be restored; the message says why and,
    where there is one, what to do. Raised before anything is written where that can be known."""
