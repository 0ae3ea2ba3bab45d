"""Canonical forms that get hashed and signed: RDFC-1.0 N-Quads and JCS (RFC 8785).

RDF Dataset Canonicalization is our own implementation over pyld's expansion and RDF
conversion, for three reasons:

* pyld's N-Quads serializer leaves form feed, backspace, vertical tab and other control
  characters raw, where RDFC-1.0's canonical N-Quads writes ``\\b \\f`` and ``\\u000B``; a
  credential whose text contains one then hashes differently here and in every other verifier.
* a verifier canonicalizes arbitrary JSON, and RDFC-1.0 is exponential on crafted blank-node
  graphs: the work here is bounded (``max_work``) and exceeding it is an error, not a hang.
* JSON-LD safe mode (``safe_mode.py``) needs the expanded document, and expanding once for
  both the check and the conversion halves the cost.

https://www.w3.org/TR/rdf-canon/
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from itertools import permutations
from typing import Any

import rfc8785
from cachetools import LRUCache
from pyld import jsonld
from pyld.identifier_issuer import IdentifierIssuer as _PyldIssuer

from .errors import CanonicalizationError, ContextError, MalformedError, UndefinedTermError
from .loader import DocumentLoader, bundled_context_urls, pinned_object
from .safe_mode import check_expanded, check_shape

__all__ = [
    "DEFAULT_MAX_WORK",
    "Quad",
    "canonicalize_jcs",
    "canonicalize_rdfc",
    "lossy_number",
    "rdfc10",
    "to_quads",
]

#: Upper bound on RDFC-1.0 deep iterations (hash N-degree calls plus permutations tried).
#: Credentials have a few dozen blank nodes, nearly all unique at first degree; a limit of
#: thousands leaves honest documents far below it and stops poison graphs in milliseconds.
DEFAULT_MAX_WORK = 5_000

# A term is a tuple (kind, value, datatype, language); kind is "iri", "bnode" or "literal".
Term = tuple[str, str, str | None, str | None]
#: (subject, predicate, object, graph) — graph None is the default graph.
Quad = tuple[Term, Term, Term, Term | None]

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
_XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
_RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

_ECHAR = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f\x7f"\\]')


def _escape_char(match: re.Match[str]) -> str:
    ch = match.group(0)
    return _ECHAR.get(ch) or f"\\u{ord(ch):04X}"


def _escape_literal(value: str) -> str:
    """Canonical N-Quads string escaping (RDFC-1.0 §4, RDF 1.2 N-Triples canonical form)."""
    return _NEEDS_ESCAPE.sub(_escape_char, value)


def _term(term: Term, *, bnode_label: str | None = None) -> str:
    kind, value, datatype, language = term
    if kind == "iri":
        return f"<{value}>"
    if kind == "bnode":
        return f"_:{bnode_label if bnode_label is not None else value}"
    out = f'"{_escape_literal(value)}"'
    if language:
        return f"{out}@{language}"
    if datatype and datatype != _XSD_STRING:
        return f"{out}^^<{datatype}>"
    return out


def _nquad(quad: Quad, labels: Mapping[str, str] | None = None) -> str:
    parts = []
    for term in quad:
        if term is None:
            continue
        label = labels.get(term[1]) if labels is not None and term[0] == "bnode" else None
        parts.append(_term(term, bnode_label=label))
    return " ".join(parts) + " .\n"


# -- JSON-LD to RDF ---------------------------------------------------------------------------


#: Processed active contexts, by (parent context id, local context, flags). See _Processor.
_PROCESSED: LRUCache[tuple[Any, ...], dict[str, Any]] = LRUCache(maxsize=4096)


#: Expanded terms, by (active context id, term, base). A plain dict, cleared when full: a
#: credential's vocabulary is a few hundred terms, so it rarely is.
_TERMS: dict[tuple[str, str, Any], Any] = {}
_MAX_TERMS = 50_000


def _local_context_key(local_ctx: Any) -> str | None:
    """A content key for a local context, or None when it must not be memoised.

    URLs count only when bundled (their content is pinned); scoped contexts from bundled
    documents by identity; any other inline context by content, so a caller that edits a context
    object between calls never gets a stale result.
    """
    if pinned_object(local_ctx):
        return f"pinned:{id(local_ctx)}"
    items = local_ctx if isinstance(local_ctx, list) else [local_ctx]
    bundled = bundled_context_urls()
    for item in items:
        if isinstance(item, str) and item not in bundled:
            return None
    try:
        return json.dumps(local_ctx, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None


#: What may stand at the top of a context besides terms (JSON-LD 1.1 API §4.1.2).
_CONTEXT_KEYWORDS = frozenset(
    {"@base", "@direction", "@import", "@language", "@propagate", "@protected", "@type", "@version", "@vocab"}
)
_KEYWORD_FORM = re.compile(r"@[A-Za-z]+")


def _unsafe_context(ctx: Mapping[str, Any]) -> str | None:
    """Why jsonld.js's safe mode would refuse this inline context, or None.

    A relative ``@vocab`` makes every term an IRI relative to a base nobody chose, and a
    keyword-like term (``@foo``) is ignored with a warning: both change what gets signed
    without a word, so Digital Bazaar refuses them, and so do we.
    """
    if "@context" in ctx and isinstance(ctx["@context"], dict):
        ctx = ctx["@context"]
    vocab = ctx.get("@vocab")
    if isinstance(vocab, str) and not (vocab.startswith("_:") or _absolute_iri(vocab)):
        return f"relative @vocab {vocab!r}: it must be an absolute IRI"
    for key in ctx:
        if isinstance(key, str) and _KEYWORD_FORM.fullmatch(key) and key not in _CONTEXT_KEYWORDS:
            return f"{key!r} has the form of a keyword but is none that a context may hold"
    return None


class _CheapCopy(dict[str, Any]):
    """A document pyld may copy as JSON: pyld's expand deep-copies its input with
    ``copy.deepcopy``, a twentieth of a signature; ``check_shape`` has already proved the
    document is plain JSON, which copies three times faster without deepcopy's bookkeeping."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return _json_copy(self)  # type: ignore[no-any-return]


def _json_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_copy(item) for item in value]
    return value


class _ActiveContext(dict[str, Any]):
    """An active context in which removing an unset entry is a no-op.

    ``{"@vocab": null}`` (or ``@language``/``@direction`` null) removes the default when
    there is one, and does nothing when there is none (JSON-LD 1.1 API §4.1.2, steps 5.8.2,
    5.9.2, 5.10.3). pyld deletes the entry unconditionally, so a context that nulls a default
    nobody set raised ``KeyError``: the W3C VC 2.0 suite sends ``[".../credentials/v2",
    {"@vocab": null}]``.
    """

    def __delitem__(self, key: str) -> None:
        self.pop(key, None)


class _Processor(jsonld.JsonLdProcessor):  # type: ignore[misc]
    """pyld's processor, recording properties it would silently drop, and remembering
    processed contexts.

    pyld caches a processed context per parent context id, but every type-scoped context (OB
    3.0 has one per class) clones its parent under a fresh id first, so the cache never hits
    and each credential re-processes every scoped context: 80% of pyld's signing time. Keyed
    by content instead, a processed context is built once per process.
    """

    def __init__(self, *, document: Any = None, safe: bool = False) -> None:
        self.dropped: list[str | None] = []
        self._document = document
        self._safe = safe
        super().__init__(on_property_dropped=self.dropped.append)

    def _process_context(  # noqa: PLR0913 - pyld's signature
        self,
        active_ctx: dict[str, Any],
        local_ctx: Any,
        options: dict[str, Any],
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: Any = None,
    ) -> dict[str, Any]:
        if self._safe:  # before pyld, which warns of an "@foo" term and ignores it
            for item in local_ctx if isinstance(local_ctx, list) else [local_ctx]:
                if isinstance(item, dict) and not pinned_object(item):
                    why = _unsafe_context(item)
                    if why is not None:
                        raise UndefinedTermError(f"unsafe context: {why}", pointer=_context_pointer(self._document, item))
        parent = active_ctx.get("_uuid")
        local_key = _local_context_key(local_ctx) if parent is not None else None
        key = None
        if local_key is not None:
            key = (parent, local_key, override_protected, propagate, validate_scoped,
                   options.get("base"), options.get("processingMode"))
            hit = _PROCESSED.get(key)
            if hit is not None:
                return hit
        result: dict[str, Any] = super()._process_context(
            active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
        )
        if key is not None:
            if "_uuid" not in result:
                result["_uuid"] = str(uuid.uuid4())
            _PROCESSED[key] = result
        return result

    def _clone_active_context(self, active_ctx: dict[str, Any]) -> dict[str, Any]:
        """pyld's child context, as an :class:`_ActiveContext`, keeping ``@direction``.

        pyld's clone forgets a default ``@direction`` set by an earlier context in the same
        list; JSON-LD keeps every default until a context changes it.
        """
        child = _ActiveContext(super()._clone_active_context(active_ctx))
        if "@direction" in active_ctx:
            child["@direction"] = active_ctx["@direction"]
        return child

    def _expand_iri(  # noqa: PLR0913 - pyld's signature
        self,
        active_ctx: dict[str, Any],
        value: Any,
        base: Any = None,
        vocab: bool = False,
        local_ctx: Any = None,
        defined: Any = None,
    ) -> Any:
        """Term and type expansion, remembered per finished (immutable) active context.

        Only vocabulary-relative expansion (property names, types) repeats across credentials;
        a context still being built has no ``_uuid`` yet and is never remembered.
        """
        uid = active_ctx.get("_uuid") if vocab and local_ctx is None and isinstance(value, str) else None
        if uid is None:
            return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        key = (uid, value, base)
        try:
            return _TERMS[key]
        except KeyError:
            pass
        result = super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        if len(_TERMS) >= _MAX_TERMS:
            _TERMS.clear()
        _TERMS[key] = result
        return result


#: Enough precision for any double's exact decimal expansion (at most 767 significant digits).
_EXACT = Context(prec=800)
_SIXTEEN_DIGITS = Decimal("1.000000000000000")


def _double_lexical(value: float) -> str:
    """Canonical ``xsd:double`` lexical form as JSON-LD writes it: ``1.5E-7``, ``1.0E21``.

    One digit before the point, at least one after it, no exponent sign or leading zeros
    (JSON-LD 1.1 API §8.6; ``toExponential(15)`` trimmed, as jsonld.js does).
    """
    # Exactly as toExponential rounds: the double's exact decimal value, ties away from zero
    # (Python's own formatting rounds ties to even: 1234567890123456.5 would end in 6, not 7).
    exact = Decimal(value)
    if exact == 0:
        return "0.0E0"
    exponent = exact.adjusted()
    with localcontext(_EXACT):
        rounded = exact.scaleb(-exponent).quantize(_SIXTEEN_DIGITS, rounding=ROUND_HALF_UP)
        if abs(rounded) >= 10:  # 9.9999999999999995 rounds up to 10.000...: renormalise
            exponent += 1
            rounded = exact.scaleb(-exponent).quantize(_SIXTEEN_DIGITS, rounding=ROUND_HALF_UP)
    whole, _, fraction = f"{rounded:f}".partition(".")
    return f"{whole}.{fraction.rstrip('0') or '0'}E{exponent}"


def _jsonld_js_double(number: float) -> bool:
    """Whether jsonld.js calls this JSON number a double: its JavaScript string has a ``.`` or
    its magnitude is at least 1e21 (otherwise it is an integer, written with ``toFixed(0)``)."""
    magnitude = abs(number)
    if magnitude >= 1e21:
        return True
    if magnitude != 0 and magnitude < 1e-6:
        # JavaScript writes these in exponent form ("1e-7", "1.5e-7"): a "." only when the
        # shortest round-tripping digits (the same in Python's repr) number more than one.
        digits = repr(magnitude).split("e")[0].replace(".", "").strip("0")
        return len(digits) > 1
    return not number.is_integer()


def lossy_number(value: Any) -> bool:
    """Whether JSON-LD processors read this JSON number as another one: jsonld.js (hence
    Digital Bazaar, and our canonical form, which must match it) makes a non-integer below
    1e-6 with one significant digit the integer 0, so ``1e-7`` and ``9e-7`` sign alike and a
    signature would not protect the number. Issuers refuse these (see ``issue``)."""
    if not isinstance(value, float) or value != value or value in (float("inf"), float("-inf")):
        return False
    return not value.is_integer() and not _jsonld_js_double(value)


def _number_literal(value: int | float, datatype: str | None) -> tuple[str, str]:
    """The RDF literal (lexical form, datatype) of a JSON number, exactly as jsonld.js makes it.

    Every JavaScript processor holds a JSON number as an IEEE double, and jsonld.js (hence
    Digital Bazaar's signers and verifiers) calls it a double when its JavaScript string form
    has a ``.`` or its magnitude is at least 1e21; otherwise an integer, written with
    ``toFixed(0)``. pyld follows the JSON-LD spec's wording instead ("non-zero fractional
    part"), and the two disagree on numbers below 1e-6 written with one significant digit:
    jsonld.js makes ``1e-7`` the integer ``"0"`` (and ``-1e-7`` ``"-0"``) where pyld makes it
    ``"1.0E-7"``. They also disagree on integers beyond 2**53, which JavaScript rounds to the
    nearest double. A signature hashes these literals, so we write what jsonld.js writes:
    otherwise a credential with such a number, signed by Digital Bazaar, reads as tampered here.
    """
    try:
        number = float(value)
    except OverflowError as exc:
        raise MalformedError(f"the number {value} is too large for a JSON-LD processor (beyond an IEEE double)") from exc
    if number != number or number in (float("inf"), float("-inf")):
        raise MalformedError("NaN and infinite numbers are not JSON")
    is_double = _jsonld_js_double(number)
    if is_double or datatype == _XSD_DOUBLE:
        return _double_lexical(number), datatype or _XSD_DOUBLE
    if number.is_integer():
        return str(int(number)), datatype or _XSD_INTEGER
    return ("-0" if number < 0 else "0"), datatype or _XSD_INTEGER  # toFixed(0) of a tiny number


def to_quads(document: Any, *, loader: DocumentLoader, safe: bool = True) -> list[Quad]:
    """Expand ``document`` (JSON-LD) with bundled contexts only, check it, and return its quads.

    With ``safe`` (always, outside tests of the unsafe behaviour itself) any term that no
    context defines, relative ``@type``/``@id`` values and other constructs that JSON-LD would
    drop without a word raise :class:`UndefinedTermError` naming the term.
    """
    check_shape(document)
    processor = _Processor(document=document, safe=safe)
    options: dict[str, Any] = {
        "documentLoader": loader,
        "base": None,  # pyld resolves relative IRIs against a made-up base when given ""
        "processingMode": "json-ld-1.1",
        "produceGeneralizedRdf": False,
        "extractAllScripts": False,
        "contextResolver": jsonld.ContextResolver(jsonld._resolved_context_cache, loader),
    }
    try:
        expanded = processor.expand(_CheapCopy(document), options)
    except jsonld.JsonLdError as exc:
        raise _jsonld_error(exc) from exc
    except RecursionError as exc:
        raise MalformedError("document is nested too deeply") from exc
    except ValueError as exc:  # pyld's IRI resolver, e.g. a context "" with no base IRI to resolve it against
        raise ContextError(f"invalid @context: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", pointer="@context") from exc
    check_expanded(expanded, processor.dropped, safe=safe)
    issuer = _PyldIssuer("_:b")
    node_map: dict[str, Any] = {"@default": {}}
    try:
        processor._create_node_map(expanded, node_map, "@default", issuer)
        quads: list[Quad] = []
        for graph_name, graph in sorted(node_map.items()):
            if graph_name == "@default":
                g: Term | None = None
            elif graph_name.startswith("_:"):
                g = ("bnode", graph_name[2:], None, None)
            elif _absolute_iri(graph_name):
                g = ("iri", graph_name, None, None)
            else:
                continue
            _graph_quads(graph, issuer, g, quads)
    except jsonld.JsonLdError as exc:
        raise _jsonld_error(exc) from exc
    return quads


# -- node map to RDF (JSON-LD 1.1 API §8.4.2, §8.4.3) -------------------------------------------
#
# pyld's algorithm, term for term and in the same order (so blank nodes get the same labels),
# writing our term tuples directly: pyld builds three dicts per triple and we converted each
# again, a fifth of a signature's time. Only the default rdfDirection (none) is needed: to_quads
# never sets another.

_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")  # pyld's own test
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_TYPE: Term = ("iri", _RDF + "type", None, None)
_FIRST: Term = ("iri", _RDF + "first", None, None)
_REST: Term = ("iri", _RDF + "rest", None, None)
_NIL: Term = ("iri", _RDF + "nil", None, None)
_XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"


def _absolute_iri(value: Any) -> bool:
    return isinstance(value, str) and _ABSOLUTE_IRI.match(value) is not None


def _resource(iri: str) -> Term:
    return ("bnode", iri[2:], None, None) if iri.startswith("_:") else ("iri", iri, None, None)


def _graph_quads(graph: Mapping[str, Any], issuer: _PyldIssuer, g: Term | None, out: list[Quad]) -> None:
    """Append the quads of one node-map graph: every property of every node with an absolute
    (or blank) subject and an absolute predicate; blank-node predicates are not RDF."""
    for id_, node in sorted(graph.items()):
        if not _absolute_iri(id_):
            continue
        subject = _resource(id_)
        for prop, items in sorted(node.items()):
            if prop == "@type":
                predicate = _TYPE
            elif prop.startswith("@") or prop.startswith("_:") or not _absolute_iri(prop):
                continue  # keywords, bnode predicates (not generalized RDF), relative IRIs
            else:
                predicate = ("iri", prop, None, None)
            for item in items:
                obj = _object_term(item, issuer, g, out)
                if obj is not None:
                    out.append((subject, predicate, obj, g))


def _list_term(items: Sequence[Any], issuer: _PyldIssuer, g: Term | None, out: list[Quad]) -> Term:
    """The head of an RDF collection for a ``@list`` (``rdf:nil`` when empty)."""
    last = items[-1] if items else None
    head: Term = ("bnode", issuer.get_id()[2:], None, None) if last else _NIL
    subject = head
    for item in items[:-1]:
        obj = _object_term(item, issuer, g, out)
        following: Term = ("bnode", issuer.get_id()[2:], None, None)
        if obj is not None:  # a relative IRI: no rdf:first (§8.4.3 step 6.2; pyld crashed here)
            out.append((subject, _FIRST, obj, g))
        out.append((subject, _REST, following, g))
        subject = following
    if last:
        obj = _object_term(last, issuer, g, out)
        if obj is not None:
            out.append((subject, _FIRST, obj, g))
        out.append((subject, _REST, _NIL, g))
    return head


def _object_term(item: Any, issuer: _PyldIssuer, g: Term | None, out: list[Quad]) -> Term | None:
    """The RDF term of a value, list or node reference; None for a relative IRI (dropped)."""
    if isinstance(item, dict) and "@value" in item:
        value = item["@value"]
        datatype = item.get("@type")
        if datatype == "@json":
            return ("literal", jsonld.canonicalize(value).decode("utf-8"), _RDF + "JSON", None)
        if isinstance(value, bool):
            return ("literal", "true" if value else "false", datatype or _XSD_BOOLEAN, None)
        if isinstance(value, (int, float)):  # as jsonld.js writes numbers: see _number_literal
            lexical, datatype = _number_literal(value, datatype)
            return ("literal", lexical, datatype, None)
        if datatype == _XSD_DOUBLE:
            try:
                return ("literal", jsonld._canonicalize_double(float(value)), _XSD_DOUBLE, None)
            except (ValueError, TypeError):
                return ("literal", value, _XSD_DOUBLE, None)
        if "@language" in item:
            language = item["@language"]
            return ("literal", value, _RDF_LANGSTRING if language else datatype or _RDF_LANGSTRING, language)
        return ("literal", value, datatype or _XSD_STRING, None)
    if isinstance(item, dict) and "@list" in item:
        return _list_term(item["@list"], issuer, g, out)
    id_ = item["@id"] if isinstance(item, dict) else item
    if id_.startswith("_:"):
        return ("bnode", id_[2:], None, None)
    return ("iri", id_, None, None) if _absolute_iri(id_) else None


def _context_pointer(document: Any, ctx: Any) -> str:
    """The JSON pointer of an inline context in the document's top-level ``@context``, if there."""
    top = document.get("@context") if isinstance(document, dict) else None
    if isinstance(top, list):  # pyld hands us copies: compared by content
        for index, item in enumerate(top):
            if item == ctx:
                return f"/@context/{index}"
    return "/@context"


def _jsonld_error(exc: Exception) -> Exception:
    """Turn pyld's error chain into ours, keeping the root cause's words."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ContextError):
            return ContextError(cause.message, pointer="@context")
        nxt = cause.__cause__ or cause.__context__
        if nxt is None:
            break
        cause = nxt
    root = cause if cause is not None else exc
    code = getattr(root, "code", None)
    text = str(root.args[0]) if isinstance(root, jsonld.JsonLdError) and root.args else str(root).split("\n", 1)[0]
    if code in {"loading remote context failed", "loading document failed"}:
        return ContextError(f"a context could not be loaded: {text}", pointer="@context")
    if code in _CONTEXT_ERRORS:
        return ContextError(f"invalid @context ({code}): {text}", pointer="@context")
    return MalformedError(f"invalid JSON-LD{f' ({code})' if code else ''}: {text}")


#: JSON-LD error codes raised while processing a context (JSON-LD 1.1 API §9.4.2).
_CONTEXT_ERRORS = frozenset(
    {
        "context overflow", "cyclic IRI mapping", "invalid @import value", "invalid @propagate value",
        "invalid @protected value", "invalid @version value", "invalid base direction", "invalid base IRI",
        "invalid container mapping", "invalid context entry", "invalid context nullification",
        "invalid default language", "invalid IRI mapping", "invalid keyword alias", "invalid language mapping",
        "invalid local context", "invalid remote context", "invalid reverse property", "invalid scoped context",
        "invalid term definition", "invalid type mapping", "invalid vocab mapping", "keyword redefinition",
        "processing mode conflict", "protected term redefinition", "recursive context inclusion",
    }
)


# -- RDFC-1.0 ---------------------------------------------------------------------------------


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Issuer:
    """Identifier issuer (RDFC-1.0 §4.5): issues prefix+counter in order of first request."""

    __slots__ = ("prefix", "issued")

    def __init__(self, prefix: str, issued: dict[str, str] | None = None) -> None:
        self.prefix = prefix
        self.issued: dict[str, str] = dict(issued) if issued else {}

    def issue(self, existing: str) -> str:
        got = self.issued.get(existing)
        if got is None:
            got = self.issued[existing] = f"{self.prefix}{len(self.issued)}"
        return got

    def copy(self) -> _Issuer:
        return _Issuer(self.prefix, self.issued)


@dataclass
class _State:
    bnode_quads: dict[str, list[Quad]]
    canonical: _Issuer
    first_degree: dict[str, str]
    work: int
    max_work: int

    def spend(self) -> None:
        self.work += 1
        if self.work > self.max_work:
            raise CanonicalizationError(
                f"RDFC-1.0 work limit exceeded ({self.max_work} deep iterations): the document's "
                "blank nodes form a graph too costly to canonicalize"
            )


def _bnodes(quad: Quad) -> Iterator[tuple[str, str]]:
    s, _p, o, g = quad
    if s[0] == "bnode":
        yield "s", s[1]
    if o[0] == "bnode":
        yield "o", o[1]
    if g is not None and g[0] == "bnode":
        yield "g", g[1]


def _hash_first_degree(state: _State, bnode: str) -> str:
    """RDFC-1.0 §4.6."""
    cached = state.first_degree.get(bnode)
    if cached is not None:
        return cached
    lines = []
    for quad in state.bnode_quads[bnode]:
        labels = {b: ("a" if b == bnode else "z") for _, b in _bnodes(quad)}
        lines.append(_nquad(quad, labels))
    lines.sort()
    result = _sha256_hex("".join(lines))
    state.first_degree[bnode] = result
    return result


def _hash_related(state: _State, related: str, quad: Quad, issuer: _Issuer, position: str) -> str:
    """RDFC-1.0 §4.7."""
    if related in state.canonical.issued:
        ident = "_:" + state.canonical.issued[related]
    elif related in issuer.issued:
        ident = "_:" + issuer.issued[related]
    else:
        ident = _hash_first_degree(state, related)
    data = position
    if position != "g":
        data += f"<{quad[1][1]}>"
    return _sha256_hex(data + ident)


def _hash_n_degree(state: _State, bnode: str, issuer: _Issuer) -> tuple[str, _Issuer]:
    """RDFC-1.0 §4.8, with every call and permutation counted against the work limit."""
    state.spend()
    hash_to_related: dict[str, list[str]] = defaultdict(list)
    for quad in state.bnode_quads[bnode]:
        for position, related in _bnodes(quad):
            if related != bnode:
                hash_to_related[_hash_related(state, related, quad, issuer, position)].append(related)
    data = ""
    for related_hash in sorted(hash_to_related):
        data += related_hash
        chosen_path = ""
        chosen_issuer: _Issuer | None = None
        for permutation in permutations(hash_to_related[related_hash]):
            state.spend()
            issuer_copy = issuer.copy()
            path = ""
            recursion: list[str] = []
            skip = False
            for related in permutation:
                if related in state.canonical.issued:
                    path += "_:" + state.canonical.issued[related]
                else:
                    if related not in issuer_copy.issued:
                        recursion.append(related)
                    path += "_:" + issuer_copy.issue(related)
                if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                    skip = True
                    break
            if skip:
                continue
            for related in recursion:
                result_hash, result_issuer = _hash_n_degree(state, related, issuer_copy)
                path += "_:" + issuer_copy.issue(related)
                path += f"<{result_hash}>"
                issuer_copy = result_issuer
                if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                    skip = True
                    break
            if skip:
                continue
            if not chosen_path or path < chosen_path:
                chosen_path = path
                chosen_issuer = issuer_copy
        data += chosen_path
        assert chosen_issuer is not None  # at least one permutation is always chosen
        issuer = chosen_issuer
    return _sha256_hex(data), issuer


def rdfc10(quads: Sequence[Quad], *, max_work: int = DEFAULT_MAX_WORK) -> str:
    """The canonical N-Quads of a dataset (RDFC-1.0 §4.4), sorted, one quad per line."""
    bnode_quads: dict[str, list[Quad]] = defaultdict(list)
    for quad in quads:
        for _, b in _bnodes(quad):
            if not bnode_quads[b] or bnode_quads[b][-1] is not quad:
                bnode_quads[b].append(quad)
    state = _State(bnode_quads, _Issuer("c14n"), {}, 0, max_work)

    hash_to_bnodes: dict[str, list[str]] = defaultdict(list)
    for bnode in bnode_quads:
        hash_to_bnodes[_hash_first_degree(state, bnode)].append(bnode)
    shared = []
    for h in sorted(hash_to_bnodes):
        nodes = hash_to_bnodes[h]
        if len(nodes) == 1:
            state.canonical.issue(nodes[0])
        else:
            shared.append(nodes)
    for nodes in shared:
        paths = []
        for bnode in nodes:
            if bnode in state.canonical.issued:
                continue
            temp = _Issuer("b")
            temp.issue(bnode)
            paths.append(_hash_n_degree(state, bnode, temp))
        for _hash, result_issuer in sorted(paths, key=lambda r: r[0]):
            for existing in result_issuer.issued:
                state.canonical.issue(existing)

    labels = state.canonical.issued
    return "".join(sorted(_nquad(q, labels) for q in quads))


def canonicalize_rdfc(
    document: Any, *, loader: DocumentLoader, max_work: int = DEFAULT_MAX_WORK, safe: bool = True
) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document (bundled contexts only)."""
    return rdfc10(to_quads(document, loader=loader, safe=safe), max_work=max_work)


#: Integers beyond this are not all doubles; the rfc8785 library refuses every one of them.
_SAFE_INTEGER = 2**53 - 1


def _large_integers_as_doubles(value: Any) -> Any:
    """``value`` with each integer beyond 2**53 that is exactly a double made that double.

    JCS reads every number as an IEEE double (RFC 8785 §3.2.2.3). JavaScript writes a large
    whole double such as 1e20 as ``100000000000000000000``, which Python reads as an int, and
    the rfc8785 library refuses ints beyond 2**53: a credential Digital Bazaar signed with one
    could not be verified. The same number as a double serializes exactly as JavaScript does.
    Other integers stay as they are (and are refused: signing one would sign a rounded number).
    """
    if isinstance(value, dict):
        return {key: _large_integers_as_doubles(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_large_integers_as_doubles(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _SAFE_INTEGER:
        try:
            as_double = float(value)
        except OverflowError:
            return value
        # exactly that double, or the very digits JavaScript writes for it (1234567890123456800)
        exact = int(as_double) == value or format(Decimal(repr(as_double)), "f") == str(value)
        return as_double if exact else value
    return value


def canonicalize_jcs(document: Any) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme bytes."""
    try:
        return rfc8785.dumps(_large_integers_as_doubles(document))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise MalformedError(f"document cannot be canonicalized with JCS: {exc}") from exc
