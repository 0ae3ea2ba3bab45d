"""did:web identifiers and the DID documents that publish an issuer's keys, current and retired.

did:web maps a DID to the HTTPS URL of its ``did.json`` (https://w3c-ccg.github.io/did-method-web/).
An issuer's document lists every key it has ever signed with, each as a Multikey verification
method under ``assertionMethod``, because credentials signed with a retired key must keep
verifying. How the retirement is published is explained in :func:`controller_document`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from .errors import CredentialError, KeyFormatError, ResolutionError
from .keys import public_key_from_multikey
from .timeutil import format_datetime, parse_datetime

__all__ = [
    "DID_CONTEXT_V1",
    "MULTIKEY_CONTEXT_V1",
    "PublishedKey",
    "controller_document",
    "did_web_from_url",
    "did_web_to_url",
    "published_keys_from_document",
    "verification_method",
]

DID_CONTEXT_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT_V1 = "https://w3id.org/security/multikey/v1"

# A DNS host name (what did:web allows; no IP literals, no user info).
_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
# A did:web path segment: DID idchars, with percent-encoding.
_SEGMENT = re.compile(r"^(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+$")


# -- did:web <-> URL ------------------------------------------------------------------------------

def did_web_from_url(base_url: str, *path: str) -> str:
    """The did:web for an HTTPS URL plus optional extra path segments.

    ``https://issuer.example:8443/issuers/abc`` becomes ``did:web:issuer.example%3A8443:issuers:abc``
    (the port's colon is percent-encoded, path slashes become colons).
    """
    if not isinstance(base_url, str):
        raise ResolutionError("a did:web base URL must be a string")
    parts = urlsplit(base_url)
    if parts.scheme != "https":
        raise ResolutionError(f"did:web needs an https URL, got {base_url!r}")
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise ResolutionError(f"did:web URL must not carry user info, query or fragment: {base_url!r}")
    host = _host(parts.hostname or "", base_url)
    try:
        port = parts.port
    except ValueError as exc:
        raise ResolutionError(f"invalid port in {base_url!r}") from exc
    authority = host if port is None else f"{host}%3A{port}"
    url_path = parts.path.removeprefix("/").removesuffix("/")
    url_segments = [unquote(s) for s in url_path.split("/")] if url_path else []
    segments = [*url_segments, *path]
    encoded = [_encode_segment(s, base_url) for s in segments]
    return ":".join(["did:web", authority, *encoded])


def did_web_to_url(did: str) -> str:
    """The HTTPS URL of a did:web's DID document (``/.well-known/did.json`` when it has no path)."""
    if not isinstance(did, str) or not did.startswith("did:web:"):
        raise ResolutionError(f"not a did:web: {did!r}")
    if any(c in did for c in "/?#"):
        raise ResolutionError(f"a did:web must not contain '/', '?' or '#': {did!r}")
    authority, *segments = did.removeprefix("did:web:").split(":")
    host, sep, port = unquote(authority).partition(":")
    _host(host, did)
    if sep and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise ResolutionError(f"invalid port in {did!r}")
    for segment in segments:
        if not _SEGMENT.match(segment) or unquote(segment) in {".", ".."} or "/" in unquote(segment):
            raise ResolutionError(f"invalid path segment {segment!r} in {did!r}")
    netloc = host.lower() + (f":{port}" if sep else "")
    path = "/".join(segments) if segments else ".well-known"
    return f"https://{netloc}/{path}/did.json"


def _host(host: str, where: str) -> str:
    if not _HOST.match(host) or host.replace(".", "").isdigit():
        raise ResolutionError(f"did:web needs a DNS host name, got {host!r} in {where!r}")
    return host.lower()


def _encode_segment(segment: str, where: str) -> str:
    if not isinstance(segment, str) or segment in {"", ".", ".."} or "/" in segment:
        raise ResolutionError(f"invalid did:web path segment {segment!r} in {where!r}")
    # quote() leaves "~" alone, which is not a DID idchar.
    return quote(segment, safe="").replace("~", "%7E")


# -- DID documents --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PublishedKey:
    """A public key as an issuer publishes it, with the period it signed for.

    ``valid_until`` is None for the current key. ``valid_from`` is None when the key was read
    from a DID document, which does not publish it (see :func:`controller_document`).
    """

    id: str
    controller: str
    public_key_multibase: str
    valid_from: datetime | None
    valid_until: datetime | None = None

    @property
    def is_current(self) -> bool:
        return self.valid_until is None


def verification_method(key: PublishedKey) -> dict[str, str]:
    """One key as a Multikey verification method; a retired key carries ``expires`` (see
    :func:`controller_document` for why not ``revoked``)."""
    method = {"id": key.id, "type": "Multikey", "controller": key.controller, "publicKeyMultibase": key.public_key_multibase}
    if key.valid_until is not None:
        method["expires"] = format_datetime(key.valid_until)
    return method


def controller_document(did: str, keys: Sequence[PublishedKey]) -> dict[str, Any]:
    """The DID document of ``did`` listing ``keys`` (oldest first) as Multikey assertion methods.

    A retired key carries ``expires`` (its retirement time), never ``revoked``:

    * Controlled Identifiers 1.0 section 2.2 defines both on verification methods: ``expires`` is
      when the method "SHOULD cease to be used", ``revoked`` when it "MUST NOT be used"; after
      either, proofs are not expected to verify. Routine rotation is the first case.
    * Digital Bazaar rejects any verification method that has ``revoked`` at all, whatever the
      proof's date: jsonld-signatures ``lib/suites/LinkedDataSignature.js`` (getVerificationMethod)
      and ``@digitalbazaar/ed25519-signature-2020`` ``lib/Ed25519Signature2020.js``
      (assertVerificationMethod) throw "The verification method has been revoked.", and
      ed25519-multikey carries ``revoked`` through import. Publishing it would break every old
      Ed25519Signature2020 credential. Nothing there reads ``expires`` on a verification method
      (``@digitalbazaar/data-integrity`` checks only ``proof.expires``), so old credentials keep
      verifying there, while our verifier compares ``expires`` with the proof's ``created``.
    * ``expires`` is defined (as ``sec:expiration``, xsd:dateTime) by the Multikey scoped context
      of ``https://w3id.org/security/multikey/v1``; the start of validity has no defined term, so
      it stays in the key store and is not published.
    """
    if not isinstance(did, str) or not did.startswith("did:"):
        raise ResolutionError(f"not a DID: {did!r}")
    methods: list[dict[str, str]] = []
    seen: set[str] = set()
    for key in keys:
        if key.controller != did or not key.id.startswith(did + "#"):
            raise ResolutionError(f"key {key.id} is not controlled by {did}")
        if key.id in seen:
            raise ResolutionError(f"key {key.id} is listed twice")
        seen.add(key.id)
        public_key_from_multikey(key.public_key_multibase)  # refuse a malformed key early
        methods.append(verification_method(key))
    return {
        "@context": [DID_CONTEXT_V1, MULTIKEY_CONTEXT_V1],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }


def published_keys_from_document(doc: Mapping[str, Any]) -> list[PublishedKey]:
    """The Multikey assertion methods of a DID document, with their retirement times.

    The end of validity is ``expires``, or ``revoked`` if a third party published that and it
    is earlier. Keys of other types are skipped; a malformed Multikey raises.
    """
    if not isinstance(doc, Mapping):
        raise ResolutionError("DID document is not a JSON object")
    did = doc.get("id")
    if not isinstance(did, str) or not did.startswith("did:"):
        raise ResolutionError("DID document has no DID as its id")
    defined: dict[str, Mapping[str, Any]] = {}
    for method in _as_list(doc.get("verificationMethod")):
        if isinstance(method, Mapping) and isinstance(method.get("id"), str):
            defined[_absolute(method["id"], did)] = method
    keys: list[PublishedKey] = []
    for ref in _as_list(doc.get("assertionMethod")):
        method = ref if isinstance(ref, Mapping) else defined.get(_absolute(ref, did)) if isinstance(ref, str) else None
        if method is None:
            raise ResolutionError(f"assertionMethod {ref!r} is not defined in the DID document of {did}")
        if method.get("type") != "Multikey":
            continue
        if not isinstance(method.get("id"), str):
            raise ResolutionError(f"a verification method in the DID document of {did} has no id")
        vm_id = _absolute(method["id"], did)
        controller = method.get("controller")
        if controller != did:
            raise ResolutionError(f"verification method {vm_id} is controlled by {controller!r}, not by {did}")
        multibase = method.get("publicKeyMultibase")
        try:
            public_key_from_multikey(multibase if isinstance(multibase, str) else "")
            ends = [parse_datetime(method[k], field=k) for k in ("expires", "revoked") if method.get(k) is not None]
        except CredentialError as exc:
            raise KeyFormatError(f"verification method {vm_id}: {exc.message}") from exc
        keys.append(
            PublishedKey(
                id=vm_id,
                controller=did,
                public_key_multibase=str(multibase),
                valid_from=None,
                valid_until=min(ends) if ends else None,
            )
        )
    return keys


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _absolute(vm_id: str, did: str) -> str:
    return did + vm_id if vm_id.startswith("#") else vm_id
