"""Ed25519 keys on disk, one JSON file per key, private keys encrypted under a passphrase.

Layout: ``<root>/<issuer slug>/<key id>.json``, where the key id is the key's
publicKeyMultibase (``z6Mk...``) and the verification method id is ``<issuer DID>#<key id>``
(what Digital Bazaar's ed25519-multikey derives from a controller and a key, and what did:key
uses). The seed is sealed with AES-256-GCM under a key derived by scrypt (n=2**15, r=8, p=1)
from the passphrase and a per-key salt; the key id and issuer are the associated data, so a
file copied to another issuer or renamed to another key no longer decrypts.

Files are written to a temporary name and renamed (a crash leaves the old file or the new one,
never half of one), with mode 0600 in directories with mode 0700.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from microcred.credentials.did import PublishedKey, controller_document, did_web_to_url
from microcred.credentials.errors import CredentialError
from microcred.credentials.keys import Ed25519KeyPair, Signer, did_key_document, did_key_from_public
from microcred.credentials.timeutil import format_datetime, parse_datetime

from .base import KeyStoreError

__all__ = ["PASSPHRASE_ENV", "FileKeyStore", "KeyFile", "ensure_development_key", "key_files"]

#: The environment variable the service reads the passphrase from (named in error messages).
PASSPHRASE_ENV = "MICROCRED_KEY_PASSPHRASE"

_FORMAT = "microcred-key/1"
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1
_SALT_BYTES, _NONCE_BYTES, _SEED_BYTES = 16, 12, 32
_CIPHERTEXT_BYTES = _SEED_BYTES + 16  # AES-GCM appends a 16-byte tag


@dataclass(frozen=True)
class _Sealed:
    """The encrypted seed and how to open it."""

    salt: bytes
    n: int
    r: int
    p: int
    nonce: bytes
    ciphertext: bytes


@dataclass(frozen=True)
class _Record:
    """One key file, parsed."""

    path: Path
    id: str
    issuer: str
    created: datetime
    valid_from: datetime
    retired_at: datetime | None
    public_key_multibase: str
    sealed: _Sealed

    @property
    def vm_id(self) -> str:
        return f"{self.issuer}#{self.id}"

    def published(self) -> PublishedKey:
        return PublishedKey(
            id=self.vm_id,
            controller=self.issuer,
            public_key_multibase=self.public_key_multibase,
            valid_from=self.valid_from,
            valid_until=self.retired_at,
        )


@dataclass(frozen=True)
class KeyFile:
    """One key file as stored, listed without the passphrase (nothing in it is decrypted): what a
    backup names, and what the service compares with its last backup when it starts."""

    path: Path
    verification_method: str
    issuer: str
    created: datetime


def key_files(root: Path) -> list[KeyFile]:
    """Every key file under ``root``, by path; a malformed one raises :class:`KeyStoreError`."""
    if not Path(root).is_dir():
        return []
    found = []
    for directory in sorted(Path(root).iterdir()):
        if directory.is_dir() and not directory.name.startswith("."):
            found += [
                KeyFile(path=r.path, verification_method=r.vm_id, issuer=r.issuer, created=r.created)
                for r in _read_dir(directory)
            ]
    return found


class FileKeyStore:
    """A :class:`~microcred.keystore.KeyStore` on the local filesystem.

    Every key the store reports has been decrypted with this passphrase and checked against its
    public key, so a wrong passphrase or an edited file fails at the first call, not at signing.
    Derived scrypt keys are cached per salt for the life of the instance (scrypt is meant to be
    slow; signing must not be).
    """

    def __init__(self, root: Path, *, passphrase: str) -> None:
        if not isinstance(passphrase, str) or not passphrase:
            raise ValueError(f"a key store needs a non-empty passphrase (set {PASSPHRASE_ENV})")
        self._root = Path(root)
        self._passphrase = passphrase.encode("utf-8")
        self._derived: dict[tuple[bytes, int, int, int], bytes] = {}
        self._signers: dict[str, Signer] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never print the passphrase or derived keys
        return f"FileKeyStore(root={str(self._root)!r})"

    # -- creating keys ----------------------------------------------------------------------------
    def generate(self, issuer: str, *, now: datetime) -> PublishedKey:
        """Create the first key of a did:web issuer."""
        _check_did_web(issuer)
        with self._lock:
            if self._records(issuer):
                raise KeyStoreError(f"{issuer} already has keys: rotate instead of generating")
            self._check_passphrase()
            return self._create(issuer, now=now).published()

    def generate_did_key(self, *, now: datetime) -> PublishedKey:
        """Create a key whose issuer is the did:key of the key itself."""
        seed = secrets.token_bytes(_SEED_BYTES)
        issuer = did_key_from_public(Ed25519KeyPair.from_seed(seed).public_key)
        with self._lock:
            self._check_passphrase()
            return self._create(issuer, now=now, seed=seed).published()

    def rotate(self, issuer: str, *, now: datetime) -> PublishedKey:
        """Make a new key current and retire the previous one at ``now``.

        The new key is written before the old one is marked retired: a crash in between leaves
        two unretired keys, of which the newer is current, and the next rotation retires both.
        """
        if issuer.startswith("did:key:"):
            raise KeyStoreError(f"{issuer} cannot rotate: a did:key is its key; create a new did:key issuer")
        with self._lock:
            records = self._records(issuer)
            if not records:
                raise KeyStoreError(f"{issuer} has no keys: generate one first")
            current = _current(records, issuer)
            self._key_pair(current)  # never add a key under a passphrase the others do not share
            if _floor_second(now) < current.valid_from:
                raise ValueError(f"rotation time {now.isoformat()} precedes the current key's {current.valid_from.isoformat()}")
            new = self._create(issuer, now=now)
            retired_at = _ceil_second(now)
            for record in records:
                if record.retired_at is None:
                    self._write(record, retired_at=retired_at)
            return new.published()

    # -- using keys -------------------------------------------------------------------------------
    def signer(self, issuer: str) -> Signer:
        """The current key's signer; ``signer.id`` is ``<issuer>#<publicKeyMultibase>``."""
        record = _current(self._records(issuer), issuer)
        return self._key_pair(record).signer()

    def signer_for(self, verification_method: str) -> Signer:
        """The signer of one named key, kept in memory after the first call: the service knows
        which key is current from its database, so signing reads no file and derives no key.
        Whether that key may still sign is the caller's to decide."""
        signer = self._signers.get(verification_method)
        if signer is None:
            issuer = verification_method.split("#", 1)[0]
            found = [r for r in self._records(issuer) if r.vm_id == verification_method]
            if not found:
                raise KeyStoreError(f"no key {verification_method} in the key store")
            signer = self._key_pair(found[0]).signer()
            self._signers[verification_method] = signer
        return signer

    def current_key(self, issuer: str) -> PublishedKey:
        """The key that signs now."""
        record = _current(self._records(issuer), issuer)
        self._key_pair(record)
        return record.published()

    def published_keys(self, issuer: str) -> list[PublishedKey]:
        """Every key of ``issuer``, oldest first (empty for an unknown issuer)."""
        records = self._records(issuer)
        for record in records:
            self._key_pair(record)  # authenticate every key we publish
        return [r.published() for r in records]

    def did_document(self, issuer: str) -> dict[str, Any]:
        """The DID document to serve: did:key's fixed form, or every key for a did:web."""
        keys = self.published_keys(issuer)
        if not keys:
            raise KeyStoreError(f"no keys for {issuer}")
        if issuer.startswith("did:key:"):
            return did_key_document(issuer)
        return controller_document(issuer, keys)

    def issuers(self) -> list[str]:
        """Every issuer with at least one key file under the root, sorted."""
        if not self._root.is_dir():
            return []
        found: set[str] = set()
        for directory in self._root.iterdir():
            if directory.is_dir() and not directory.name.startswith("."):
                found.update(record.issuer for record in self._read_dir(directory))
        return sorted(found)

    # -- files ------------------------------------------------------------------------------------
    def _records(self, issuer: str) -> list[_Record]:
        directory = self._root / _slug(issuer)
        records = self._read_dir(directory) if directory.is_dir() else []
        for record in records:
            if record.issuer != issuer:
                raise KeyStoreError(f"key file {record.path} names issuer {record.issuer}, not {issuer}")
        return sorted(records, key=lambda r: (r.valid_from, r.created, r.id))

    def _read_dir(self, directory: Path) -> list[_Record]:
        return _read_dir(directory)

    def _create(self, issuer: str, *, now: datetime, seed: bytes | None = None) -> _Record:
        seed = seed or secrets.token_bytes(_SEED_BYTES)
        public_key_multibase = Ed25519KeyPair.from_seed(seed).public_key_multibase
        valid_from = _floor_second(now)
        record = _Record(
            path=self._root / _slug(issuer) / f"{public_key_multibase}.json",
            id=public_key_multibase,
            issuer=issuer,
            created=valid_from,
            valid_from=valid_from,
            retired_at=None,
            public_key_multibase=public_key_multibase,
            sealed=self._seal(seed, key_id=public_key_multibase, issuer=issuer),
        )
        if record.path.exists():
            raise KeyStoreError(f"key file {record.path} already exists")
        self._write(record, retired_at=None)
        return record

    def _write(self, record: _Record, *, retired_at: datetime | None) -> None:
        _make_private_dir(self._root, existing_too=False)  # may hold other files, e.g. a README
        _make_private_dir(record.path.parent, existing_too=True)
        _write_atomically(record.path, _serialize(record, retired_at=retired_at))

    def _check_passphrase(self) -> None:
        """Refuse to add keys under a passphrase that cannot open the keys already here."""
        for issuer in self.issuers():
            records = self._records(issuer)
            if records:
                self._key_pair(records[0])
                return

    # -- encryption -------------------------------------------------------------------------------
    def _derive(self, salt: bytes, n: int, r: int, p: int) -> bytes:
        cache_key = (salt, n, r, p)
        key = self._derived.get(cache_key)
        if key is None:
            key = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(self._passphrase)
            self._derived[cache_key] = key
        return key

    def _seal(self, seed: bytes, *, key_id: str, issuer: str) -> _Sealed:
        salt, nonce = secrets.token_bytes(_SALT_BYTES), secrets.token_bytes(_NONCE_BYTES)
        key = self._derive(salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
        ciphertext = AESGCM(key).encrypt(nonce, seed, _associated_data(key_id, issuer))
        return _Sealed(salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, nonce=nonce, ciphertext=ciphertext)

    def _key_pair(self, record: _Record) -> Ed25519KeyPair:
        sealed = record.sealed
        key = self._derive(sealed.salt, sealed.n, sealed.r, sealed.p)
        try:
            seed = AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, _associated_data(record.id, record.issuer))
        except InvalidTag:
            raise KeyStoreError(
                f"cannot decrypt key {record.path}: wrong {PASSPHRASE_ENV}? (or the file was edited or moved)"
            ) from None
        pair = Ed25519KeyPair.from_seed(seed, id=record.vm_id, controller=record.issuer)
        if pair.public_key_multibase != record.public_key_multibase:
            raise KeyStoreError(f"key file {record.path} publishes a public key that is not its own")
        return pair


def ensure_development_key(
    root: Path, *, passphrase: str, issuer: str | None = None, now: datetime | None = None
) -> PublishedKey:
    """The current key of ``issuer``, generated on first run only.

    With no issuer, the development issuer is a did:key (one per store, reused on later runs).
    ``root`` must not be committed (the repository ignores ``keys/``).
    """
    store = FileKeyStore(root, passphrase=passphrase)
    when = now or datetime.now(UTC)
    if issuer is None:
        existing = [i for i in store.issuers() if i.startswith("did:key:")]
        if not existing:
            return store.generate_did_key(now=when)
        issuer = existing[0]
    if not store.published_keys(issuer):
        return store.generate(issuer, now=when)
    return store.current_key(issuer)


# -- helpers ---------------------------------------------------------------------------------------

def _current(records: list[_Record], issuer: str) -> _Record:
    active = [r for r in records if r.retired_at is None]
    if not active:
        raise KeyStoreError(f"{issuer} has no current key" if records else f"no keys for {issuer}")
    return active[-1]  # records are sorted oldest first; after an interrupted rotation, the newer


def _read_dir(directory: Path) -> list[_Record]:
    records = []
    for path in sorted(directory.glob("*.json")):
        if path.name.startswith("."):
            continue  # an interrupted write's temporary file
        record = _parse(path)
        if directory.name != _slug(record.issuer):
            raise KeyStoreError(f"key file {path} belongs to {record.issuer}, not to directory {directory.name}")
        records.append(record)
    return records


def _check_did_web(issuer: str) -> None:
    try:
        did_web_to_url(issuer)
    except CredentialError as exc:
        raise ValueError(f"issuer must be a did:web (use generate_did_key for did:key): {exc.message}") from exc


def _slug(issuer: str) -> str:
    """A directory name for an issuer: readable, filesystem-safe, and unique by its hash."""
    readable = re.sub(r"[^A-Za-z0-9.-]+", "_", issuer)[:80]
    return f"{readable}-{hashlib.sha256(issuer.encode('utf-8')).hexdigest()[:12]}"


def _associated_data(key_id: str, issuer: str) -> bytes:
    return json.dumps([_FORMAT, key_id, issuer]).encode("utf-8")


def _floor_second(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: give a timezone-aware value")
    return value.astimezone(UTC).replace(microsecond=0)


def _ceil_second(value: datetime) -> datetime:
    """Retirement rounds up, so a proof its key made in the same second stays before it."""
    floor = _floor_second(value)
    return floor if floor == value else floor + timedelta(seconds=1)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: Any, *, length: int | None = None) -> bytes:
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not unpadded base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if length is not None and len(data) != length:
        raise ValueError(f"expected {length} bytes, got {len(data)}")
    return data


def _serialize(record: _Record, *, retired_at: datetime | None) -> dict[str, Any]:
    sealed = record.sealed
    return {
        "format": _FORMAT,
        "id": record.id,
        "issuer": record.issuer,
        "type": "Ed25519",
        "created": format_datetime(record.created),
        "valid_from": format_datetime(record.valid_from),
        "retired_at": None if retired_at is None else format_datetime(retired_at),
        "public_key_multibase": record.public_key_multibase,
        "private_key": {
            "kdf": "scrypt",
            "salt": _b64(sealed.salt),
            "n": sealed.n,
            "r": sealed.r,
            "p": sealed.p,
            "cipher": "AES-256-GCM",
            "nonce": _b64(sealed.nonce),
            "ciphertext": _b64(sealed.ciphertext),
        },
    }


def _parse(path: Path) -> _Record:
    try:
        data = json.loads(path.read_bytes())
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT or data.get("type") != "Ed25519":
            raise ValueError(f"not a {_FORMAT} Ed25519 key file")
        key_id, issuer = data["id"], data["issuer"]
        if not isinstance(key_id, str) or path.name != f"{key_id}.json":
            raise ValueError("the file name is not the key id")
        if not isinstance(issuer, str) or not issuer.startswith("did:"):
            raise ValueError("issuer is not a DID")
        if data["public_key_multibase"] != key_id:
            raise ValueError("the key id is not the public key")
        sealed = data["private_key"]
        if not isinstance(sealed, Mapping) or sealed.get("kdf") != "scrypt" or sealed.get("cipher") != "AES-256-GCM":
            raise ValueError("private_key must be scrypt + AES-256-GCM")
        n, r, p = sealed["n"], sealed["r"], sealed["p"]
        # bounds keep an edited file from making scrypt take gigabytes or hours
        if not all(isinstance(v, int) for v in (n, r, p)) or not (
            2 <= n <= 2**20 and math.log2(n).is_integer() and 1 <= r <= 32 and 1 <= p <= 16
        ):
            raise ValueError("scrypt parameters out of range")
        retired = data["retired_at"]
        return _Record(
            path=path,
            id=key_id,
            issuer=issuer,
            created=parse_datetime(data["created"], field="created"),
            valid_from=parse_datetime(data["valid_from"], field="valid_from"),
            retired_at=None if retired is None else parse_datetime(retired, field="retired_at"),
            public_key_multibase=key_id,
            sealed=_Sealed(
                salt=_unb64(sealed["salt"]),
                n=n,
                r=r,
                p=p,
                nonce=_unb64(sealed["nonce"], length=_NONCE_BYTES),
                ciphertext=_unb64(sealed["ciphertext"], length=_CIPHERTEXT_BYTES),
            ),
        )
    except (OSError, ValueError, KeyError, TypeError, CredentialError) as exc:
        detail = exc.message if isinstance(exc, CredentialError) else str(exc)
        raise KeyStoreError(f"key file {path} is unreadable or malformed: {detail}") from None


def _make_private_dir(path: Path, *, existing_too: bool) -> None:
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask
    elif existing_too:
        os.chmod(path, 0o700)


def _write_atomically(path: Path, data: Mapping[str, Any]) -> None:
    payload = (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)
