"""did:web identifiers and issuer DID documents with retired keys."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from pyld import jsonld

from microcred.credentials.did import (
    DID_CONTEXT_V1,
    MULTIKEY_CONTEXT_V1,
    PublishedKey,
    controller_document,
    did_web_from_url,
    did_web_to_url,
    published_keys_from_document,
)
from microcred.credentials.errors import KeyFormatError, ResolutionError
from microcred.credentials.keys import Ed25519KeyPair
from microcred.credentials.loader import DocumentLoader
from microcred.credentials.resolve import key_from_controller_document

DID = "did:web:issuer.example%3A8443:issuers:abc"
OLD = Ed25519KeyPair.from_seed(bytes(range(32)))
NEW = Ed25519KeyPair.from_seed(bytes(range(1, 33)))
ROTATED_AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def published(pair: Ed25519KeyPair, *, valid_until: datetime | None = None, did: str = DID) -> PublishedKey:
    return PublishedKey(
        id=f"{did}#{pair.public_key_multibase}",
        controller=did,
        public_key_multibase=pair.public_key_multibase,
        valid_from=datetime(2025, 1, 1, tzinfo=UTC),
        valid_until=valid_until,
    )


KEYS = [published(OLD, valid_until=ROTATED_AT), published(NEW)]


class TestDidWebFromUrl:
    def test_port_colon_is_percent_encoded_and_path_slashes_become_colons(self) -> None:
        assert did_web_from_url("https://issuer.example:8443/issuers/abc") == DID

    def test_bare_host_gives_a_did_without_path(self) -> None:
        assert did_web_from_url("https://Issuer.Example/") == "did:web:issuer.example"

    def test_extra_path_segments_are_appended_and_percent_encoded(self) -> None:
        did = did_web_from_url("https://issuer.example", "issuers", "Hochschule Zürich~1")
        assert did == "did:web:issuer.example:issuers:Hochschule%20Z%C3%BCrich%7E1"

    @pytest.mark.parametrize(
        "url",
        [
            "http://issuer.example/issuers/abc",
            "https://127.0.0.1/issuers",
            "https://[::1]/issuers",
            "https://user@issuer.example/",
            "https://issuer.example/issuers?x=1",
            "https://issuer.example/issuers#frag",
            "https://issuer.example//double",
            "https://issuer.example:99999/",
        ],
    )
    def test_refuses_urls_that_have_no_did_web(self, url: str) -> None:
        with pytest.raises(ResolutionError):
            did_web_from_url(url)

    def test_refuses_a_path_segment_that_would_escape_its_directory(self) -> None:
        with pytest.raises(ResolutionError):
            did_web_from_url("https://issuer.example", "..")


class TestDidWebToUrl:
    def test_port_and_path_map_to_the_did_json_under_that_path(self) -> None:
        assert did_web_to_url(DID) == "https://issuer.example:8443/issuers/abc/did.json"

    def test_no_path_maps_to_the_well_known_location(self) -> None:
        assert did_web_to_url("did:web:issuer.example") == "https://issuer.example/.well-known/did.json"

    def test_round_trips_with_did_web_from_url(self) -> None:
        did = did_web_from_url("https://issuer.example:8443", "issuers", "a b")
        assert did_web_to_url(did) == "https://issuer.example:8443/issuers/a%20b/did.json"
        assert did_web_from_url(did_web_to_url(did).removesuffix("/did.json")) == did

    @pytest.mark.parametrize(
        "did",
        [
            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "did:web:",
            "did:web:issuer.example:issuers:abc#key-1",
            "did:web:issuer.example/issuers",
            "did:web:issuer_example",
            "did:web:issuer.example%3Ahttps",
            "did:web:issuer.example::abc",
            "did:web:issuer.example:..",
            "did:web:issuer.example:a%2Fb",
            "did:web:10.0.0.1",
        ],
    )
    def test_refuses_malformed_did_web(self, did: str) -> None:
        with pytest.raises(ResolutionError):
            did_web_to_url(did)


class TestControllerDocument:
    def test_lists_current_and_retired_keys_as_multikey_assertion_methods(self) -> None:
        doc = controller_document(DID, KEYS)
        assert doc["@context"] == [DID_CONTEXT_V1, MULTIKEY_CONTEXT_V1]
        assert doc["id"] == DID
        assert doc["assertionMethod"] == [k.id for k in KEYS]
        assert [m["type"] for m in doc["verificationMethod"]] == ["Multikey", "Multikey"]
        assert [m["publicKeyMultibase"] for m in doc["verificationMethod"]] == [
            OLD.public_key_multibase,
            NEW.public_key_multibase,
        ]

    def test_retired_key_publishes_expires_and_never_revoked(self) -> None:
        old, new = controller_document(DID, KEYS)["verificationMethod"]
        assert old["expires"] == "2025-03-01T12:00:00Z"
        assert "expires" not in new
        assert "revoked" not in old and "revoked" not in new

    def test_every_published_term_is_defined_by_the_contexts(self) -> None:
        doc = controller_document(DID, KEYS)
        expanded = jsonld.expand(doc, {"documentLoader": DocumentLoader()})
        method = next(
            m
            for m in expanded[0]["https://w3id.org/security#verificationMethod"]
            if m["@id"] == KEYS[0].id
        )
        assert method["https://w3id.org/security#expiration"] == [
            {"@type": "http://www.w3.org/2001/XMLSchema#dateTime", "@value": "2025-03-01T12:00:00Z"}
        ]
        published_terms = {term for m in doc["verificationMethod"] for term in m} - {"id", "type"}
        assert len(method) - 2 == len(published_terms)  # nothing was dropped as undefined

    def test_our_resolver_reads_the_retirement_time_as_the_end_of_validity(self) -> None:
        doc = controller_document(DID, KEYS)
        old = key_from_controller_document(doc, KEYS[0].id)
        new = key_from_controller_document(doc, KEYS[1].id)
        assert old.valid_until == ROTATED_AT and "assertionMethod" in old.purposes
        assert new.valid_until is None and new.public_key == NEW.public_key

    def test_refuses_a_key_of_another_controller(self) -> None:
        with pytest.raises(ResolutionError):
            controller_document(DID, [published(OLD, did="did:web:other.example")])

    def test_refuses_a_malformed_public_key(self) -> None:
        bad = PublishedKey(id=f"{DID}#k", controller=DID, public_key_multibase="zabc", valid_from=None)
        with pytest.raises(KeyFormatError):
            controller_document(DID, [bad])


class TestPublishedKeysFromDocument:
    def test_round_trips_ids_keys_and_retirement(self) -> None:
        keys = published_keys_from_document(controller_document(DID, KEYS))
        assert [(k.id, k.controller, k.public_key_multibase, k.valid_until) for k in keys] == [
            (k.id, k.controller, k.public_key_multibase, k.valid_until) for k in KEYS
        ]

    def test_start_of_validity_is_not_published_so_reads_back_as_unknown(self) -> None:
        assert [k.valid_from for k in published_keys_from_document(controller_document(DID, KEYS))] == [None, None]

    def test_does_not_change_the_document(self) -> None:
        doc = controller_document(DID, KEYS)
        before = copy.deepcopy(doc)
        published_keys_from_document(doc)
        assert doc == before

    def test_relative_references_and_embedded_methods_are_read(self) -> None:
        doc = {
            "id": DID,
            "verificationMethod": [
                {"id": "#old", "type": "Multikey", "controller": DID, "publicKeyMultibase": OLD.public_key_multibase}
            ],
            "assertionMethod": [
                "#old",
                {"id": f"{DID}#new", "type": "Multikey", "controller": DID, "publicKeyMultibase": NEW.public_key_multibase},
            ],
        }
        assert [k.id for k in published_keys_from_document(doc)] == [f"{DID}#old", f"{DID}#new"]

    def test_an_earlier_revoked_time_ends_validity_before_expires(self) -> None:
        doc = controller_document(DID, KEYS)
        doc["verificationMethod"][0]["revoked"] = "2025-02-01T00:00:00Z"
        assert published_keys_from_document(doc)[0].valid_until == datetime(2025, 2, 1, tzinfo=UTC)

    def test_keys_only_for_other_purposes_or_of_other_types_are_skipped(self) -> None:
        doc = controller_document(DID, KEYS)
        doc["verificationMethod"].append({"id": f"{DID}#jwk", "type": "JsonWebKey", "controller": DID, "publicKeyJwk": {}})
        doc["assertionMethod"].append(f"{DID}#jwk")
        doc["verificationMethod"].append(
            {"id": f"{DID}#auth", "type": "Multikey", "controller": DID, "publicKeyMultibase": OLD.public_key_multibase}
        )
        assert [k.id for k in published_keys_from_document(doc)] == [k.id for k in KEYS]

    def test_refuses_a_method_controlled_by_someone_else(self) -> None:
        doc = controller_document(DID, KEYS)
        doc["verificationMethod"][1]["controller"] = "did:web:attacker.example"
        with pytest.raises(ResolutionError):
            published_keys_from_document(doc)

    def test_refuses_an_assertion_method_the_document_does_not_define(self) -> None:
        doc = controller_document(DID, KEYS)
        doc["assertionMethod"].append(f"{DID}#missing")
        with pytest.raises(ResolutionError):
            published_keys_from_document(doc)

    def test_refuses_a_malformed_key_or_date(self) -> None:
        doc = controller_document(DID, KEYS)
        doc["verificationMethod"][0]["expires"] = "March 2025"
        with pytest.raises(KeyFormatError):
            published_keys_from_document(doc)
