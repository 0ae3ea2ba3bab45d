"""Integrity of related resources (VC 2.0 §5.3): a credential pins another resource by its
digest, so a verifier can tell whether what it retrieves is what the issuer saw.

``digestMultibase`` is a Multibase-encoded Multihash (Data Integrity §2.6); we write
base64url-no-pad (``u``) over a SHA2-384 multihash, since VC 2.0 asks for SHA-384 as the minimum
strength, and read the SHA-2 and SHA-3 multihashes and ``digestSRI`` (``sha384-<base64>``) too.
https://www.w3.org/TR/vc-data-model-2.0/#integrity-of-related-resources
https://www.w3.org/TR/vc-data-integrity/#resource-integrity
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import multibase
from .errors import CredentialError, MalformedError
from .loader import bundled_context_bytes

__all__ = ["MULTIHASH_CODES", "RelatedCheck", "check_related", "digest_matches", "digest_multibase", "related_problems"]

#: Multihash function codes (one-byte varints) and the hashlib names they stand for.
MULTIHASH_CODES: dict[int, str] = {
    0x12: "sha256",
    0x13: "sha512",
    0x14: "sha3_512",
    0x15: "sha3_384",
    0x16: "sha3_256",
    0x20: "sha384",
}
_CODE_OF = {name: code for code, name in MULTIHASH_CODES.items()}
_SRI = {"sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}


def digest_multibase(data: bytes, *, algorithm: str = "sha384") -> str:
    """``data``'s digest as a ``digestMultibase`` value: ``u`` + base64url(multihash)."""
    if algorithm not in _CODE_OF:
        raise ValueError(f"no multihash code for {algorithm!r}; use one of {', '.join(sorted(_CODE_OF))}")
    digest = hashlib.new(algorithm, data).digest()
    return multibase.encode_base64url(bytes([_CODE_OF[algorithm], len(digest)]) + digest)


def _multihash_matches(value: str, data: bytes) -> bool:
    raw = multibase.decode(value)
    if len(raw) < 2 or raw[0] not in MULTIHASH_CODES:
        raise MalformedError(f"digestMultibase {value[:20]!r}: not a SHA-2 or SHA-3 multihash")
    algorithm, length, digest = MULTIHASH_CODES[raw[0]], raw[1], raw[2:]
    expected = hashlib.new(algorithm, data).digest()
    if length != len(expected) or len(digest) != length:
        raise MalformedError(f"digestMultibase {value[:20]!r}: the multihash length does not match {algorithm}")
    return hmac.compare_digest(digest, expected)


def _sri_matches(value: str, data: bytes) -> bool:
    algorithm, _, encoded = value.partition("-")
    if algorithm not in _SRI or not encoded:
        raise MalformedError(f"digestSRI {value[:20]!r}: expected sha256-, sha384- or sha512- and a base64 digest")
    try:
        digest = base64.b64decode(encoded.split("?", 1)[0], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedError(f"digestSRI {value[:20]!r}: the digest is not base64") from exc
    return hmac.compare_digest(digest, hashlib.new(_SRI[algorithm], data).digest())


def _values(entry: Mapping[str, Any], key: str) -> list[str]:
    raw = entry.get(key)
    values = [] if raw is None else raw if isinstance(raw, list) else [raw]
    if not all(isinstance(v, str) for v in values):
        raise MalformedError(f"relatedResource {key} must be a string or a list of strings")
    return values


def digest_matches(entry: Mapping[str, Any], data: bytes) -> bool:
    """Whether ``data`` (the resource as retrieved) matches every digest a ``relatedResource``
    entry gives. Raises MalformedError for an entry with no digest or one we cannot read."""
    multihashes, sris = _values(entry, "digestMultibase"), _values(entry, "digestSRI")
    if not multihashes and not sris:
        raise MalformedError("a relatedResource entry needs a digestMultibase or a digestSRI")
    return all(_multihash_matches(v, data) for v in multihashes) and all(_sri_matches(v, data) for v in sris)


#: An absolute URL, one token (any scheme: https, urn, did...), as the data model means it.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+$")
#: Entries read from one credential; more is refused (each may cost a retrieval).
MAX_RELATED = 100


def related_problems(credential: Mapping[str, Any]) -> list[MalformedError]:
    """What breaks VC 2.0 §5.3 in ``credential``'s ``relatedResource`` (none: absent or well formed).

    Each entry is an object with an ``id`` URL unique among the entries and a ``digestSRI`` or
    ``digestMultibase`` that can be read; each problem names its field by JSON pointer.
    """
    if "relatedResource" not in credential:
        return []
    value = credential["relatedResource"]
    entries = value if isinstance(value, list) else [value]
    if not entries:
        return [MalformedError("relatedResource must be an object or a non-empty array of objects", pointer="/relatedResource")]
    if len(entries) > MAX_RELATED:
        return [MalformedError(f"relatedResource has {len(entries)} entries; at most {MAX_RELATED} are read", pointer="/relatedResource")]
    problems: list[MalformedError] = []
    seen: dict[str, int] = {}
    for n, entry in enumerate(entries):
        at = f"/relatedResource/{n}" if isinstance(value, list) else "/relatedResource"
        if not isinstance(entry, dict):
            problems.append(MalformedError("each relatedResource entry must be an object with an id and a digest (a URL alone pins nothing)", pointer=at))
            continue
        rid = entry.get("id")
        if not isinstance(rid, str) or not _URL.match(rid):
            problems.append(MalformedError("a relatedResource entry needs an id: the URL of the resource", pointer=f"{at}/id"))
        elif rid in seen:
            problems.append(MalformedError(f"relatedResource id {rid} appears twice (entries {seen[rid]} and {n})", pointer=f"{at}/id"))
        else:
            seen[rid] = n
        if "digestSRI" not in entry and "digestMultibase" not in entry:
            problems.append(MalformedError("a relatedResource entry needs a digestSRI or a digestMultibase", pointer=at))
            continue
        for key in ("digestMultibase", "digestSRI"):
            if key in entry:
                try:
                    digest_matches({key: entry[key]}, b"")
                except CredentialError as exc:
                    problems.append(MalformedError(exc.message, pointer=f"{at}/{key}"))
        if "mediaType" in entry and not isinstance(entry["mediaType"], str):
            problems.append(MalformedError("relatedResource mediaType must be a string", pointer=f"{at}/mediaType"))
    return problems


@dataclass(frozen=True)
class RelatedCheck:
    """The outcome of checking a credential's related resources against their digests."""

    #: the shape problems (related_problems); when any, nothing was retrieved
    problems: list[MalformedError]
    #: entries whose bytes did not match, by pointer
    mismatched: list[str]
    matched: int
    #: entries not retrieved (no retriever, or it failed: the reason)
    unretrieved: list[str]


def check_related(
    credential: Mapping[str, Any], *, retrieve: Callable[[str, str | None], bytes] | None = None
) -> RelatedCheck | None:
    """Check ``relatedResource`` (None when the credential has none): its shape, then each
    digest against the resource's bytes, from the bundled contexts or ``retrieve(url,
    mediaType)`` (the caller's fetcher: the core does no IO). A failed retrieval is noted, not
    raised."""
    if "relatedResource" not in credential:
        return None
    problems = related_problems(credential)
    if problems:
        return RelatedCheck(problems, [], 0, [])
    value = credential["relatedResource"]
    entries: list[dict[str, Any]] = value if isinstance(value, list) else [value]
    mismatched: list[str] = []
    unretrieved: list[str] = []
    matched = 0
    for n, entry in enumerate(entries):
        at = f"/relatedResource/{n}" if isinstance(value, list) else "/relatedResource"
        url: str = entry["id"]
        data = bundled_context_bytes(url)
        if data is None:
            if retrieve is None:
                unretrieved.append(f"{url}: not retrieved")
                continue
            try:
                data = retrieve(url, entry.get("mediaType"))
            except Exception as exc:  # noqa: BLE001  # a resource out of reach is reported, not raised
                unretrieved.append(f"{url}: {exc}")
                continue
        if digest_matches(entry, data):
            matched += 1
        else:
            mismatched.append(at)
    return RelatedCheck([], mismatched, matched, unretrieved)
