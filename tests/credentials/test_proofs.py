"""Data Integrity proof details: the proof-configuration template, proof options, purposes."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred.credentials import Ed25519KeyPair, Resolver, canonicalize_rdfc
from microcred.credentials.proofs import MAX_PROOFS, PROOF_CLOCK_SKEW, _canonical_proof_config, add_proof, verify_proof
from microcred.credentials.suites import get_suite

RDFC = get_suite("eddsa-rdfc-2022")
CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]


def _config(created: str, vm: str = "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw#z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw"):
    return {
        "type": "DataIntegrityProof",
        "created": created,
        "verificationMethod": vm,
        "cryptosuite": "eddsa-rdfc-2022",
        "proofPurpose": "assertionMethod",
        "@context": CONTEXT,
    }


class TestProofConfigurationTemplate:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        when=st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)),
        style=st.sampled_from(["Z", "frac", "offset"]),
    )
    def test_template_gives_the_same_bytes_as_full_canonicalization(self, when, style, loader):
        created = when.strftime("%Y-%m-%dT%H:%M:%S")
        created += {"Z": "Z", "frac": f".{when.microsecond:06d}Z", "offset": "+02:00"}[style]
        config = _config(created)
        assert _canonical_proof_config(RDFC, config, loader) == canonicalize_rdfc(config, loader=loader).encode()

    def test_different_keys_do_not_share_a_template(self, loader):
        a = _config("2026-01-01T00:00:00Z")
        other = Ed25519KeyPair.from_seed(b"\x09" * 32)
        b = _config("2026-01-01T00:00:00Z", vm=other.id)
        assert _canonical_proof_config(RDFC, a, loader) != _canonical_proof_config(RDFC, b, loader)
        assert _canonical_proof_config(RDFC, b, loader) == canonicalize_rdfc(b, loader=loader).encode()


class TestProofOptions:
    def test_input_is_not_mutated(self, ob3_unsigned, vector_key, loader):
        doc = copy.deepcopy(ob3_unsigned)
        doc["issuer"]["id"] = vector_key.controller
        before = copy.deepcopy(doc)
        add_proof(doc, suite=RDFC, signer=vector_key.signer(), loader=loader, created=datetime(2026, 1, 1, tzinfo=UTC))
        assert doc == before

    def test_wrong_purpose_fails(self, ob3_unsigned, vector_key, loader, now):
        doc = {**ob3_unsigned, "issuer": {**ob3_unsigned["issuer"], "id": vector_key.controller}}
        signed = add_proof(doc, suite=RDFC, signer=vector_key.signer(), loader=loader,
                           created=datetime(2026, 1, 1, tzinfo=UTC), proof_purpose="authentication")
        result = verify_proof(signed, loader=loader, resolve_key=Resolver(), now=now)
        assert not result.verified and "proofPurpose" in result.message

    def test_expired_proof_fails(self, ob3_unsigned, vector_key, loader, now):
        doc = {**ob3_unsigned, "issuer": {**ob3_unsigned["issuer"], "id": vector_key.controller}}
        signed = add_proof(doc, suite=RDFC, signer=vector_key.signer(), loader=loader,
                           created=datetime(2026, 1, 1, tzinfo=UTC), expires=datetime(2026, 2, 1, tzinfo=UTC))
        assert verify_proof(signed, loader=loader, resolve_key=Resolver(), now=datetime(2026, 1, 15, tzinfo=UTC)).verified
        assert not verify_proof(signed, loader=loader, resolve_key=Resolver(), now=now).verified

    def test_proof_dated_years_ahead_fails(self, ob3_unsigned, vector_key, loader, now):
        doc = {**ob3_unsigned, "issuer": {**ob3_unsigned["issuer"], "id": vector_key.controller}}
        signed = add_proof(doc, suite=RDFC, signer=vector_key.signer(), loader=loader, created=now + timedelta(days=3 * 365))
        result = verify_proof(signed, loader=loader, resolve_key=Resolver(), now=now)
        assert not result.verified and result.failure == "not_yet_valid"
        assert "in the future" in result.message

    def test_proof_dated_within_the_clock_skew_verifies(self, ob3_unsigned, vector_key, loader, now):
        doc = {**ob3_unsigned, "issuer": {**ob3_unsigned["issuer"], "id": vector_key.controller}}
        ahead = add_proof(doc, suite=RDFC, signer=vector_key.signer(), loader=loader, created=now + PROOF_CLOCK_SKEW)
        assert verify_proof(ahead, loader=loader, resolve_key=Resolver(), now=now).verified
        beyond = add_proof(doc, suite=RDFC, signer=vector_key.signer(), loader=loader,
                           created=now + PROOF_CLOCK_SKEW + timedelta(seconds=1))
        assert not verify_proof(beyond, loader=loader, resolve_key=Resolver(), now=now).verified

    def test_signer_of_the_wrong_algorithm_is_refused(self, ob3_unsigned, loader):
        class P256Signer:
            id = "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169#zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"
            algorithm = "P-256"

            def sign(self, data: bytes) -> bytes:
                return b"\0" * 64

        with pytest.raises(ValueError, match="Ed25519"):
            add_proof(ob3_unsigned, suite=RDFC, signer=P256Signer(), loader=loader, created=datetime(2026, 1, 1, tzinfo=UTC))


JCS = get_suite("eddsa-jcs-2022")
SIGNED_AT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def issuer_doc(ob3_unsigned, vector_key):
    return {**ob3_unsigned, "issuer": {**ob3_unsigned["issuer"], "id": vector_key.controller}}


class TestProofSets:
    """Data Integrity 1.0 §4.5: every proof of a set verifies over the document without proofs."""

    def _set(self, doc, key, loader):
        first = add_proof(doc, suite=RDFC, signer=key.signer(), loader=loader, created=SIGNED_AT)
        return add_proof(first, suite=JCS, signer=key.signer(), loader=loader, created=SIGNED_AT)

    def test_a_set_of_two_proofs_verifies(self, issuer_doc, vector_key, loader, now):
        signed = self._set(issuer_doc, vector_key, loader)
        assert len(signed["proof"]) == 2
        result = verify_proof(signed, loader=loader, resolve_key=Resolver(), now=now)
        assert result.verified, result.message
        assert [m.verified for m in result.members] == [True, True]

    def test_one_broken_member_fails_the_set_and_is_named(self, issuer_doc, vector_key, loader, now):
        signed = self._set(issuer_doc, vector_key, loader)
        broken = copy.deepcopy(signed)
        broken["proof"][1]["created"] = "2026-01-02T00:00:00Z"
        result = verify_proof(broken, loader=loader, resolve_key=Resolver(), now=now)
        assert not result.verified and result.failure == "tampered"
        assert result.message.startswith("proof 2 of 2")
        assert [m.verified for m in result.members] == [True, False]

    def test_too_many_proofs_are_refused(self, issuer_doc, vector_key, loader, now):
        signed = add_proof(issuer_doc, suite=RDFC, signer=vector_key.signer(), loader=loader, created=SIGNED_AT)
        crowded = {**signed, "proof": [signed["proof"]] * (MAX_PROOFS + 1)}
        result = verify_proof(crowded, loader=loader, resolve_key=Resolver(), now=now)
        assert not result.verified and "at most" in result.message


class TestProofChains:
    """A proof naming previousProof signs the document together with the proofs it names."""

    def _chain(self, doc, key, loader, *, suite=RDFC):
        first = add_proof(doc, suite=suite, signer=key.signer(), loader=loader, created=SIGNED_AT, proof_id="urn:uuid:first")
        return add_proof(first, suite=suite, signer=key.signer(), loader=loader, created=SIGNED_AT,
                         proof_id="urn:uuid:second", previous_proof="urn:uuid:first")

    @pytest.mark.parametrize("suite", [RDFC, JCS], ids=lambda s: s.name)
    def test_a_chain_verifies(self, issuer_doc, vector_key, loader, now, suite):
        signed = self._chain(issuer_doc, vector_key, loader, suite=suite)
        result = verify_proof(signed, loader=loader, resolve_key=Resolver(), now=now)
        assert result.verified, result.message
        assert "chain" in result.message

    def test_the_chained_proof_covers_the_previous_proof(self, issuer_doc, vector_key, loader, now):
        signed = self._chain(issuer_doc, vector_key, loader)
        # the first proof replaced by another valid proof: only the chained one notices
        other = add_proof(issuer_doc, suite=RDFC, signer=vector_key.signer(), loader=loader,
                          created=datetime(2026, 1, 3, tzinfo=UTC), proof_id="urn:uuid:first")
        swapped = {**signed, "proof": [other["proof"], signed["proof"][1]]}
        result = verify_proof(swapped, loader=loader, resolve_key=Resolver(), now=now)
        assert not result.verified
        assert [m.verified for m in result.members] == [True, False]

    def test_a_previous_proof_that_is_missing_fails(self, issuer_doc, vector_key, loader, now):
        signed = self._chain(issuer_doc, vector_key, loader)
        orphan = {**signed, "proof": [signed["proof"][1]]}
        result = verify_proof(orphan, loader=loader, resolve_key=Resolver(), now=now)
        assert not result.verified and "urn:uuid:first" in result.message

    def test_previous_proof_as_a_list(self, issuer_doc, vector_key, loader, now):
        first = add_proof(issuer_doc, suite=RDFC, signer=vector_key.signer(), loader=loader, created=SIGNED_AT, proof_id="urn:uuid:a")
        second = add_proof(first, suite=RDFC, signer=vector_key.signer(), loader=loader, created=SIGNED_AT, proof_id="urn:uuid:b")
        third = add_proof(second, suite=RDFC, signer=vector_key.signer(), loader=loader, created=SIGNED_AT,
                          proof_id="urn:uuid:c", previous_proof=["urn:uuid:a", "urn:uuid:b"])
        result = verify_proof(third, loader=loader, resolve_key=Resolver(), now=now)
        assert result.verified, result.message
        assert len(result.members) == 3
