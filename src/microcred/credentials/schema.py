"""JSON Schema validation: the official 1EdTech OB 3.0 schemas and our micro-credential extension.

https://www.imsglobal.org/spec/ob/v3p0/#json-schema

Everything is offline. The schemas ship in ``schemas/`` (a symlink to the repository's
``schemas/`` directory); ``$ref`` resolves only against them and never reaches the network, and
a credential's own ``credentialSchema`` document is handed in by the caller. ``date-time`` and
``date`` formats are really checked: jsonschema skips them silently unless a checker is given.
Bad input never raises; it comes back as :class:`SchemaIssue` entries naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Literal

import jsonschema_rs
from jsonschema import Draft201909Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

from .eu_elements import EXTENSION_CONTEXT_PATH
from .loader import CONTEXTS

__all__ = [
    "EXTENSION_SCHEMA_ID",
    "FORMAT_CHECKER",
    "SchemaIssue",
    "bundled_schema",
    "validate",
    "validate_against_bundled",
    "validate_credential_schema",
    "validate_status_entry",
]

Kind = Literal["AchievementCredential", "EndorsementCredential", "Profile"]

_SCHEMA_FILES: dict[str, str] = {
    "AchievementCredential": "ob_v3p0_achievementcredential_schema.json",
    "EndorsementCredential": "ob_v3p0_endorsementcredential_schema.json",
    "Profile": "ob_v3p0_profile_schema.json",
}
_EXTENSION_FILE = "microcred_v1_extension_schema.json"
EXTENSION_SCHEMA_ID = "https://w3id.org/microcred/schema/v1/microcredential-elements.json"
_EXTENSION_AT = ("credentialSubject", "achievement", "microCredential")
_MAX_MESSAGE = 240


@dataclass(frozen=True)
class SchemaIssue:
    """One schema violation: ``pointer`` is the JSON pointer of the field ("" for the document)."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


# --- formats --------------------------------------------------------------------------------------

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: RFC 3339 ``date-time`` and ``full-date`` without the optional rfc3339-validator dependency.
FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # formats constrain strings only
    if not _DATE_TIME.match(value):
        return False
    # RFC 3339 allows a leap second; datetime does not, so check the rest of the value without it.
    datetime.fromisoformat(value[:17] + value[17:19].replace("60", "59") + value[19:].replace("z", "Z"))
    return True


@FORMAT_CHECKER.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE.match(value):
        return False
    date.fromisoformat(value)
    return True


# --- bundled schemas ------------------------------------------------------------------------------


@cache
def _bundled() -> dict[str, str]:
    """``$id`` -> JSON text of every schema under ``schemas/``."""
    found: dict[str, str] = {}
    for entry in resources.files(__package__).joinpath("schemas").iterdir():
        if entry.name.endswith(".json"):
            text = entry.read_text("utf-8")
            found[json.loads(text)["$id"]] = text
    return found


def _by_file(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath("schemas", name).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _bundled_files() -> dict[str, str]:
    """``$id`` -> file name of every bundled schema."""
    found: dict[str, str] = {}
    for entry in resources.files(__package__).joinpath("schemas").iterdir():
        if entry.name.endswith(".json"):
            found[json.loads(entry.read_text("utf-8"))["$id"]] = entry.name
    return found


def bundled_schema(url: str) -> dict[str, Any] | None:
    """The bundled schema whose ``$id`` is ``url`` (a fresh copy), or None: for credentialSchema."""
    text = _bundled().get(url)
    return None if text is None else dict(json.loads(text))


def _refuse(uri: str) -> Resource[Any]:
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs class mypy cannot see into


@cache
def _registry() -> Registry[Any]:
    """Bundled schemas by ``$id``; any other ``$ref`` fails instead of being fetched."""
    resources_ = [(uri, Resource.from_contents(json.loads(text))) for uri, text in _bundled().items()]
    return Registry(retrieve=_refuse).with_resources(resources_)  # type: ignore[call-arg]  # attrs, as above


@cache
def _validator(name: str) -> Validator:
    schema = _by_file(name)
    validator: Validator = Draft201909Validator(schema, format_checker=FORMAT_CHECKER, registry=_registry())
    return validator


@cache
def _fast_validator(name: str) -> Any:
    """A compiled Rust validator for a bundled schema: the decision on valid documents.

    The 1EdTech schemas wrap nearly every property in oneOf, which the pure-Python validator
    walks at ~10 ms a credential; jsonschema-rs decides in ~0.01 ms, and explains a failure too
    (``_explain_fast``). The Python validator runs only when formats alone fail.
    """

    def refuse(uri: str) -> Any:
        raise ValueError(f"schema reference {uri} is not bundled; refusing to fetch it")

    return jsonschema_rs.Draft201909Validator(_by_file(name), validate_formats=True, retriever=refuse)


# --- validation -----------------------------------------------------------------------------------


def validate(document: Any, *, kind: Kind = "AchievementCredential") -> list[SchemaIssue]:
    """Check ``document`` against the official OB 3.0 schema for ``kind``; [] means valid.

    For an AchievementCredential, ``credentialSubject.achievement.microCredential`` is also
    checked against our extension schema when present.
    """
    if kind not in _SCHEMA_FILES:
        raise ValueError(f"kind must be one of {sorted(_SCHEMA_FILES)}, not {kind!r}")
    if not isinstance(document, dict):
        return [SchemaIssue("", f"the document must be a JSON object ({kind})")]
    if kind != "Profile" and _is_vc11(document):
        return _validate_vc11(document, kind)
    issues = _evaluate(_validator(_SCHEMA_FILES[kind]), document, fast=_fast_validator(_SCHEMA_FILES[kind]))
    if kind == "AchievementCredential":
        issues.extend(_extension_issues(document))
    return issues


#: VC 1.1 names of what VC 2.0 (and the OB 3.0.3 schema) calls validFrom and validUntil
_VC11_NAMES = {"validFrom": "issuanceDate", "validUntil": "expirationDate"}


def _validate_vc11(document: dict[str, Any], kind: Kind) -> list[SchemaIssue]:
    """An OB 3.0 credential on VC 1.1 (OB 3.0.0-3.0.2, as issued in 2023-2024).

    1EdTech publishes only the VC 2.0 shaped schema, so the credential is checked against it
    under VC 2.0's names for the same things (``issuanceDate`` read as ``validFrom``,
    ``expirationDate`` as ``validUntil``, the VC 1.1 context in first place); what OB requires of
    achievements, subjects and profiles is the same in both. Issues name the credential's own
    fields. The VC 1.1 data model itself is checked by the verifier (``data_model``).
    """
    return _under_vc11_names(validate(_vc2_view(document), kind=kind))


def _is_vc11(document: Any) -> bool:
    contexts = document.get("@context") if isinstance(document, dict) else None
    return isinstance(contexts, list) and bool(contexts) and contexts[0] == CONTEXTS.VC_V1


def _vc2_view(document: dict[str, Any]) -> dict[str, Any]:
    """A VC 1.1 credential under VC 2.0's names, for the VC 2.0 shaped OB schemas."""
    view = {k: v for k, v in document.items() if k not in _VC11_NAMES.values() and k not in _VC11_NAMES}
    view["@context"] = [CONTEXTS.VC_V2, *document["@context"][1:]]
    for vc2, vc11 in _VC11_NAMES.items():
        if vc11 in document:
            view[vc2] = document[vc11]
    return view


def _under_vc11_names(issues: list[SchemaIssue]) -> list[SchemaIssue]:
    renamed = []
    for issue in issues:
        head, _, rest = issue.pointer[1:].partition("/")
        if head in _VC11_NAMES:
            issue = SchemaIssue("/" + _VC11_NAMES[head] + (f"/{rest}" if rest else ""), issue.message.replace(head, _VC11_NAMES[head]))
        renamed.append(issue)
    return renamed


@cache
def _status_entry_validator() -> Validator:
    entry = _by_file(_SCHEMA_FILES["AchievementCredential"])["$defs"]["CredentialStatus"]
    validator: Validator = Draft201909Validator(entry, format_checker=FORMAT_CHECKER)
    return validator


def validate_status_entry(entry: Any, *, prefix: str = "") -> list[SchemaIssue]:
    """Check one ``credentialStatus`` entry as the OB 3.0 schema checks its single one (VC 2.0
    allows a list of them; see verify's schema step)."""
    return _evaluate(_status_entry_validator(), entry, prefix=prefix)


def validate_credential_schema(document: Any, schema: Mapping[str, Any]) -> list[SchemaIssue]:
    """Check ``document`` against a schema named in its own ``credentialSchema``.

    The caller resolves the schema document (see :func:`bundled_schema`); nothing is fetched.
    The draft follows the schema's ``$schema`` (2019-09 if absent). A broken schema or an
    unresolvable ``$ref`` is reported as an issue, not raised.
    """
    if not isinstance(document, dict):
        return [SchemaIssue("", "a credential must be a JSON object")]
    if not isinstance(schema, Mapping):
        return [SchemaIssue("", "the credentialSchema document is not a JSON object")]
    try:
        validator = _compiled(json.dumps(schema, sort_keys=True))
    except Exception as exc:  # noqa: BLE001  # the schema is input too: report, never raise
        return [SchemaIssue("", f"the credentialSchema document is not a valid JSON Schema: {_short(exc)}")]
    return _evaluate(validator, document)


@lru_cache(maxsize=32)
def _compiled(schema_text: str) -> Validator:
    schema = json.loads(schema_text)
    cls = validator_for(schema, default=Draft201909Validator)
    cls.check_schema(schema)
    validator: Validator = cls(schema, format_checker=FORMAT_CHECKER, registry=_registry())
    return validator


def validate_against_bundled(document: Any, url: str) -> list[SchemaIssue] | None:
    """Check ``document`` against the bundled schema whose ``$id`` is ``url``; None if not bundled."""
    name = _bundled_files().get(url)
    if name is None:
        return None
    if not isinstance(document, dict):
        return [SchemaIssue("", "a credential must be a JSON object")]
    if _is_vc11(document) and name in _SCHEMA_FILES.values():
        # an OB 3.0.0-3.0.2 credential names the OB schema URL, which now serves the VC 2.0 shape
        return _under_vc11_names(_evaluate(_validator(name), _vc2_view(document), fast=_fast_validator(name)))
    return _evaluate(_validator(name), document, fast=_fast_validator(name))


def _extension_issues(document: dict[str, Any]) -> list[SchemaIssue]:
    block: Any = document
    for key in _EXTENSION_AT:
        if not isinstance(block, dict) or key not in block:
            return []
        block = block[key]
    prefix = "".join(f"/{key}" for key in _EXTENSION_AT)
    issues = _evaluate(_validator(_EXTENSION_FILE), block, prefix=prefix, fast=_fast_validator(_EXTENSION_FILE))
    contexts = document.get("@context")
    # the extension context: its original id, or where a microcred installation serves it
    if not isinstance(contexts, list) or not any(
        c == CONTEXTS.MICROCRED_V1 or (isinstance(c, str) and c.endswith(EXTENSION_CONTEXT_PATH)) for c in contexts
    ):
        issues.append(
            SchemaIssue(
                "/@context",
                f"microCredential is used, so @context must list {CONTEXTS.MICROCRED_V1} or <base URL>{EXTENSION_CONTEXT_PATH}",
            )
        )
    return issues


def _evaluate(validator: Validator, instance: Any, *, prefix: str = "", fast: Any = None) -> list[SchemaIssue]:
    try:
        if fast is not None:
            if fast.is_valid(instance):
                return []
            explained = _explain_fast(fast, instance, prefix)
            if explained is not None:
                return explained
    except Exception:  # noqa: BLE001, S110  # the Python validator below decides and explains
        pass
    try:
        return [_issue(error, prefix) for error in validator.iter_errors(instance)]
    except Exception as exc:  # noqa: BLE001  # unresolvable $ref, absurd nesting: about the input
        return [SchemaIssue(prefix, f"schema validation could not complete: {_short(exc)}")]


def _kind(error: Any) -> str:
    return type(error.kind).__name__


def _explain_fast(fast: Any, instance: Any, prefix: str) -> list[SchemaIssue] | None:
    """The compiled validator's own account of why ``instance`` fails, worded and pointed as the
    Python validator would: explaining a failure must not cost what the Python walk of the
    1EdTech oneOf trees costs (several times a whole verification). None when only formats fail,
    where the two validators' format checks may disagree and the Python one decides."""
    errors = list(fast.iter_errors(instance))
    if not errors or all(_kind(e) == "Format" for e in errors):
        return None
    return [_fast_issue(e, prefix) for e in errors]


def _fast_issue(error: Any, prefix: str) -> SchemaIssue:
    # the branch that got furthest, as _closest picks it
    leaves: list[Any] = []
    stack = [error]
    while stack:
        current = stack.pop()
        context = getattr(current.kind, "context", None) if _kind(current) in ("OneOfNotValid", "AnyOf") else None
        if context:
            stack.extend(e for branch in reversed(context) for e in reversed(branch))
        else:
            leaves.append(current)
    leaf = max(leaves, key=lambda e: (len(e.instance_path), _kind(e) != "Type"))
    path = [str(part) for part in leaf.instance_path]
    message = leaf.message
    if _kind(leaf) == "Required":
        missing = str(leaf.kind.property)
        path.append(missing)
        message = f"{missing!r} is a required property"
    pointer = prefix + "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in path)
    return SchemaIssue(pointer, _short(message))


def _issue(error: ValidationError, prefix: str) -> SchemaIssue:
    error = _closest(error)
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict) and isinstance(error.validator_value, list):
        missing = _missing(error.validator_value, error.instance, error.message)
        if missing is not None:
            path.append(missing)
    pointer = prefix + "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in path)
    return SchemaIssue(pointer, _short(error.message))


def _closest(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf, which say only "not valid under any of the given schemas", the failure
    of the branch that got furthest: the deepest one, and a wrong value over a wrong type."""
    leaves: list[ValidationError] = []
    stack = [error]
    while stack:
        current = stack.pop()
        if current.validator in ("oneOf", "anyOf") and current.context:
            stack.extend(reversed(current.context))
        else:
            leaves.append(current)
    return max(leaves, key=lambda leaf: (len(leaf.absolute_path), leaf.validator != "type"))


def _missing(required: Iterable[str], instance: dict[str, Any], message: str) -> str | None:
    for name in required:
        if name not in instance and message.startswith(repr(name)):
            return name
    return None


def _short(value: object) -> str:
    text = str(value).splitlines()[0] if str(value) else type(value).__name__
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"
