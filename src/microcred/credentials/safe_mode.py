"""JSON-LD safe mode: refuse what JSON-LD would silently drop or resolve against a base.

pyld, like every JSON-LD processor, drops a property that no context defines and turns a
``type`` that no context defines into a relative IRI, which RDF conversion then drops. The
signature covers none of it, so a verifier in safe mode (Digital Bazaar's, for one) rejects
the credential, while a lenient one accepts a document whose visible text was never signed.
We refuse both before signing and when verifying, naming the term. The checks mirror the
safe-mode events of jsonld.js: invalid (dropped) property, relative @type/@id reference,
empty or free-floating values that vanish on expansion.

Also here: structural limits on untrusted input (depth and size) checked before expansion, so
a hostile document cannot exhaust the recursion limit or memory of a verifier.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from .errors import MalformedError, UndefinedTermError

__all__ = ["MAX_DEPTH", "MAX_MERGE_COST", "MAX_NODES", "check_expanded", "check_shape"]

MAX_DEPTH = 48
MAX_NODES = 50_000
#: Bound on pyld's node-map work: the sum, over each property of each node, of the square of
#: its number of values. pyld adds each value of a property after comparing it with every value
#: already there, so one property with 5,000 values (5,000 subjects in one credential, or 5,000
#: node objects sharing an ``@id``) costs 12 million comparisons, seconds of a verifier's time.
#: Honest credentials are far below it (a property can still hold a thousand values).
MAX_MERGE_COST = 1_000_000
#: Integers from here on have no IEEE double, which is how every JSON-LD processor reads numbers.
_DOUBLE_LIMIT = 2**1024
#: A lone UTF-16 surrogate (JSON's ``\ud800`` escape): no Unicode text, so nothing can encode it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def check_shape(document: Any) -> None:
    """Refuse non-JSON values (lone surrogates included), documents nested deeper than MAX_DEPTH or
    larger than MAX_NODES."""
    if not isinstance(document, dict):
        raise MalformedError("a credential must be a JSON object")
    count = 0
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise MalformedError(f"document has more than {MAX_NODES} JSON values")
        if depth > MAX_DEPTH:
            raise MalformedError(f"document is nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise MalformedError("JSON object keys must be strings")
                if _SURROGATE.search(key):
                    raise MalformedError("text must be Unicode: a key holds a lone surrogate")
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise MalformedError("NaN and infinite numbers are not JSON")
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _DOUBLE_LIMIT:
            raise MalformedError("a number is too large for a JSON-LD processor (beyond an IEEE double)")
        elif isinstance(value, str):
            if _SURROGATE.search(value):
                raise MalformedError("text must be Unicode: a string holds a lone surrogate")
        elif value is not None and not isinstance(value, (int, bool)):
            raise MalformedError(f"unsupported JSON value of type {type(value).__name__}")


def _is_absolute(iri: str) -> bool:
    scheme, sep, _ = iri.partition(":")
    return bool(sep) and bool(scheme) and scheme[0].isalpha() and all(
        c.isalnum() or c in "+-." for c in scheme
    )


def _is_reference(iri: Any) -> bool:
    return isinstance(iri, str) and (iri.startswith("_:") or _is_absolute(iri))


def check_expanded(expanded: Any, dropped: list[str | None], *, safe: bool = True) -> None:
    """One walk of the expanded document: with ``safe``, raise UndefinedTermError for anything
    expansion dropped or left relative; always, refuse a node map pyld would build in quadratic
    time (see MAX_MERGE_COST)."""
    if safe and dropped:
        term = dropped[0]
        if term is None:
            raise UndefinedTermError("a property maps to null in the context and would be dropped")
        raise UndefinedTermError(
            f"undefined term {term!r}: no context in @context defines it, so it would not be signed",
            pointer=term,
        )
    counts: dict[tuple[Any, str], int] = defaultdict(int)
    stack: list[Any] = [expanded]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
            continue
        if not isinstance(value, dict):
            if safe:
                raise UndefinedTermError(f"free-floating value {value!r} would be dropped")
            continue
        if "@value" in value:
            continue
        if "@list" in value:
            stack.append(value["@list"])
            continue
        if safe:
            _check_references(value)
        node = value["@id"] if isinstance(value.get("@id"), str) else id(value)  # same @id: one node
        for key, item in value.items():
            if key == "@reverse":
                if isinstance(item, dict):
                    stack.extend(item.values())
                continue
            if key.startswith("@") and key not in ("@type", "@graph", "@included"):
                continue
            items = item if isinstance(item, list) else [item]
            counts[(node, key)] += len(items)
            if key != "@type":
                stack.extend(items)
    if sum(n * n for n in counts.values()) > MAX_MERGE_COST:
        (node, key), most = max(counts.items(), key=lambda entry: entry[1])
        raise MalformedError(
            f"too many values to canonicalize: {most} for one property ({key!r}); the document is "
            "beyond what a verifier should spend its time on",
            pointer=None if key.startswith("@") else key,
        )


def _check_references(node: dict[str, Any]) -> None:
    if "@id" in node and not _is_reference(node["@id"]):
        raise UndefinedTermError(
            f"relative @id reference {node['@id']!r}: identifiers must be absolute IRIs",
            pointer=str(node["@id"]),
        )
    for type_ in node.get("@type", []):
        if not _is_reference(type_):
            raise UndefinedTermError(
                f"relative @type reference {type_!r}: no context defines this type",
                pointer=str(type_),
            )
