"""Property tests against Digital Bazaar: for any credential-shaped JSON-LD document (numbers of
every kind, Unicode text of every plane, lists, nested objects), microcred and Digital Bazaar
make the same proof with the same key and date, and each verifies the other's.

Documents use the W3C examples context, whose ``@vocab`` defines every term, so nothing is
dropped and every value is signed. Node runs once for all examples (``JsSession``), and the
examples are derandomized: CI sees the same 200 documents each run, a local run with
``MICROCRED_PROPERTY_EXAMPLES=2000`` many more.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred.credentials import DocumentLoader, Ed25519KeyPair, add_proof, issue_credential, verify
from microcred.credentials.canonical import lossy_number
from microcred.credentials.errors import MalformedError
from microcred.credentials.suites import get_suite

from .nodejs import JsSession

pytestmark = pytest.mark.interop

SEED = bytes(range(32))
KEY = Ed25519KeyPair.from_seed(SEED)
CREATED = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
CREATED_TEXT = "2025-01-15T09:00:00Z"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
EXAMPLES = int(os.environ.get("MICROCRED_PROPERTY_EXAMPLES", "200"))
CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"]

#: Terms only the examples context's @vocab defines (no VC 2.0 term begins with "x").
terms = st.from_regex(r"x[A-Za-z0-9]{0,8}", fullmatch=True)
#: Any text: astral planes, combining marks, right-to-left, control characters.
text = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30),
    st.sampled_from(["Zoë Ångström", "e\u0301\u0327", "\u05e9\u05dc\u05d5\u05dd \u202bmixed\u202c", "🎓🧪\U0001f9d1\u200d\U0001f393", "a\x00b\x0c\x7f"]),
)
numbers = st.one_of(
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e-7, -1e-7, 0.1, 1e21, 5.0, -0.0, 1.5e300, 2e-300, 1234567890123456.5, 1e-6]),
)
scalars = st.one_of(text, numbers, st.booleans())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.dictionaries(terms, inner, min_size=1, max_size=4),
        st.lists(st.one_of(scalars, st.dictionaries(terms, inner, min_size=1, max_size=3)), min_size=1, max_size=4),
    ),
    max_leaves=12,
)
subjects = st.dictionaries(terms, values, min_size=1, max_size=5)


def _lossy_number_pointer(document: Any, where: str = "") -> str | None:
    """Where the first number jsonld.js reads as another lies, walked in document order."""
    if isinstance(document, dict):
        items: Any = ((f"{where}/{k.replace('~', '~0').replace('/', '~1')}", v) for k, v in document.items())
    elif isinstance(document, list):
        items = ((f"{where}/{i}", v) for i, v in enumerate(document))
    else:
        return where if lossy_number(document) else None
    return next((found for path, value in items if (found := _lossy_number_pointer(value, path)) is not None), None)


def credential(subject: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": CONTEXTS,
        "id": "urn:uuid:8a6c0e5f-3f57-4c7c-9f0e-5b3b1d2f7a10",
        "type": ["VerifiableCredential"],
        "issuer": KEY.controller,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", **subject},
    }


@pytest.fixture(scope="module")
def node() -> Iterator[JsSession]:
    with JsSession() as session:
        yield session


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_both_sides_sign_any_document_alike_and_verify_each_other(node: JsSession, suite: str) -> None:
    loader = DocumentLoader()
    tried: list[dict[str, Any]] = []

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(subject=subjects)
    def check(subject: dict[str, Any]) -> None:
        unsigned = credential(subject)
        tried.append(unsigned)

        lossy = _lossy_number_pointer(unsigned)
        if lossy is None:
            ours = issue_credential(unsigned, signer=KEY.signer(), loader=loader, suite=suite, created=CREATED)
        else:  # a number no signature would protect (1e-7 reads as 0): issuing refuses it, naming it
            with pytest.raises(MalformedError) as refused:
                issue_credential(unsigned, signer=KEY.signer(), loader=loader, suite=suite, created=CREATED)
            assert refused.value.pointer == lossy
            ours = add_proof(unsigned, suite=get_suite(suite), signer=KEY.signer(), loader=loader, created=CREATED)
        theirs = node.sign(unsigned, suite=suite, seed=SEED, created=CREATED_TEXT)

        assert ours["proof"] == theirs["proof"]
        assert node.verify(ours) == (True, None)
        report = verify(theirs, loader=loader, now=NOW, profile="vc")
        assert report.verdict == "valid", report.to_dict()

    check()
    assert len(tried) >= EXAMPLES  # every example ran (none filtered away)
