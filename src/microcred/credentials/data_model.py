"""The W3C Verifiable Credentials data model, versions 1.1 and 2.0: what a credential or a
presentation must look like before it is signed or believed, whatever claims it makes.

The version is the first ``@context``: ``https://www.w3.org/2018/credentials/v1`` (VC 1.1,
``issuanceDate`` and ``expirationDate``) or ``https://www.w3.org/ns/credentials/v2`` (VC 2.0,
optional ``validFrom`` and ``validUntil``). Each rule below names the property at fault with a
JSON pointer; which terms the contexts define is safe mode's to check (``safe_mode.py``).
https://www.w3.org/TR/vc-data-model-2.0/ and https://www.w3.org/TR/vc-data-model-1.1/
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .errors import ContextError, CredentialError, MalformedError
from .loader import CONTEXTS, DocumentLoader
from .timeutil import parse_datetime

__all__ = [
    "ValidityPeriod",
    "Version",
    "check_credential",
    "credential_problems",
    "presentation_problems",
    "validity_period",
    "version_of",
]

Version = Literal["1.1", "2.0"]

_VERSIONS: dict[str, Version] = {CONTEXTS.VC_V1: "1.1", CONTEXTS.VC_V2: "2.0"}
#: A URL as the data model means it: an absolute IRI (any scheme: https, did, urn...), one token.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+$")
#: Properties whose values are objects with a ``type`` (VC 2.0 §4.10-4.12, §5.5-5.7).
_TYPED = ("credentialStatus", "credentialSchema", "termsOfUse", "evidence", "refreshService")
#: ... of which these also need an ``id`` URL.
_NEEDS_ID = ("credentialSchema", "refreshService")


def _url(value: Any) -> bool:
    return isinstance(value, str) and _URL.match(value) is not None


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _problem(pointer: str, message: str) -> MalformedError:
    return MalformedError(message, pointer=pointer)


def version_of(document: Any, *, loader: DocumentLoader | None = None) -> Version:
    """The data model version ``document``'s ``@context`` declares; ContextError if it declares
    none we read, or names a context that is not bundled (contexts are never fetched)."""
    if not isinstance(document, dict):
        raise MalformedError("a credential or presentation must be a JSON object", pointer="")
    contexts = document.get("@context")
    if contexts is None:
        raise ContextError("@context is missing", pointer="/@context")
    if not isinstance(contexts, list) or not contexts:
        raise ContextError("@context must be an array (an ordered set) of context URLs and objects", pointer="/@context")
    version = _VERSIONS.get(contexts[0]) if isinstance(contexts[0], str) else None
    if version is None:
        raise ContextError(f"@context must start with {CONTEXTS.VC_V2} (VC 2.0) or {CONTEXTS.VC_V1} (VC 1.1)", pointer="/@context/0")
    for index, context in enumerate(contexts):
        if isinstance(context, str):
            if index and context in _VERSIONS:
                raise ContextError(f"{context} may only come first, and VC 1.1 and 2.0 cannot be mixed", pointer=f"/@context/{index}")
            if loader is not None and not loader.knows(context):
                raise ContextError(
                    f"context {context} is not bundled with microcred, and contexts are never fetched", pointer=f"/@context/{index}"
                )
        elif not isinstance(context, dict):
            raise ContextError("each @context entry must be a URL or a context object", pointer=f"/@context/{index}")
    return version


def _types(value: Any, pointer: str, required: str | None) -> Iterator[MalformedError]:
    types = [value] if isinstance(value, str) else value
    if not isinstance(types, list) or not types or not all(isinstance(t, str) and t for t in types):
        yield _problem(pointer, "type must be a string or a non-empty array of strings")
    elif required is not None and required not in types:
        yield _problem(pointer, f"type must include {required}")


def _identified(value: Any, pointer: str, what: str, *, required: bool) -> Iterator[MalformedError]:
    """A URL, or an object whose ``id`` is one (``issuer``, ``holder``)."""
    if isinstance(value, dict):
        if "id" in value or required:
            if not _url(value.get("id")):
                yield _problem(f"{pointer}/id", f"{what}.id must be a URL")
    elif not _url(value):
        yield _problem(pointer, f"{what} must be a URL or an object with an id URL")


def _objects(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _id_and_type(document: dict[str, Any], required: str) -> list[CredentialError]:
    """What a credential and a presentation both need: an optional single URL ``id``, and a
    ``type`` that includes ``required``."""
    problems: list[CredentialError] = []
    if "id" in document and not _url(document["id"]):
        problems.append(_problem("/id", "id must be a single URL"))
    if "type" not in document:
        problems.append(_problem("/type", "type is missing"))
    else:
        problems.extend(_types(document["type"], "/type", required))
    return problems


def credential_problems(document: Any, *, loader: DocumentLoader | None = None) -> list[CredentialError]:
    """Everything about ``document`` that breaks the data model of its version (none: it
    conforms, as far as structure goes). ``proof`` is not looked at."""
    try:
        version = version_of(document, loader=loader)
    except CredentialError as exc:
        return [exc]
    problems = _id_and_type(document, "VerifiableCredential")
    if "issuer" not in document:
        problems.append(_problem("/issuer", "issuer is missing"))
    else:
        problems.extend(_identified(document["issuer"], "/issuer", "issuer", required=True))
    problems.extend(_subjects(document))
    problems.extend(_period_problems(document, version))
    for name in _TYPED:
        if name not in document:
            continue
        value = document[name]
        entries = _objects(value)
        if not entries:
            problems.append(_problem(f"/{name}", f"{name} must be an object or a non-empty array of objects"))
        for n, entry in enumerate(entries):
            at = f"/{name}/{n}" if isinstance(value, list) else f"/{name}"
            if not isinstance(entry, dict):
                problems.append(_problem(at, f"{name} entries must be objects"))
                continue
            if "type" not in entry:
                problems.append(_problem(f"{at}/type", f"{name} entries need a type"))
            else:
                problems.extend(_types(entry["type"], f"{at}/type", None))
            if ("id" in entry or name in _NEEDS_ID) and not _url(entry.get("id")):
                problems.append(_problem(f"{at}/id", f"{name}.id must be a URL"))
    return problems


def check_credential(document: Any, *, loader: DocumentLoader | None = None) -> Version:
    """Raise the first data model problem of ``document``; return its version."""
    problems = credential_problems(document, loader=loader)
    if problems:
        raise problems[0]
    return version_of(document)


def _subjects(document: dict[str, Any]) -> Iterator[MalformedError]:
    if "credentialSubject" not in document:
        yield _problem("/credentialSubject", "credentialSubject is missing")
        return
    value = document["credentialSubject"]
    subjects = _objects(value)
    if not subjects:
        yield _problem("/credentialSubject", "credentialSubject must be an object or a non-empty array of objects")
    for n, subject in enumerate(subjects):
        at = f"/credentialSubject/{n}" if isinstance(value, list) else "/credentialSubject"
        if not isinstance(subject, dict) or not subject:
            yield _problem(at, "each credentialSubject must be an object making at least one claim")
        elif "id" in subject and not _url(subject["id"]):
            yield _problem(f"{at}/id", "credentialSubject.id must be a URL")


@dataclass(frozen=True)
class ValidityPeriod:
    """When a credential claims to be valid, under the names its version gives the bounds."""

    start: datetime | None
    end: datetime | None
    start_field: str
    end_field: str


def validity_period(document: dict[str, Any]) -> ValidityPeriod:
    """The validity period (MalformedError naming the field if a date cannot be read).

    VC 1.1 requires ``issuanceDate``; VC 2.0 makes both bounds optional.
    """
    version = version_of(document)
    start_field, end_field = ("issuanceDate", "expirationDate") if version == "1.1" else ("validFrom", "validUntil")
    if version == "1.1" and start_field not in document:
        raise _problem(f"/{start_field}", f"{start_field} is missing (VC 1.1 requires it)")
    bounds = [
        parse_datetime(document[name], field=name) if name in document else None for name in (start_field, end_field)
    ]
    return ValidityPeriod(bounds[0], bounds[1], start_field, end_field)


def _period_problems(document: dict[str, Any], version: Version) -> Iterator[MalformedError]:
    try:
        period = validity_period(document)
    except MalformedError as exc:
        field = exc.pointer or ""
        yield _problem(field if field.startswith("/") else f"/{_escape(field)}", exc.message)
        return
    if period.start is not None and period.end is not None and period.end < period.start:
        yield _problem(f"/{period.end_field}", f"{period.end_field} is before {period.start_field}")
    if version == "2.0":
        for legacy in ("issuanceDate", "expirationDate"):
            if legacy in document:
                yield _problem(f"/{legacy}", f"{legacy} is VC 1.1; a VC 2.0 credential uses {'validFrom' if legacy == 'issuanceDate' else 'validUntil'}")


def presentation_problems(document: Any, *, loader: DocumentLoader | None = None) -> list[CredentialError]:
    """Everything about a presentation's own shape that breaks the data model (the credentials
    it carries are checked one by one, as credentials)."""
    try:
        version_of(document, loader=loader)
    except CredentialError as exc:
        return [exc]
    problems = _id_and_type(document, "VerifiablePresentation")
    if "holder" in document:
        problems.extend(_identified(document["holder"], "/holder", "holder", required=True))
    if "verifiableCredential" in document:
        value = document["verifiableCredential"]
        for n, credential in enumerate(_objects(value)):
            at = f"/verifiableCredential/{n}" if isinstance(value, list) else "/verifiableCredential"
            if not isinstance(credential, dict):
                problems.append(_problem(at, "verifiableCredential entries must be credential objects"))
            elif credential.get("type") == "EnvelopedVerifiableCredential" or (
                isinstance(credential.get("type"), list) and "EnvelopedVerifiableCredential" in credential["type"]
            ):
                problems.append(_problem(at, "enveloped credentials are not supported; embed the credential itself"))
    return problems
