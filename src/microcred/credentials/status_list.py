"""W3C Bitstring Status List v1.0: the bitstring, its entries, the list credential and the check.

https://www.w3.org/TR/vc-bitstring-status-list/

The bitstring is GZIP-compressed and then multibase base64url-encoded (``u`` prefix). Index 0
is the left-most bit, the most significant bit of the first byte. A list holds at least
131,072 entries so that one credential hides in a large group ("herd privacy"). An entry is
``statusSize`` bits wide (default 1), most significant bit first.

Terms used here: *length* is the number of entries, so a list of ``length`` entries of
``status_size`` bits holds ``length * status_size`` bits.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import zlib
from collections.abc import Callable, Mapping
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import MalformedError
from .timeutil import format_datetime, parse_datetime

__all__ = [
    "MAX_BITSTRING_BYTES",
    "MIN_LENGTH",
    "PURPOSES",
    "BitstringStatusList",
    "StatusResult",
    "check_status",
    "status_entry",
    "status_list_credential",
]

#: The spec's minimum number of entries (16 KB of 1-bit entries).
MIN_LENGTH = 131_072

#: Hard cap on the uncompressed bitstring, so a GZIP bomb cannot exhaust memory.
MAX_BITSTRING_BYTES = 16 * 1024 * 1024

#: The status purposes the spec defines; we support no others.
PURPOSES = frozenset({"refresh", "revocation", "suspension", "message"})

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_TYPE = "BitstringStatusList"

# Error codes from the spec (Section 3.5) and VC 2.0; UNSUPPORTED_STATUS_TYPE is ours.
MALFORMED_VALUE_ERROR = "MALFORMED_VALUE_ERROR"
RANGE_ERROR = "RANGE_ERROR"
STATUS_RETRIEVAL_ERROR = "STATUS_RETRIEVAL_ERROR"
STATUS_VERIFICATION_ERROR = "STATUS_VERIFICATION_ERROR"
STATUS_LIST_LENGTH_ERROR = "STATUS_LIST_LENGTH_ERROR"
UNSUPPORTED_STATUS_TYPE = "UNSUPPORTED_STATUS_TYPE"

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_INDEX = re.compile(r"[0-9]+")
# An index with more digits lies past the largest list MAX_BITSTRING_BYTES allows.
_MAX_INDEX_DIGITS = 20
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_HEX_STATUS = re.compile(r"0x[0-9A-Fa-f]+")
# base64 of the largest bitstring GZIP could leave incompressible, plus header room.
_MAX_ENCODED_CHARS = (MAX_BITSTRING_BYTES + 64 * 1024) * 4 // 3 + 4


def _short(value: object) -> str:
    """repr() cut to a readable size: error messages must not echo megabytes of input."""
    try:
        text = repr(value)
    except ValueError:  # an int too long for str(); JSON parsers refuse these, Python callers may not
        return f"<{type(value).__name__} too large to show>"
    return text if len(text) <= 80 else text[:77] + "..."


def _require_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return value


class BitstringStatusList:
    """A mutable status bitstring with O(1) reads and writes on a bytearray."""

    __slots__ = ("_bits", "_length", "_status_size")

    def __init__(self, *, length: int = MIN_LENGTH, status_size: int = 1) -> None:
        _require_int(length, "length")
        _require_int(status_size, "status_size")
        if status_size < 1:
            raise ValueError(f"status_size must be at least 1, got {status_size}")
        if length < MIN_LENGTH:
            raise ValueError(f"length must be at least {MIN_LENGTH} entries for group privacy, got {length}")
        if length % 8:
            raise ValueError(f"length must be a multiple of 8, got {length}")
        size = length * status_size // 8
        if size > MAX_BITSTRING_BYTES:
            raise ValueError(f"a list of {size} bytes exceeds the {MAX_BITSTRING_BYTES}-byte cap verifiers apply")
        self._bits = bytearray(size)
        self._length = length
        self._status_size = status_size

    @classmethod
    def _wrap(cls, bits: bytearray, *, status_size: int) -> BitstringStatusList:
        self = cls.__new__(cls)
        self._bits = bits
        self._length = len(bits) * 8 // status_size
        self._status_size = status_size
        return self

    @classmethod
    def from_bytes(cls, bits: bytes, *, status_size: int = 1) -> BitstringStatusList:
        """A list over stored, uncompressed bits (as :meth:`to_bytes` gave them)."""
        data = bytearray(bits)
        _check_length(data, status_size)
        return cls._wrap(data, status_size=status_size)

    def to_bytes(self) -> bytes:
        return bytes(self._bits)

    @property
    def length(self) -> int:
        """Number of entries (not bits, unless ``status_size`` is 1)."""
        return self._length

    @property
    def status_size(self) -> int:
        return self._status_size

    def __repr__(self) -> str:
        return f"BitstringStatusList(length={self._length}, status_size={self._status_size})"

    def _first_bit(self, index: int) -> int:
        _require_int(index, "index")
        if not 0 <= index < self._length:
            raise IndexError(f"status index {index} is outside the list of {self._length} entries")
        return index * self._status_size

    def get(self, index: int) -> int:
        """The status value of entry ``index`` (0 or 1 when status_size is 1)."""
        bit = self._first_bit(index)
        if self._status_size == 1:
            return (self._bits[bit >> 3] >> (7 - (bit & 7))) & 1
        value = 0
        for pos in range(bit, bit + self._status_size):
            value = (value << 1) | ((self._bits[pos >> 3] >> (7 - (pos & 7))) & 1)
        return value

    def set(self, index: int, value: int) -> None:
        """Set entry ``index`` to ``value`` (0 <= value < 2**status_size)."""
        bit = self._first_bit(index)
        _require_int(value, "value")
        if not 0 <= value < (1 << self._status_size):
            raise ValueError(f"value {value} does not fit in {self._status_size} status bit(s)")
        for offset in range(self._status_size):
            pos = bit + offset
            mask = 0x80 >> (pos & 7)
            if (value >> (self._status_size - 1 - offset)) & 1:
                self._bits[pos >> 3] |= mask
            else:
                self._bits[pos >> 3] &= ~mask & 0xFF

    def encode(self) -> str:
        """The ``encodedList`` value. GZIP mtime is 0, so the same bits give the same string."""
        compressed = gzip.compress(bytes(self._bits), mtime=0)
        return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, encoded: str, *, status_size: int = 1) -> BitstringStatusList:
        """Expand an ``encodedList``; raise MalformedError if it is not one we can trust."""
        _require_int(status_size, "status_size")
        if status_size < 1:
            raise ValueError(f"status_size must be at least 1, got {status_size}")
        bits = _expand(encoded)
        _check_length(bits, status_size)
        return cls._wrap(bits, status_size=status_size)


def _expand(encoded: object) -> bytearray:
    """Bitstring Expansion Algorithm (spec 3.4), bounded by MAX_BITSTRING_BYTES."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise MalformedError(
            "encodedList must be a multibase base64url string starting with 'u'", pointer="encodedList"
        )
    body = encoded[1:]
    if len(body) > _MAX_ENCODED_CHARS:
        raise MalformedError("encodedList is larger than any status list we accept", pointer="encodedList")
    if not _BASE64URL.fullmatch(body) or len(body) % 4 == 1:
        raise MalformedError("encodedList is not base64url without padding", pointer="encodedList")
    try:
        data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedError("encodedList is not base64url without padding", pointer="encodedList") from exc
    if not data:
        raise MalformedError("encodedList is empty", pointer="encodedList")
    out = bytearray()
    # A gzip file may hold several members (RFC 1952 2.2); each is inflated under the same cap.
    while data:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        while not inflater.eof:
            try:
                chunk = inflater.decompress(data, MAX_BITSTRING_BYTES + 1 - len(out))
            except zlib.error as exc:
                raise MalformedError(f"encodedList is not valid GZIP data: {exc}", pointer="encodedList") from exc
            out += chunk
            if len(out) > MAX_BITSTRING_BYTES:
                raise MalformedError(
                    f"encodedList expands past the {MAX_BITSTRING_BYTES}-byte cap", pointer="encodedList"
                )
            data = inflater.unconsumed_tail
            if not chunk and not data and not inflater.eof:
                raise MalformedError("encodedList GZIP data is truncated", pointer="encodedList")
        data = inflater.unused_data
    return out


def _check_length(bits: bytearray, status_size: int) -> None:
    entries = len(bits) * 8 // status_size
    if entries < MIN_LENGTH:
        raise MalformedError(
            f"status list has {entries} entries of {status_size} bit(s); "
            f"at least {MIN_LENGTH} are required for group privacy",
            pointer="encodedList",
        )


def status_entry(
    *,
    purpose: str,
    index: int,
    list_url: str,
    status_size: int = 1,
    status_messages: list[str] | None = None,
) -> dict[str, Any]:
    """A ``BitstringStatusListEntry`` for a credential's ``credentialStatus``.

    ``status_messages`` are the messages for values 0, 1, ...; they are required when
    ``status_size`` is above 1 (one per possible value) and rendered as ``statusMessage``.
    """
    _check_purpose(purpose)
    _require_int(index, "index")
    if index < 0:
        raise ValueError(f"index must be non-negative, got {index}")
    _check_list_url(list_url)
    _require_int(status_size, "status_size")
    if status_size < 1:
        raise ValueError(f"status_size must be at least 1, got {status_size}")
    entry: dict[str, Any] = {
        "id": f"{list_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }
    if status_size > 1 or status_messages is not None:
        if status_messages is None:
            raise ValueError("status_messages are required when status_size is above 1")
        if status_size > 24 or len(status_messages) != 1 << status_size:
            raise ValueError(f"status_messages must hold 2**{status_size} messages, got {len(status_messages)}")
        if not all(isinstance(m, str) for m in status_messages):
            raise TypeError("status_messages must be strings")
        if status_size > 1:
            entry["statusSize"] = status_size
        entry["statusMessage"] = [{"status": hex(i), "message": m} for i, m in enumerate(status_messages)]
    return entry


def status_list_credential(
    *,
    list_id: str,
    issuer: str | dict[str, Any],
    purpose: str,
    status_list: BitstringStatusList,
    valid_from: datetime,
    valid_until: datetime | None = None,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential``; sign it like any other credential.

    Only the VC 2.0 context is needed: it defines every status list term.
    """
    _check_list_url(list_id, name="list_id")
    if not isinstance(issuer, str | dict):
        raise TypeError("issuer must be a URL string or an object with an id")
    _check_purpose(purpose)
    if not isinstance(status_list, BitstringStatusList):
        raise TypeError("status_list must be a BitstringStatusList")
    valid_from_text = format_datetime(valid_from)
    valid_until_text = None if valid_until is None else format_datetime(valid_until)
    if valid_until is not None and valid_until <= valid_from:
        raise ValueError("valid_until must be after valid_from")
    subject: dict[str, Any] = {
        "id": f"{list_id}#list",
        "type": LIST_TYPE,
        "statusPurpose": purpose,
        "encodedList": status_list.encode(),
    }
    if ttl_ms is not None:
        _require_int(ttl_ms, "ttl_ms")
        if ttl_ms <= 0:
            raise ValueError(f"ttl_ms must be positive, got {ttl_ms}")
        subject["ttl"] = ttl_ms
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": list_id,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": deepcopy(issuer),
        "validFrom": valid_from_text,
    }
    if valid_until_text is not None:
        credential["validUntil"] = valid_until_text
    credential["credentialSubject"] = subject
    return credential


def _check_purpose(purpose: object) -> None:
    if not isinstance(purpose, str):
        raise TypeError("purpose must be a string")
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {sorted(PURPOSES)}, got {purpose!r}")


def _check_list_url(url: object, *, name: str = "list_url") -> None:
    if not isinstance(url, str):
        raise TypeError(f"{name} must be a string")
    if not _URL.fullmatch(url) or "#" in url:
        raise ValueError(f"{name} must be an absolute URL without a fragment, got {url!r}")


@dataclass(frozen=True, slots=True)
class StatusResult:
    """The outcome of one ``credentialStatus`` entry.

    ``status`` is the value read from the list (0 means the status is not set) and is None
    when ``error`` says why it could not be read; ``code`` names the spec error.
    ``message`` is the entry's ``statusMessage`` text for that value, when it has one.
    """

    purpose: str | None
    index: int | None
    list_url: str | None
    status: int | None
    error: str | None = None
    code: str | None = None
    message: str | None = None


class _EntryError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class _Entry:
    purpose: str
    index: int
    list_url: str
    status_size: int
    messages: dict[int, str] | None


def check_status(
    credential: Mapping[str, Any],
    *,
    fetch_list: Callable[[str], Mapping[str, Any]],
    now: datetime | None = None,
) -> list[StatusResult]:
    """Run the spec's Validate Algorithm (3.2) on every entry of ``credentialStatus``.

    ``fetch_list(url)`` dereferences a ``statusListCredential`` URL and must return a list
    credential whose proof the caller has ALREADY verified (and whose issuer it trusts): this
    function checks the list's shape, purpose, validity period and bits, never its proof.
    Each URL is fetched once per call. Bad input never raises; it yields a result with
    ``error`` set. No entries gives an empty list.
    """
    if not isinstance(credential, Mapping):
        raise TypeError("credential must be a JSON object (dict)")
    if not callable(fetch_list):
        raise TypeError("fetch_list must be callable")
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    raw = credential.get("credentialStatus")
    if raw is None:
        return []
    if isinstance(raw, Mapping):
        raw_entries: list[Any] = [raw]
    elif isinstance(raw, list):
        raw_entries = raw
    else:
        error = "credentialStatus must be an object or a list of objects"
        return [StatusResult(None, None, None, None, error, MALFORMED_VALUE_ERROR)]
    lists = _ListCache(fetch_list, now)
    return [_check_entry(raw_entry, lists) for raw_entry in raw_entries]


def _check_entry(raw: object, lists: _ListCache) -> StatusResult:
    if not isinstance(raw, Mapping):
        return StatusResult(None, None, None, None, "credentialStatus entry must be an object", MALFORMED_VALUE_ERROR)
    purpose = raw.get("statusPurpose") if isinstance(raw.get("statusPurpose"), str) else None
    list_url = raw.get("statusListCredential") if isinstance(raw.get("statusListCredential"), str) else None
    index = _parse_index(raw.get("statusListIndex"))
    try:
        entry = _parse_entry(raw)
        status_list = lists.get(entry.list_url, entry.purpose, entry.status_size)
        if entry.index >= status_list.length:
            raise _EntryError(
                RANGE_ERROR,
                f"statusListIndex {entry.index} is outside the status list of {status_list.length} entries",
            )
        status = status_list.get(entry.index)
    except _EntryError as exc:
        return StatusResult(purpose, index, list_url, None, exc.message, exc.code)
    message = entry.messages.get(status) if entry.messages is not None else None
    return StatusResult(entry.purpose, entry.index, entry.list_url, status, message=message)


def _parse_index(value: object) -> int | None:
    if isinstance(value, str) and len(value) <= _MAX_INDEX_DIGITS and _INDEX.fullmatch(value):
        return int(value)
    return None


def _parse_entry(raw: Mapping[str, Any]) -> _Entry:
    """Validate a BitstringStatusListEntry (spec 2.1)."""
    types = raw.get("type")
    type_list = types if isinstance(types, list) else [types]
    if ENTRY_TYPE not in type_list:
        raise _EntryError(UNSUPPORTED_STATUS_TYPE, f"unsupported status type {_short(types)}")
    purpose = raw.get("statusPurpose")
    if not isinstance(purpose, str):
        raise _EntryError(MALFORMED_VALUE_ERROR, "statusPurpose must be a string")
    if purpose not in PURPOSES:
        raise _EntryError(MALFORMED_VALUE_ERROR, f"unsupported statusPurpose {_short(purpose)}")
    raw_index = raw.get("statusListIndex")
    index = _parse_index(raw_index)
    if index is None and isinstance(raw_index, str) and _INDEX.fullmatch(raw_index):
        raise _EntryError(RANGE_ERROR, f"statusListIndex {_short(raw_index)} is outside any status list")
    if index is None:
        raise _EntryError(
            MALFORMED_VALUE_ERROR,
            f"statusListIndex must be a non-negative base-10 integer string, got {_short(raw_index)}",
        )
    list_url = raw.get("statusListCredential")
    if not isinstance(list_url, str) or not _URL.fullmatch(list_url):
        raise _EntryError(MALFORMED_VALUE_ERROR, f"statusListCredential must be a URL, got {_short(list_url)}")
    if raw.get("id") == list_url:
        raise _EntryError(MALFORMED_VALUE_ERROR, "credentialStatus id must not be the status list URL")
    status_size = raw.get("statusSize", 1)
    if isinstance(status_size, bool) or not isinstance(status_size, int) or status_size < 1:
        raise _EntryError(MALFORMED_VALUE_ERROR, f"statusSize must be an integer above zero, got {_short(status_size)}")
    messages = _parse_messages(raw.get("statusMessage"), status_size)
    return _Entry(purpose, index, list_url, status_size, messages)


def _parse_messages(raw: object, status_size: int) -> dict[int, str] | None:
    if raw is None:
        if status_size > 1:
            raise _EntryError(MALFORMED_VALUE_ERROR, "statusMessage is required when statusSize is above 1")
        return None
    if not isinstance(raw, list) or status_size > 24 or len(raw) != 1 << status_size:
        raise _EntryError(MALFORMED_VALUE_ERROR, f"statusMessage must be an array of 2**{status_size} entries")
    messages: dict[int, str] = {}
    for item in raw:
        if (
            not isinstance(item, Mapping)
            or not isinstance(item.get("status"), str)
            or not _HEX_STATUS.fullmatch(item["status"])
            or not isinstance(item.get("message"), str)
        ):
            raise _EntryError(
                MALFORMED_VALUE_ERROR, 'each statusMessage needs a "status" (0x-hex string) and a "message" string'
            )
        messages[int(item["status"], 16)] = item["message"]
    return messages


class _ListCache:
    """Fetches, checks and decodes each status list credential once per check_status call."""

    def __init__(self, fetch_list: Callable[[str], Mapping[str, Any]], now: datetime) -> None:
        self._fetch = fetch_list
        self._now = now
        self._subjects: dict[str, tuple[frozenset[str], object] | _EntryError] = {}
        self._decoded: dict[tuple[str, int], BitstringStatusList | _EntryError] = {}

    def get(self, url: str, purpose: str, status_size: int) -> BitstringStatusList:
        if url not in self._subjects:
            try:
                self._subjects[url] = self._load(url)
            except _EntryError as exc:
                self._subjects[url] = exc
        loaded = self._subjects[url]
        if isinstance(loaded, _EntryError):
            raise loaded
        purposes, encoded = loaded
        if purpose not in purposes:
            raise _EntryError(
                STATUS_VERIFICATION_ERROR,
                f"status list {url} is for {sorted(purposes)}, not {purpose!r}",
            )
        key = (url, status_size)
        if key not in self._decoded:
            try:
                self._decoded[key] = self._decode(encoded, status_size)
            except _EntryError as exc:
                self._decoded[key] = exc
        decoded = self._decoded[key]
        if isinstance(decoded, _EntryError):
            raise decoded
        return decoded

    def _load(self, url: str) -> tuple[frozenset[str], object]:
        try:
            document = self._fetch(url)
        except Exception as exc:  # the fetcher is the caller's code: any failure is a retrieval error
            raise _EntryError(STATUS_RETRIEVAL_ERROR, f"could not retrieve status list {url}: {exc}") from exc
        if not isinstance(document, Mapping):
            raise _EntryError(STATUS_RETRIEVAL_ERROR, f"status list {url} is not a JSON object")
        types = document.get("type")
        if not isinstance(types, list) or LIST_CREDENTIAL_TYPE not in types:
            raise _EntryError(STATUS_VERIFICATION_ERROR, f"status list {url} is not a {LIST_CREDENTIAL_TYPE}")
        if "id" in document and document["id"] != url:
            raise _EntryError(
                STATUS_VERIFICATION_ERROR, f"status list fetched from {url} has id {_short(document['id'])}"
            )
        try:
            if "validFrom" in document and self._now < parse_datetime(document["validFrom"], field="validFrom"):
                raise _EntryError(
                    STATUS_VERIFICATION_ERROR, f"status list {url} is not valid before {document['validFrom']}"
                )
            if "validUntil" in document and self._now > parse_datetime(document["validUntil"], field="validUntil"):
                raise _EntryError(STATUS_VERIFICATION_ERROR, f"status list {url} expired at {document['validUntil']}")
        except MalformedError as exc:
            raise _EntryError(MALFORMED_VALUE_ERROR, f"status list {url}: {exc.message}") from exc
        subject = document.get("credentialSubject")
        if not isinstance(subject, Mapping):
            raise _EntryError(MALFORMED_VALUE_ERROR, f"status list {url} credentialSubject must be an object")
        subject_types = subject.get("type")
        if subject_types != LIST_TYPE and not (isinstance(subject_types, list) and LIST_TYPE in subject_types):
            raise _EntryError(STATUS_VERIFICATION_ERROR, f"status list {url} credentialSubject is not a {LIST_TYPE}")
        purposes = subject.get("statusPurpose")
        purpose_list = [purposes] if isinstance(purposes, str) else purposes
        if not isinstance(purpose_list, list) or not purpose_list or not all(isinstance(p, str) for p in purpose_list):
            raise _EntryError(MALFORMED_VALUE_ERROR, f"status list {url} statusPurpose must be one or more strings")
        return frozenset(purpose_list), subject.get("encodedList")

    @staticmethod
    def _decode(encoded: object, status_size: int) -> BitstringStatusList:
        try:
            bits = _expand(encoded)
        except MalformedError as exc:
            raise _EntryError(MALFORMED_VALUE_ERROR, exc.message) from exc
        try:
            _check_length(bits, status_size)
        except MalformedError as exc:
            raise _EntryError(STATUS_LIST_LENGTH_ERROR, exc.message) from exc
        return BitstringStatusList._wrap(bits, status_size=status_size)
