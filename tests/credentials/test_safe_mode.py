"""Safe mode: what JSON-LD would drop silently is refused, naming the term."""

from __future__ import annotations

import copy

import pytest

from microcred.credentials import ContextError, MalformedError, UndefinedTermError, canonicalize_rdfc
from microcred.credentials.canonical import to_quads


class TestUndefinedTerms:
    def test_undefined_property_is_named(self, ob3_unsigned, loader):
        doc = {**ob3_unsigned, "favouriteColour": "green"}
        with pytest.raises(UndefinedTermError, match="favouriteColour"):
            canonicalize_rdfc(doc, loader=loader)

    def test_undefined_nested_property_is_named(self, ob3_unsigned, loader):
        doc = copy.deepcopy(ob3_unsigned)
        doc["credentialSubject"]["achievement"]["secretGrade"] = "A"
        with pytest.raises(UndefinedTermError, match="secretGrade"):
            canonicalize_rdfc(doc, loader=loader)

    def test_undefined_type_is_a_relative_type_reference(self, ob3_unsigned, loader):
        doc = {**ob3_unsigned, "type": ["VerifiableCredential", "OpenBadgeCredential", "MadeUpCredential"]}
        with pytest.raises(UndefinedTermError, match="relative @type reference 'MadeUpCredential'"):
            canonicalize_rdfc(doc, loader=loader)

    def test_relative_id_is_refused(self, ob3_unsigned, loader):
        doc = {**ob3_unsigned, "id": "credential-42"}
        with pytest.raises(UndefinedTermError, match="relative @id reference 'credential-42'"):
            canonicalize_rdfc(doc, loader=loader)

    def test_credential_schema_type_needs_the_extensions_context(self, loader):
        from ..conftest import load_vector

        doc = load_vector("ob3-eddsa-rdfc-2022/unsigned.json")
        doc["credentialSchema"] = [
            {
                "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
                "type": "1EdTechJsonSchemaValidator2019",
            }
        ]
        assert to_quads(doc, loader=loader)  # extensions.json is in this vector's @context
        doc["@context"] = doc["@context"][:2]
        with pytest.raises(UndefinedTermError, match="1EdTechJsonSchemaValidator2019"):
            to_quads(doc, loader=loader)

    def test_the_vector_credential_is_accepted(self, ob3_unsigned, loader):
        assert len(to_quads(ob3_unsigned, loader=loader)) > 10


class TestContextsAreNeverFetched:
    def test_unknown_context_is_refused_by_name(self, ob3_unsigned, loader):
        doc = {**ob3_unsigned, "@context": [*ob3_unsigned["@context"], "https://evil.example/context.json"]}
        with pytest.raises(ContextError, match="https://evil.example/context.json"):
            canonicalize_rdfc(doc, loader=loader)

    def test_loader_refuses_unknown_urls_without_network(self, loader):
        with pytest.raises(ContextError, match="refusing to fetch"):
            loader("https://www.w3.org/2018/credentials/examples/v1")

    def test_bundled_contexts_are_pinned(self, loader):
        from microcred.credentials.loader import bundled_context_urls

        urls = bundled_context_urls()
        for needed in (
            "https://www.w3.org/2018/credentials/v1",
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
            "https://w3id.org/security/data-integrity/v2",
            "https://w3id.org/security/multikey/v1",
            "https://w3id.org/security/suites/ed25519-2020/v1",
            "https://www.w3.org/ns/credentials/status/v1",
            "https://w3id.org/microcred/v1",
        ):
            assert needed in urls
            assert loader(needed)["document"]["@context"]


class TestHostileInput:
    def test_deep_nesting_is_refused(self, loader):
        doc: dict = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]}
        inner = doc
        for _ in range(200):
            inner["credentialSubject"] = {}
            inner = inner["credentialSubject"]
        with pytest.raises(MalformedError, match="nested deeper"):
            to_quads(doc, loader=loader)

    def test_non_object_is_refused(self, loader):
        with pytest.raises(MalformedError):
            to_quads(["not", "a", "credential"], loader=loader)
