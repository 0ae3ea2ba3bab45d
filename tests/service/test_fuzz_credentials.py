"""Hostile credentials against the three endpoints that read them (POST /api/v1/verify,
POST /credentials/verify, POST /credentials/issue): deep, wide, duplicated, malformed, and
JSON-LD built to be costly. Every answer is below 500 (a 4xx is a problem document).

Each request is timed and the slowest reported (``MICROCRED_FUZZ_REPORT=1`` prints the table;
run with ``-s``); timings are never asserted, the machine's load is no test's business.
The hand-made catalogue is followed by Hypothesis: random JSON put in random places of a real
credential (derandomized, ``MICROCRED_FUZZ_EXAMPLES`` per endpoint, 40 by default).
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..factories.mutations import places, replaced
from ..factories.service import ServiceClient
from .conftest import is_problem

pytestmark = pytest.mark.asyncio

V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES_CONTEXT = "https://www.w3.org/ns/credentials/examples/v2"
EXAMPLES = int(os.environ.get("MICROCRED_FUZZ_EXAMPLES", "40"))
REPORT = os.environ.get("MICROCRED_FUZZ_REPORT") == "1"


def _nested(depth: int, leaf: str = "1") -> str:
    return '{"xa":' * depth + leaf + "}" * depth


def _with(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed.update(changes)
    return changed


def _subject(document: dict[str, Any], subject: Any) -> dict[str, Any]:
    return _with(document, credentialSubject=subject)


def hostile(document: dict[str, Any]) -> Iterator[tuple[str, bytes]]:
    """(what, body) pairs built from a real credential (signed or not)."""
    text = json.dumps(document)
    yield "as it is", text.encode()
    # deep
    for depth in (40, 49, 63, 65, 10_000, 100_000):
        yield f"subject {depth} deep", text[:-1].encode() + b', "deep": ' + _nested(depth).encode() + b"}"
    yield "list 100000 deep, unclosed", b"[" * 100_000
    yield "context 10000 deep", json.dumps(_with(document, **{"@context": [V2, {}]})).replace("{}", _nested(10_000, "{}")).encode()
    # wide
    yield "50000 members", json.dumps(_subject(document, {"id": "did:example:x", **{f"x{i}": i for i in range(50_000)}})).encode()
    yield "100000 numbers", json.dumps(_subject(document, {"id": "did:example:x", "x": list(range(100_000))})).encode()
    yield "5000 subjects", json.dumps(_subject(document, [{"id": f"did:example:{i}", "name": "x"} for i in range(5000)])).encode()
    yield "1000 subjects", json.dumps(_subject(document, [{"id": f"did:example:{i}", "name": "x"} for i in range(1000)])).encode()
    yield "5000 objects of one @id", json.dumps(_subject(document, [{"id": "did:example:x", "name": f"{i}"} for i in range(5000)])).encode()
    yield "1000 numbers, examples @vocab", json.dumps(
        _with(document, **{"@context": [V2, EXAMPLES_CONTEXT]}, credentialSubject={"id": "did:example:x", "x": list(range(1000))})
    ).encode()
    yield "one string of 900 KB", json.dumps(_subject(document, {"id": "did:example:x", "name": "é" * 450_000})).encode()
    yield "2000 inline terms", json.dumps(_with(document, **{"@context": [V2, {f"t{i}": f"https://vocab.example/{i}" for i in range(2000)}]})).encode()
    yield "blank-node clique", json.dumps(
        _with(document, **{"@context": [V2, {"@vocab": "https://vocab.example/"}]}, credentialSubject={
            "id": "did:example:x", "knows": [{"@id": f"_:b{i}", "knows": [{"@id": f"_:b{j}"} for j in range(12) if j != i]} for i in range(12)]
        })
    ).encode()
    yield "300 nested @contexts", json.dumps(
        _subject(document, {"id": "did:example:x", "@context": [{"@vocab": f"https://v{i}.example/"} for i in range(300)], "x": 1})
    ).encode()
    # duplicated
    yield "duplicate id", b'{"id": "urn:x:forged", ' + text.encode()[1:]
    yield "duplicate in subject", text.replace('"credentialSubject": {', '"credentialSubject": {"name": "a", "name": "b", ', 1).encode()
    yield "10000 duplicates", b'{"x": 1' + b', "x": 1' * 10_000 + b"}"
    # malformed
    for what, body in (
        ("empty", b""), ("truncated", text.encode()[: len(text) // 2]), ("not UTF-8", b'{"a": "\xff\xfe"}'),
        ("lone surrogate", text.replace('"credentialSubject": {', '"credentialSubject": {"name": "\\ud800", ', 1).encode()),
        ("NaN", text.replace('"credentialSubject": {', '"credentialSubject": {"n": NaN, ', 1).encode()),
        ("1e400", text.replace('"credentialSubject": {', '"credentialSubject": {"n": 1e400, ', 1).encode()),
        ("5000-digit integer", text.replace('"credentialSubject": {', '"credentialSubject": {"n": 1' + "0" * 5000 + ", ", 1).encode()),
        ("400-digit integer", text.replace('"credentialSubject": {', '"credentialSubject": {"n": 1' + "0" * 400 + ", ", 1).encode()),
        ("NUL", text.replace('"credentialSubject": {', '"credentialSubject": {"n": "\\u0000", ', 1).encode()),
        ("BOM", b"\xef\xbb\xbf" + text.encode()),
        ("top-level list", b"[" + text.encode() + b"]"),
        ("@vocab null", json.dumps(_with(document, **{"@context": [V2, {"@vocab": None}]})).encode()),
        ("@context null", json.dumps(_with(document, **{"@context": None})).encode()),
        ("@context number", json.dumps(_with(document, **{"@context": [V2, 5]})).encode()),
        ("@import loop", json.dumps(_with(document, **{"@context": [V2, {"@import": V2}]})).encode()),
        ("protected redefinition", json.dumps(_with(document, **{"@context": [V2, {"id": "https://x.example/id"}]})).encode()),
        ("examples @vocab", json.dumps(_with(document, **{"@context": [V2, EXAMPLES_CONTEXT]})).encode()),
        ("proof garbage", json.dumps(_with(document, proof=[{"type": 5}, "x", None, {"proofValue": "z" * 10_000}])).encode()),
        ("1000 proofs", json.dumps(_with(document, proof=[document.get("proof", {})] * 1000)).encode()),
    ):
        yield what, body


def _wrapped(path: str, body: bytes) -> bytes:
    if path == "/api/v1/verify":
        return body
    member = "credential" if path.endswith("/issue") else "verifiableCredential"
    return b'{"' + member.encode() + b'": ' + (body or b"null") + b"}"


class Timings:
    def __init__(self) -> None:
        self.seen: list[tuple[float, str, str, int]] = []

    def add(self, seconds: float, path: str, what: str, status: int) -> None:
        self.seen.append((seconds, path, what, status))

    def report(self) -> None:
        if REPORT:
            slowest = sorted(self.seen, reverse=True)[:15]
            print(f"\n{len(self.seen)} requests; slowest:")
            for seconds, path, what, status in slowest:
                print(f"  {seconds * 1000:8.1f} ms  {status}  {path}  {what}")


async def _post(service: ServiceClient, timings: Timings, path: str, what: str, body: bytes, headers: dict[str, str]) -> int:
    started = time.perf_counter()
    response = await service.http.post(path, content=_wrapped(path, body), headers={"Content-Type": "application/json", **headers})
    timings.add(time.perf_counter() - started, path, what, response.status_code)
    assert response.status_code < 500, f"{response.status_code} for {path} {what}: {response.text[:300]}"
    if response.status_code >= 400 and not (path == "/api/v1/verify" and response.status_code == 413):
        is_problem(response, response.status_code)
    return response.status_code


async def _world(service: ServiceClient) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    issuer = await service.create_issuer(vc_api={"enabled": True})
    headers = service.auth(await service.issuer_key(issuer["id"]))
    unsigned = {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "name": "Zoë"},
    }
    response = await service.http.post("/credentials/issue", json={"credential": unsigned}, headers=headers)
    assert response.status_code == 201, response.text
    return headers, unsigned, response.json()["verifiableCredential"]


async def test_hostile_credentials_get_4xx_never_5xx(service: ServiceClient) -> None:
    headers, unsigned, signed = await _world(service)
    timings = Timings()
    statuses: set[int] = set()
    for path, document in (("/api/v1/verify", signed), ("/credentials/verify", signed), ("/credentials/issue", unsigned)):
        for what, body in hostile(document):
            statuses.add(await _post(service, timings, path, what, body, headers))
    timings.report()
    assert {200, 201, 400, 422} <= statuses


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20),
        st.sampled_from(["@id", "@context", "@type", "_:b0", "did:key:z6Mk", "https://x.example/", V2, EXAMPLES_CONTEXT]),
    )
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8) | st.sampled_from(["@id", "@type", "@context", "@vocab", "@value", "@list", "@graph", "id", "type", "proof"]), inner, max_size=4), max_leaves=20)


def _random_checker(
    service: ServiceClient, timings: Timings, loop: asyncio.AbstractEventLoop, path: str, document: dict[str, Any], headers: dict[str, str]
) -> Any:
    """A Hypothesis test (run in a worker thread) posting ``document`` with random JSON in a random place."""

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(place=st.sampled_from(places(document)), value=_json_values())
    def check(place: tuple[Any, ...], value: Any) -> None:
        body = json.dumps(replaced(document, place, value)).encode()
        asyncio.run_coroutine_threadsafe(_post(service, timings, path, f"{place} = {value!r}"[:120], body, headers), loop).result()

    return check


async def test_random_json_anywhere_in_a_credential_never_fails(service: ServiceClient) -> None:
    headers, unsigned, signed = await _world(service)
    timings = Timings()
    loop = asyncio.get_running_loop()
    for path, document in (("/api/v1/verify", signed), ("/credentials/verify", signed), ("/credentials/issue", unsigned)):
        check = _random_checker(service, timings, loop, path, document, headers)
        await asyncio.to_thread(check)
    timings.report()
