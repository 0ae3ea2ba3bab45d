"""RDFC-1.0 details that pyld gets wrong or leaves unbounded."""

from __future__ import annotations

import pytest

from microcred.credentials import CanonicalizationError, MalformedError, canonicalize_rdfc
from microcred.credentials.canonical import rdfc10


def _literal_doc(text: str) -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:00000000-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential"],
        "name": text,
    }


def _iri(v):
    return ("iri", v, None, None)


def _bnode(v):
    return ("bnode", v, None, None)


class TestLiteralEscaping:
    def test_control_characters_use_rdfc_escapes(self, loader):
        nquads = canonicalize_rdfc(_literal_doc("a\b\t\n\x0b\f\r\"\\\x7f\x01z"), loader=loader)
        assert '"a\\b\\t\\n\\u000B\\f\\r\\"\\\\\\u007F\\u0001z"' in nquads

    def test_non_ascii_text_is_written_as_is(self, loader):
        nquads = canonicalize_rdfc(_literal_doc("Zoë Ångström – 日本 🎓"), loader=loader)
        assert '"Zoë Ångström – 日本 🎓"' in nquads


class TestBlankNodeLabelling:
    def test_labels_do_not_depend_on_input_order(self):
        p = _iri("http://example.org/p")
        q = _iri("http://example.org/q")
        quads = [
            (_bnode("x"), p, _bnode("y"), None),
            (_bnode("y"), q, ("literal", "1", None, None), None),
            (_bnode("z"), p, _bnode("x"), None),
        ]
        assert rdfc10(quads) == rdfc10(list(reversed(quads)))
        assert "_:c14n" in rdfc10(quads)

    def test_symmetric_cycle_is_labelled_as_the_rdfc_test_suite_expects(self):
        # RDFC-1.0 test suite, test 0 of the rdf-canon crate's documentation example.
        nxt = _iri("http://example.org/vocab#next")
        prv = _iri("http://example.org/vocab#prev")
        g = _bnode("g")
        quads = [
            (_bnode("e0"), nxt, _bnode("e1"), g),
            (_bnode("e0"), prv, _bnode("e2"), g),
            (_bnode("e1"), nxt, _bnode("e2"), g),
            (_bnode("e1"), prv, _bnode("e0"), g),
            (_bnode("e2"), nxt, _bnode("e0"), g),
            (_bnode("e2"), prv, _bnode("e1"), g),
            (_iri("urn:ex:s"), _iri("urn:ex:p"), ("literal", "\b\t\n\x0b\f\r\"\\\x7f", None, None), g),
        ]
        assert rdfc10(quads) == (
            '<urn:ex:s> <urn:ex:p> "\\b\\t\\n\\u000B\\f\\r\\"\\\\\\u007F" _:c14n0 .\n'
            "_:c14n1 <http://example.org/vocab#next> _:c14n2 _:c14n0 .\n"
            "_:c14n1 <http://example.org/vocab#prev> _:c14n3 _:c14n0 .\n"
            "_:c14n2 <http://example.org/vocab#next> _:c14n3 _:c14n0 .\n"
            "_:c14n2 <http://example.org/vocab#prev> _:c14n1 _:c14n0 .\n"
            "_:c14n3 <http://example.org/vocab#next> _:c14n1 _:c14n0 .\n"
            "_:c14n3 <http://example.org/vocab#prev> _:c14n2 _:c14n0 .\n"
        )


class TestWorkLimit:
    def test_poison_graph_is_refused_quickly(self):
        # A clique of indistinguishable blank nodes: exponential for RDFC-1.0 without a limit.
        p = _iri("http://example.org/p")
        n = 12
        quads = [(_bnode(f"n{i}"), p, _bnode(f"n{j}"), None) for i in range(n) for j in range(n) if i != j]
        with pytest.raises(CanonicalizationError, match="work limit"):
            rdfc10(quads)

    def test_poison_credential_is_refused(self, loader):
        nodes = [{"@id": f"_:n{i}", "https://example.org/p": [{"@id": f"_:n{j}"} for j in range(10) if j != i]} for i in range(10)]
        doc = {"@context": {"@vocab": "https://example.org/"}, "@graph": nodes}
        with pytest.raises(CanonicalizationError):
            canonicalize_rdfc(doc, loader=loader)


def _number_doc(value: object) -> dict:
    return {"@context": {"@vocab": "https://example.org/"}, "@id": "https://example.org/n", "n": value}


class TestNumbersAsJsonldJsWritesThem:
    """Each JSON number's literal, as jsonld.js 8 (Digital Bazaar) writes it: the bytes it signs.

    The expected literals were printed by jsonld.js's ``canonize`` for the same documents.
    """

    @pytest.mark.parametrize(
        ("value", "literal"),
        [
            (1e-7, '"0"^^<http://www.w3.org/2001/XMLSchema#integer>'),
            (-1e-7, '"-0"^^<http://www.w3.org/2001/XMLSchema#integer>'),
            (2e-300, '"0"^^<http://www.w3.org/2001/XMLSchema#integer>'),
            (1.5e-7, '"1.5E-7"^^<http://www.w3.org/2001/XMLSchema#double>'),
            (1e-6, '"1.0E-6"^^<http://www.w3.org/2001/XMLSchema#double>'),
            (0.1, '"1.0E-1"^^<http://www.w3.org/2001/XMLSchema#double>'),
            (1e21, '"1.0E21"^^<http://www.w3.org/2001/XMLSchema#double>'),
            (1.5e300, '"1.5E300"^^<http://www.w3.org/2001/XMLSchema#double>'),
            (5.0, '"5"^^<http://www.w3.org/2001/XMLSchema#integer>'),
            (-0.0, '"0"^^<http://www.w3.org/2001/XMLSchema#integer>'),
            (1234567890123456.5, '"1.234567890123457E15"^^<http://www.w3.org/2001/XMLSchema#double>'),
            (12345678901234567890, '"12345678901234567168"^^<http://www.w3.org/2001/XMLSchema#integer>'),
            (123456789012345678901234, '"1.234567890123457E23"^^<http://www.w3.org/2001/XMLSchema#double>'),
        ],
    )
    def test_literal_matches_jsonld_js(self, loader, value, literal):
        nquads = canonicalize_rdfc(_number_doc(value), loader=loader)

        assert nquads == f"<https://example.org/n> <https://example.org/n> {literal} .\n"

    def test_a_number_beyond_any_double_is_refused(self, loader):
        with pytest.raises(MalformedError, match="too large"):
            canonicalize_rdfc(_number_doc(10**400), loader=loader)


class TestNodeMapBound:
    """pyld merges each property's values in quadratic time: a bound refuses what would take seconds."""

    @staticmethod
    def _subjects(count: int, *, same_id: bool = False) -> dict:
        document = _literal_doc("x")
        document["credentialSubject"] = [{"id": "did:example:x" if same_id else f"did:example:{i}", "name": f"{i}"} for i in range(count)]
        return document

    @pytest.mark.parametrize("same_id", [False, True])
    def test_five_thousand_values_of_one_property_are_refused(self, loader, same_id):
        with pytest.raises(MalformedError, match="too many values to canonicalize: 5000"):
            canonicalize_rdfc(self._subjects(5000, same_id=same_id), loader=loader)

    def test_hundreds_of_subjects_are_canonicalized(self, loader):
        assert canonicalize_rdfc(self._subjects(500), loader=loader).count("did:example:") == 1000


class TestRdfConversion:
    """Our node-map-to-RDF step writes exactly the quads pyld's own conversion writes (pyld's
    N-Quads agree with ours for text without control characters and for numbers both read
    alike), for every kind of object JSON-LD turns into RDF."""

    DOCUMENTS = {
        "lists, nested and empty": {
            "@context": {"@vocab": "https://vocab.example/", "l": {"@container": "@list"}},
            "@id": "https://s.example/1",
            "l": [["a", "b"], [], {"@id": "https://o.example/x"}, {"p": "node in a list"}, 7],
            "empty": {"@list": []},
        },
        "typed, language, boolean and JSON literals": {
            "@context": {
                "@vocab": "https://vocab.example/",
                "j": {"@type": "@json"},
                "d": {"@type": "http://www.w3.org/2001/XMLSchema#date"},
                "x": {"@type": "http://www.w3.org/2001/XMLSchema#double"},
            },
            "@id": "https://s.example/2",
            "t": [{"@value": "hallo", "@language": "nl"}, {"@value": "rtl", "@direction": "rtl"}, True, False],
            "j": {"z": [1, 2.5, None], "a": "é"},
            "d": "2026-12-03",
            "x": "2.5",
            "n": [1, -4, 2.5],
        },
        "named graphs, reverse and blank nodes": {
            "@context": {"@vocab": "https://vocab.example/", "knownBy": {"@reverse": "https://vocab.example/knows"}},
            "@graph": [
                {"@id": "https://g.example/g", "@graph": [{"@id": "_:a", "p": {"@id": "_:b"}}, {"@id": "_:b", "p": "leaf"}]},
                {"@id": "https://s.example/3", "knownBy": {"@id": "https://s.example/4"}, "@type": "Thing"},
            ],
        },
        "relative references are dropped": {
            "@context": {"@vocab": "https://vocab.example/", "r": {"@type": "@id"}},
            "@id": "https://s.example/5",
            "r": ["relative/path", "https://o.example/abs"],
            "q": [{"@id": "relative/node", "p": "dropped with its node"}, "kept"],
        },
    }

    @pytest.mark.parametrize("name", sorted(DOCUMENTS))
    def test_same_quads_as_pyld(self, name, loader):
        from pyld import jsonld

        from microcred.credentials.canonical import to_quads

        document = self.DOCUMENTS[name]
        ours = rdfc10(to_quads(document, loader=loader, safe=False))
        theirs = jsonld.normalize(
            document,
            {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader, "base": None},
        )
        assert ours == theirs
        assert ours.count("\n") >= 2  # the documents do turn into RDF

    def test_a_relative_reference_in_a_list_leaves_its_slot_empty(self, loader):
        """JSON-LD §8.4.3: no rdf:first for an item that is no RDF term (pyld raised a TypeError)."""
        from microcred.credentials.canonical import to_quads

        document = {
            "@context": {"@vocab": "https://vocab.example/", "rl": {"@type": "@id", "@container": "@list"}},
            "@id": "https://s.example/6",
            "rl": ["relative", "https://o.example/abs"],
        }
        nquads = rdfc10(to_quads(document, loader=loader, safe=False))
        assert nquads.count("rdf-syntax-ns#first>") == 1
        assert nquads.count("rdf-syntax-ns#rest>") == 2
        assert "<https://o.example/abs>" in nquads
