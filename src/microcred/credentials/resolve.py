"""Verification-method resolution: from a proof's ``verificationMethod`` to a public key.

did:key resolves here, offline. did:web documents and plain HTTPS key documents come through
injected fetchers (the service passes its SSRF-safe fetcher), so the core never opens a
connection itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .did import PublishedKey
from .errors import CredentialError, KeyFormatError, ResolutionError
from .keys import Ed25519PublicKeyInfo, did_key_document, public_key_from_multikey
from .timeutil import parse_datetime

__all__ = ["KeyResolver", "ResolvedKey", "Resolver", "key_from_controller_document", "resolved_from_published"]

_RELATIONSHIPS = ("assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation")
#: Ed25519VerificationKey2020 stores the key the same way as Multikey (multicodec 0xed + 32 bytes).
_KEY_TYPES = ("Multikey", "Ed25519VerificationKey2020")


@dataclass(frozen=True)
class ResolvedKey:
    """A public key, who controls it, what it may be used for and when it was valid."""

    id: str
    controller: str
    public_key: bytes
    algorithm: str = "Ed25519"
    purposes: frozenset[str] = field(default_factory=frozenset)
    #: when the key started signing (proofs created earlier are suspicious, but DIDs of
    #: other issuers rarely say; None means unknown)
    valid_from: datetime | None = None
    #: when the key was retired: proofs created after this instant must fail
    valid_until: datetime | None = None

    def verify(self, data: bytes, signature: bytes) -> bool:
        return Ed25519PublicKeyInfo(id=self.id, public_key=self.public_key).verify(data, signature)


KeyResolver = Callable[[str], ResolvedKey]


def _id_matches(candidate: str, wanted: str, base: str) -> bool:
    if candidate.startswith("#"):
        candidate = base + candidate
    return candidate == wanted


def key_from_controller_document(document: Mapping[str, Any], vm_id: str) -> ResolvedKey:
    """Find ``vm_id`` in a DID / controller document and return it with its relationships."""
    if not isinstance(document, Mapping):
        raise ResolutionError("controller document is not a JSON object")
    base = document.get("id")
    if not isinstance(base, str):
        raise ResolutionError("controller document has no id")
    methods: list[Any] = []
    for key in ("verificationMethod", *_RELATIONSHIPS):
        value = document.get(key) or []
        methods.extend(value if isinstance(value, list) else [value])
    method = next(
        (m for m in methods if isinstance(m, Mapping) and isinstance(m.get("id"), str) and _id_matches(m["id"], vm_id, base)),
        None,
    )
    if method is None:
        raise ResolutionError(f"verification method {vm_id} is not in the controller document of {base}")
    if method.get("type") not in _KEY_TYPES:
        raise KeyFormatError(f"verification method {vm_id} has unsupported type {method.get('type')!r}")
    try:
        public_key = public_key_from_multikey(method.get("publicKeyMultibase", ""))
    except CredentialError as exc:
        raise KeyFormatError(f"verification method {vm_id}: {exc.message}") from exc
    purposes = set()
    for rel in _RELATIONSHIPS:
        refs = document.get(rel) or []
        for ref in refs if isinstance(refs, list) else [refs]:
            ref_id = ref.get("id") if isinstance(ref, Mapping) else ref
            if isinstance(ref_id, str) and _id_matches(ref_id, vm_id, base):
                purposes.add(rel)
    controller = method.get("controller", base)
    if controller != base:
        raise ResolutionError(f"verification method {vm_id} is controlled by {controller}, not by {base}")
    return ResolvedKey(
        id=vm_id,
        controller=controller,
        public_key=public_key,
        purposes=frozenset(purposes),
        valid_from=_optional_time(method.get("created")),
        valid_until=_optional_time(method.get("expires")) or _optional_time(method.get("revoked")),
    )


def resolved_from_published(key: PublishedKey) -> ResolvedKey:
    """A key this installation publishes, as a verifier that resolved its controller document
    would see it (an assertion key, with the period it signed for)."""
    return ResolvedKey(
        id=key.id,
        controller=key.controller,
        public_key=public_key_from_multikey(key.public_key_multibase),
        purposes=frozenset({"assertionMethod"}),
        valid_from=key.valid_from,
        valid_until=key.valid_until,
    )


def _optional_time(value: Any) -> datetime | None:
    if value is None:
        return None
    return parse_datetime(value)


def resolve_did_key(vm_id: str) -> ResolvedKey:
    did = vm_id.split("#", 1)[0]
    fingerprint = did.removeprefix("did:key:")
    if "#" in vm_id and vm_id.split("#", 1)[1] != fingerprint:
        raise ResolutionError(f"{vm_id} is not a verification method of {did}")
    return key_from_controller_document(did_key_document(did), f"{did}#{fingerprint}")


class Resolver:
    """Resolves did:key itself; did:web and HTTPS through the fetchers it is given.

    ``fetch_did_document(did)`` returns the DID document of a did:web (the caller maps the DID
    to its URL and fetches it safely). ``fetch_key_document(url)`` returns an HTTPS key document
    (a Multikey object with ``controller``), whose controller document must then list it.
    ``keys`` pins known keys by verification-method id (the service's own, without any fetch).
    """

    def __init__(
        self,
        *,
        fetch_did_document: Callable[[str], Mapping[str, Any]] | None = None,
        fetch_key_document: Callable[[str], Mapping[str, Any]] | None = None,
        keys: Mapping[str, ResolvedKey] | None = None,
    ) -> None:
        self._fetch_did = fetch_did_document
        self._fetch_key = fetch_key_document
        self._keys = dict(keys or {})

    def __call__(self, vm_id: str) -> ResolvedKey:
        if not isinstance(vm_id, str) or not vm_id:
            raise ResolutionError("verificationMethod must be a non-empty string")
        if vm_id in self._keys:
            return self._keys[vm_id]
        if vm_id.startswith("did:key:"):
            return resolve_did_key(vm_id)
        if vm_id.startswith("did:web:"):
            if self._fetch_did is None:
                raise ResolutionError(f"cannot resolve {vm_id}: no did:web resolver configured")
            did = vm_id.split("#", 1)[0]
            try:
                document = self._fetch_did(did)
            except CredentialError:
                raise
            except Exception as exc:  # the fetcher is injected: any failure is a resolution failure
                raise ResolutionError(f"cannot resolve {did}: {exc}") from exc
            return key_from_controller_document(document, vm_id)
        if vm_id.startswith("https://"):
            if self._fetch_key is None:
                raise ResolutionError(f"cannot resolve {vm_id}: no HTTPS key resolver configured")
            try:
                key_doc = self._fetch_key(vm_id)
                controller = key_doc.get("controller")
                if not isinstance(controller, str):
                    raise ResolutionError(f"key document {vm_id} names no controller")
                controller_doc = self._fetch_key(controller)
            except CredentialError:
                raise
            except Exception as exc:
                raise ResolutionError(f"cannot resolve {vm_id}: {exc}") from exc
            return key_from_controller_document(controller_doc, vm_id)
        scheme = vm_id.split(":", 1)[0]
        raise ResolutionError(f"unsupported verification method scheme {scheme!r} in {vm_id}")
