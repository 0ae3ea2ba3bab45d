"""Key custody: the KeyStore seam and an encrypted-at-rest store on disk.

Not part of the pure credential core: it touches the filesystem. It hands out Signers and public
keys, never secret bytes.
"""

from .base import KeyStore, KeyStoreError
from .file_store import PASSPHRASE_ENV, FileKeyStore, KeyFile, ensure_development_key, key_files

__all__ = ["PASSPHRASE_ENV", "FileKeyStore", "KeyFile", "KeyStore", "KeyStoreError", "ensure_development_key", "key_files"]
