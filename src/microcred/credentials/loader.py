"""Offline JSON-LD document loader: bundled, hash-pinned contexts, and nothing else.

A verifier that fetches contexts from the network can be made to verify a different document
than the one signed, and stops working offline. This loader serves only the contexts shipped
in ``contexts/`` (each checked against the sha256 in ``contexts/manifest.json``) and refuses any
other URL with :class:`ContextError`. Bundled contexts are returned with pyld's ``static`` tag,
which is what makes pyld keep the processed context across calls: without it every signature
re-processes the VC and OB contexts, which is most of pyld's time.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from .errors import ContextError

__all__ = ["DocumentLoader", "bundled_context_bytes", "bundled_context_urls", "CONTEXTS"]


class CONTEXTS:
    """URLs of the contexts the service emits."""

    VC_V1 = "https://www.w3.org/2018/credentials/v1"
    VC_V2 = "https://www.w3.org/ns/credentials/v2"
    OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
    OB_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
    DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
    BITSTRING_STATUS_V1 = "https://www.w3.org/ns/credentials/status/v1"
    MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
    ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"
    DID_V1 = "https://www.w3.org/ns/did/v1"
    MICROCRED_V1 = "https://w3id.org/microcred/v1"


@cache
def _manifest() -> dict[str, dict[str, str]]:
    text = resources.files(__package__).joinpath("contexts/manifest.json").read_text("utf-8")
    manifest: dict[str, dict[str, str]] = json.loads(text)
    return manifest


@cache
def _bundled_bytes(url: str) -> bytes:
    """The bundled file for ``url``, byte for byte, checked against its pinned sha256."""
    entry = _manifest()[url]
    data = resources.files(__package__).joinpath("contexts", entry["file"]).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry["sha256"]:
        raise ContextError(f"bundled context {url} does not match its pinned sha256 (got {digest})")
    return data


@cache
def _bundled(url: str) -> Any:
    return json.loads(_bundled_bytes(url))


def bundled_context_bytes(url: str) -> bytes | None:
    """The bytes of the bundled context published at ``url`` (pinned by sha256), or None: what a
    ``relatedResource`` digest of that context is checked against, with no fetch."""
    return _bundled_bytes(url) if url in _manifest() else None


#: Objects inside bundled context documents handed to pyld, by id (kept alive here, so an id is
#: never reused). Nobody edits them, so their content can be keyed by identity (canonical.py).
_PINNED_OBJECTS: dict[int, Any] = {}


def pinned_object(value: Any) -> bool:
    """Whether ``value`` is part of a bundled context document this process handed out."""
    return _PINNED_OBJECTS.get(id(value)) is value


def _pin(document: Any) -> None:
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            _PINNED_OBJECTS[id(value)] = value
            stack.extend(value.values())
        elif isinstance(value, list):
            _PINNED_OBJECTS[id(value)] = value
            stack.extend(value)


def bundled_context_urls() -> frozenset[str]:
    return frozenset(_manifest())


class DocumentLoader:
    """A pyld-compatible loader: ``loader(url, options) -> RemoteDocument``.

    ``extra`` adds contexts that are not bundled (tests, a deployment's own vocabularies);
    they are served as given and never marked static, so pyld does not cache them globally.
    """

    def __init__(self, *, extra: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._extra = {url: copy.deepcopy(dict(doc)) for url, doc in (extra or {}).items()}

    def knows(self, url: str) -> bool:
        return url in self._extra or url in _manifest()

    def document(self, url: str) -> Any:
        """The context document for ``url`` (a fresh copy: callers may not share ours)."""
        return copy.deepcopy(self._load(url)[0])

    def _load(self, url: str) -> tuple[Any, bool]:
        if not isinstance(url, str):
            raise ContextError("a context reference must be a URL string")
        if url in self._extra:
            return self._extra[url], False
        if url in _manifest():
            return _bundled(url), True
        raise ContextError(
            f"context {url} is not bundled with microcred; refusing to fetch it from the network",
            pointer="@context",
        )

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        doc, static = self._load(url)
        remote: dict[str, Any] = {
            "contextUrl": None,
            "documentUrl": url,
            # pyld may rewrite nested context URLs in place; never hand it our cached object.
            "document": copy.deepcopy(doc),
        }
        if static:
            remote["tag"] = "static"
            _pin(remote["document"])
        return remote
