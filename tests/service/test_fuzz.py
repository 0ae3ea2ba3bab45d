"""Bad input never gives a 500: requests generated from openapi.yaml by schemathesis (valid and
invalid), then hand-made garbage, against the real app on both databases.

Every answer must be below 500, and every 4xx an RFC 9457 problem (``application/problem+json``
with type, title, status and detail). Generated requests must also match what openapi.yaml
documents (status codes, media types, response schemas). Requests carry a real admin key and,
most of the time, the ids of an issuer, achievement, credential and job that exist, so they get
past the 404s.

Bounded: ``MAX_EXAMPLES`` generated requests per operation and backend (more with
``MICROCRED_FUZZ_EXAMPLES=500`` for a deeper local run). Creating an issuer costs most of a
second, so each backend gets a few tests that walk every operation rather than a test per
operation; Hypothesis runs in a worker thread and sends each request on the test's event loop,
where the database connections live.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import httpx
import pytest
import pytest_asyncio
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, GenerationMode
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance
from schemathesis.core.result import Err

from microcred.awards.service import Signing
from microcred.jobs.worker import JobRunner

from ..factories.service import ServiceClient, achievement_body, award_body

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = int(os.environ.get("MICROCRED_FUZZ_EXAMPLES", "25"))
SCHEMA = schemathesis.openapi.from_path(ROOT / "openapi.yaml")


def load_operations() -> dict[str, APIOperation[Any, Any, Any, Any]]:
    found: dict[str, APIOperation[Any, Any, Any, Any]] = {}
    for result in SCHEMA.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        found[result.ok().label] = result.ok()
    return found


OPERATIONS = load_operations()
#: Fewer examples where each request is slow and has little to vary.
EXAMPLES = {"POST /api/v1/issuers/{issuer_id}/keys/rotate": min(MAX_EXAMPLES, 8)}  # makes and encrypts a key each time
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
T = TypeVar("T")


@dataclass(frozen=True)
class World:
    """What exists before the fuzzing starts: ids to aim requests at, and the admin key."""

    service: ServiceClient
    ids: dict[str, str]

    @property
    def http(self) -> httpx.AsyncClient:
        return self.service.http


@pytest_asyncio.fixture
async def world(service: ServiceClient) -> World:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    award = await service.award(issuer["id"], achievement["id"])
    assert award.status_code == 201, award.text
    job = await service.http.post(f"/api/v1/issuers/{issuer['id']}/awards/batch", json=[award_body(achievement["id"])], headers=service.admin)
    assert job.status_code == 202, job.text
    credential = award.json()["credential"]
    endorsed = await service.create_issuer()
    endorsement = await service.http.post(
        f"/api/v1/issuers/{issuer['id']}/endorsements", json={"subject_issuer_id": endorsed["id"]}, headers=service.admin
    )
    assert endorsement.status_code == 201, endorsement.text
    track = await service.create_achievement(issuer["id"], name="Track")
    pathway = await service.http.post(
        f"/api/v1/issuers/{issuer['id']}/pathways",
        json={"name": "Track", "achievement_id": track["id"], "components": [{"achievement_id": achievement["id"]}]},
        headers=service.admin,
    )
    assert pathway.status_code == 201, pathway.text
    hook = {"url": "https://hooks.example/in", "events": ["credential.issued"]}
    webhook = await service.http.post(f"/api/v1/issuers/{issuer['id']}/webhooks", json=hook, headers=service.admin)
    assert webhook.status_code == 201, webhook.text
    issuer_key = await service.issuer_key(issuer["id"], "award")
    clients = (await service.http.get("/api/v1/clients", params={"issuer_id": issuer["id"]}, headers=service.admin)).json()["items"]
    ids = {
        "issuer_id": issuer["id"],
        "client_id": next(c["id"] for c in clients if c["key_prefix"] == issuer_key.split("_")[1]),
        "version": "1",
        "achievement_id": achievement["id"],
        "credential_id": award.json()["id"],
        "job_id": job.json()["id"],
        "pathway_id": pathway.json()["id"],
        "list_id": credential["credentialStatus"]["statusListCredential"].rsplit("/", 1)[1],
        "key_name": credential["proof"]["verificationMethod"].split("#", 1)[1],
        "endorsement_id": endorsement.json()["id"],
        "endorsed_issuer_id": endorsed["id"],
        "webhook_id": webhook.json()["id"],
        "delivery_id": "00000000-0000-4000-8000-000000000000",
    }
    return World(service, ids)


class Failures:
    """Collects what went wrong across many requests, to report all of it at once."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def add(self, what: str, exc: BaseException) -> None:
        self.found.append(f"[{what}] {str(exc)[:1500]}")

    def check(self) -> None:
        assert not self.found, f"{len(self.found)} failure(s):\n\n" + "\n\n".join(self.found)


def describe(request: httpx.Request) -> str:
    """A reproducer: method, URL, headers and body as sent."""
    skip = ("user-agent", "accept", "accept-encoding", "connection", "host", "content-length", "authorization")
    headers = {k: v for k, v in request.headers.items() if k.lower() not in skip}
    body = request.content
    shown = body[:300].decode("utf-8", "backslashreplace") + ("..." if len(body) > 300 else "")
    return f"{request.method} {request.url} (admin key)\n  headers: {headers}\n  body ({len(body)} bytes): {shown}"


async def call(http: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """Send; an exception escaping the app (Starlette answers 500, then re-raises it) becomes an
    AssertionError with a reproducer."""
    try:
        return await http.send(request)
    except Exception as exc:
        raise AssertionError(f"500 ({type(exc).__name__}: {str(exc)[:600]}) for\n  {describe(request)}") from None


#: Endpoints of other specifications answer errors as those require (see test_openapi): a JSON
#: object with these members.
SPECIFICATION_ERRORS = {"/ims/ob/v3p0/": ("imsx_codeMajor", "imsx_severity", "imsx_description"), "/oauth/": ("error", "error_description")}


def assert_no_server_error(response: httpx.Response) -> None:
    """Below 500, and any 4xx an RFC 9457 problem (or the error its specification defines)."""
    where = describe(response.request)
    assert response.status_code < 500, f"{response.status_code} for\n  {where}\n  answer: {response.text[:1000]}"
    members = next((m for prefix, m in SPECIFICATION_ERRORS.items() if response.request.url.path.startswith(prefix)), None)
    if response.status_code >= 400 and members is not None:
        media = response.headers.get("content-type", "").split(";")[0].strip()
        assert media == "application/json", f"{response.status_code} answered as {media!r} for\n  {where}"
        body = response.json()
        assert isinstance(body, dict) and all(isinstance(body.get(m), str) and body[m] for m in members), f"{body} for\n  {where}"
    elif response.status_code >= 400:
        media = response.headers.get("content-type", "").split(";")[0].strip()
        assert media == "application/problem+json", f"{response.status_code} answered as {media!r} for\n  {where}"
        body = response.json()
        assert isinstance(body, dict), where
        assert body.get("status") == response.status_code, f"problem status {body.get('status')!r} for\n  {where}"
        for member in ("type", "title", "detail"):
            assert isinstance(body.get(member), str) and body[member], f"problem without {member!r}: {body} for\n  {where}"
        for error in body.get("errors") or []:
            assert isinstance(error, dict) and isinstance(error.get("detail"), str), f"bad errors entry {error!r} for\n  {where}"


async def request_and_check(http: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    response = await call(http, request)
    assert_no_server_error(response)
    return response


def fill(template: str, ids: dict[str, str]) -> str:
    return template.format(**ids)


# --- Generated from openapi.yaml ---------------------------------------------------------------


def strategy(label: str, ids: dict[str, str]) -> st.SearchStrategy[schemathesis.Case[Any]]:
    """Valid and invalid requests; with real ids in the path, or with generated ones."""
    operation = OPERATIONS[label]
    real = {name: value for name, value in ids.items() if "{" + name + "}" in operation.path} or None
    return st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=real),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, path_parameters=real),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )


def to_request(world: World, case: schemathesis.Case[Any], *, keep_auth: bool) -> httpx.Request:
    sent = case.as_transport_kwargs(base_url=str(world.http.base_url).rstrip("/"))
    headers = {k: v for k, v in sent["headers"].items() if k.lower() not in ("connection", "accept-encoding", "user-agent")}
    if not keep_auth or "authorization" not in {k.lower() for k in headers}:
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization"} | world.service.admin
    content: bytes | None = None
    if "json" in sent:
        content = json.dumps(sent["json"]).encode()
        if "content-type" not in {k.lower() for k in headers}:
            headers["Content-Type"] = "application/json"
    elif "data" in sent:
        data = sent["data"]
        if isinstance(data, dict):  # a form (the OAuth endpoints)
            content = urlencode(data, doseq=True).encode()
        else:
            content = data.encode() if isinstance(data, str) else bytes(data)
    return world.http.build_request(sent["method"], sent["url"], params=sent.get("params"), headers=headers, content=content)


def fuzz_operation(label: str, world: World, on_loop: Callable[[Coroutine[Any, Any, httpx.Response]], httpx.Response]) -> None:
    """Hypothesis over one operation (runs in a worker thread)."""

    @settings(
        max_examples=EXAMPLES.get(label, MAX_EXAMPLES),
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(strategy(label, world.ids), label="case")
        # Mostly the admin key; sometimes whatever the generator put in Authorization.
        keep_auth = data.draw(st.sampled_from([False, False, False, True]), label="keep generated Authorization")
        response = on_loop(request_and_check(world.http, to_request(world, case, keep_auth=keep_auth)))
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseExceptionGroup as group:  # schemathesis' FailureGroup: report it as a plain failure
            raise AssertionError(f"{group}\n  {describe(response.request)}") from None

    run()


@pytest.mark.asyncio
async def test_generated_requests_get_no_server_error_and_match_the_schema(world: World) -> None:
    loop = asyncio.get_running_loop()

    def on_loop(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=120)

    failures = Failures()
    for label in sorted(OPERATIONS):
        try:
            await asyncio.to_thread(fuzz_operation, label, world, on_loop)
        except Exception as exc:
            failures.add(label, exc)
    failures.check()


# --- Garbage bodies: what a schema-driven generator rarely sends --------------------------------

DEEP = 100_000  # nesting levels, inside the 1 MiB body limit

JSON_BODY_OPERATIONS = [
    ("POST", "/api/v1/issuers"),
    ("PATCH", "/api/v1/issuers/{issuer_id}"),
    ("POST", "/api/v1/issuers/{issuer_id}/achievements"),
    ("PATCH", "/api/v1/issuers/{issuer_id}/achievements/{achievement_id}"),
    ("POST", "/api/v1/issuers/{issuer_id}/awards"),
    ("POST", "/api/v1/issuers/{issuer_id}/awards/batch"),
    ("POST", "/api/v1/issuers/{issuer_id}/endorsements"),
    ("POST", "/api/v1/issuers/{issuer_id}/webhooks"),
    ("PATCH", "/api/v1/issuers/{issuer_id}/webhooks/{webhook_id}"),
]


def garbage_bodies() -> list[tuple[str, bytes, str | None]]:
    """(what, body, content type), sent to every operation that takes a JSON body."""
    long = "é" * 200_000
    return [
        ("truncated JSON", b'{"name": ', "application/json"),
        ("not JSON", b"name=x&url=y", "application/json"),
        ("empty body", b"", "application/json"),
        ("invalid UTF-8", b'{"name": "\xff\xfe"}', "application/json"),
        ("UTF-16 JSON", '{"name": "x"}'.encode("utf-16"), "application/json"),
        ("JSON as text/plain", b'{"name": "x"}', "text/plain"),
        ("XML", b"<issuer><name>x</name></issuer>", "application/xml"),
        ("form", b"name=x", "application/x-www-form-urlencoded"),
        ("multipart", b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n', "multipart/form-data; boundary=b"),
        ("no content type", b'{"name": "x"}', None),
        ("content type with junk", b'{"name": "x"}', "application/json; charset=klingon; ;="),
        ("bare null", b"null", "application/json"),
        ("bare string", b'"x"', "application/json"),
        ("bare number", b"1e999", "application/json"),
        ("empty list", b"[]", "application/json"),
        ("list of junk", b'[1, "x", null, [], {}]', "application/json"),
        ("deep list", b"[" * DEEP + b"]" * DEEP, "application/json"),
        ("deep object", b'{"a":' * DEEP + b"1" + b"}" * DEEP, "application/json"),
        ("huge integer", b'{"name": "x", "credits_available": 1' + b"0" * 5000 + b"}", "application/json"),
        ("float overflow", b'{"name": "x", "credits_available": 1e400, "eqf_level": -1e400}', "application/json"),
        ("NaN and Infinity", b'{"name": "x", "credits_available": NaN, "eqf_level": Infinity}', "application/json"),
        ("big ints for strings", json.dumps({"name": 2**70, "id": 2**70, "achievement_id": 2**63, "eqf_level": 2**64}).encode(), "application/json"),
        ("duplicate keys", b'{"name": "x", "name": "y"}', "application/json"),
        ("NUL byte", json.dumps({"name": "a\u0000b", "id": "nul\u0000", "description": "\u0000"}).encode(), "application/json"),
        ("lone surrogate", b'{"name": "\\ud800", "description": "\\udfff x"}', "application/json"),
        ("non-ASCII", json.dumps({"name": "Zoë ⚙ 精密 \u202e mirrored \U0001f9ea", "description": "ü" * 50}, ensure_ascii=False).encode(), "application/json"),
        ("very long strings", json.dumps({"name": long, "description": long}, ensure_ascii=False).encode(), "application/json"),
        ("too large", b'{"name": "' + b"x" * 2_000_000 + b'"}', "application/json"),
    ]


@pytest.mark.asyncio
async def test_garbage_bodies_get_problems_not_server_errors(world: World) -> None:
    failures = Failures()
    for method, template in JSON_BODY_OPERATIONS:
        for what, body, content_type in garbage_bodies():
            headers = world.service.admin | ({"Content-Type": content_type} if content_type else {})
            request = world.http.build_request(method, fill(template, world.ids), content=body, headers=headers)
            try:
                await request_and_check(world.http, request)
            except AssertionError as exc:
                failures.add(f"{method} {template}: {what}", exc)
    failures.check()


# --- Schema-guided mutations: a valid body with one value replaced by something nasty, so the
# nasty value gets past the shape checks and reaches the services and the database. ------------

NASTY: list[tuple[str, Any]] = [
    ("NUL byte", "a\u0000b"),
    ("lone surrogate", "\ud800x"),
    ("long string", "ü" * 20_000),
    ("non-ASCII", "Zoë ⚙ 精密 \u202e\U0001f9ea"),
    ("huge integer", 10**30),
    ("most negative int64", -(2**63)),
    ("largest float", 1.7976931348623157e308),
    ("object", {"$ref": "#"}),
    ("empty", ""),
]


def leaves(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in leaves(v, (*path, i))] or [path]
    return [path]


def replaced(value: Any, path: tuple[str | int, ...], new: Any) -> Any:
    """A copy of ``value`` with the leaf at ``path`` set to ``new``."""
    if not path:
        return new
    head, *rest = path
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], tuple(rest), new)}
    copy = list(value)
    copy[int(head)] = replaced(copy[int(head)], tuple(rest), new)
    return copy


def valid_bodies(ids: dict[str, str]) -> list[tuple[str, str, Any]]:
    award = award_body(ids["achievement_id"], external_id="ext-1", evidence=[{"url": "https://lms.example/e/1", "narrative": "made a part"}])
    issuer = {"id": "fuzzed", "name": "n", "url": "https://x.example", "email": "a@x.example", "address": {"country": "Netherlands", "country_code": "NL", "region": "r"}}
    return [
        ("POST", "/api/v1/issuers", issuer),
        ("PATCH", "/api/v1/issuers/{issuer_id}", {"name": "n", "description": "d", "image": "https://x.example/i.png"}),
        ("POST", "/api/v1/issuers/{issuer_id}/achievements", achievement_body()),
        ("PATCH", "/api/v1/issuers/{issuer_id}/achievements/{achievement_id}", {"description": "d", "learning_outcomes": ["o"]}),
        ("POST", "/api/v1/issuers/{issuer_id}/awards", award),
        ("POST", "/api/v1/issuers/{issuer_id}/awards/batch", [award]),
        ("POST", "/api/v1/issuers/{issuer_id}/endorsements", {"subject_issuer_id": ids["endorsed_issuer_id"], "endorsement_comment": "c", "name": "n", "valid_until": "2999-01-01"}),
        ("POST", "/api/v1/issuers/{issuer_id}/webhooks", {"url": "https://hooks.example/in?k=1", "events": ["credential.issued"], "enabled": True}),
        ("PATCH", "/api/v1/issuers/{issuer_id}/webhooks/{webhook_id}", {"url": "https://hooks.example/other", "events": ["credential.revoked"]}),
    ]


@pytest.mark.asyncio
async def test_nasty_values_in_valid_bodies_get_no_server_error(world: World) -> None:
    failures = Failures()
    for method, template, body in valid_bodies(world.ids):
        for path in leaves(body):
            for what, nasty in NASTY:
                content = json.dumps(replaced(body, path, nasty)).encode()  # ASCII, \u escapes carry NUL and surrogates
                headers = world.service.admin | {"Content-Type": "application/json"}
                request = world.http.build_request(method, fill(template, world.ids), content=content, headers=headers)
                try:
                    await request_and_check(world.http, request)
                except AssertionError as exc:
                    failures.add(f"{method} {template}: {what} at /{'/'.join(map(str, path))}", exc)
    failures.check()


# --- Path, query and header values ---------------------------------------------------------------

NASTY_TEXT = [
    "a\x00b",
    "\x00",
    "x" * 10_000,
    "精密 ⚙ \u202e\U0001f9ea",
    "../../etc/passwd",
    "a/b",
    "%00",
    "-1",
    "99999999999999999999999",
    "1e400",
    "NaN",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01",
    "2024-02-30",
    "2024-06-30T25:61:00Z",
    "",
    " ",
]


def nasty_headers() -> list[dict[str, str | bytes]]:
    return [
        {"Idempotency-Key": b"\xff\xfe latin-1"},
        {"Idempotency-Key": "k" * 201},
        {"Idempotency-Key": ""},
        {"Authorization": "Bearer " + "x" * 10_000},
        {"Authorization": "Bearer mc_0000000000000000_" + "y" * 40},
        {"Authorization": "Bearer mc_zzzzzzzzzzzzzzzz_"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": b"Bearer \xff\xfe"},
        {"Authorization": "Bearer"},
        {"Content-Type": "application/json; charset=utf-32"},
        {"Content-Type": "application/jsonx"},
        {"Content-Length": "99999999999999999999"},
        {"Content-Length": "-1"},
    ]


@pytest.mark.asyncio
async def test_nasty_path_query_and_header_values_get_no_server_error(world: World) -> None:
    failures = Failures()
    for label, operation in sorted(OPERATIONS.items()):
        method = operation.method.upper()
        body = b"{}" if method in ("POST", "PATCH") else None
        headers = world.service.admin | ({"Content-Type": "application/json"} if body else {})
        tried: list[tuple[str, dict[str, str]]] = []
        for name in world.ids:
            if "{" + name + "}" in operation.path:
                tried += [(fill(operation.path, world.ids | {name: quote(nasty, safe="")}), {}) for nasty in NASTY_TEXT]
        for parameter in operation.definition.raw.get("parameters", []):
            if parameter["in"] == "query":
                tried += [(fill(operation.path, world.ids), {parameter["name"]: nasty}) for nasty in NASTY_TEXT]
        for path, query in tried:
            request = world.http.build_request(method, path, params=query, headers=headers, content=body)
            try:
                await request_and_check(world.http, request)
            except AssertionError as exc:
                failures.add(label, exc)
    award = json.dumps(award_body(world.ids["achievement_id"])).encode()
    for extra in nasty_headers():
        merged: dict[str, str | bytes] = {"Content-Type": "application/json", **world.service.admin, **extra}
        sent = {k.encode(): v if isinstance(v, bytes) else v.encode("latin-1") for k, v in merged.items()}
        request = world.http.build_request("POST", fill("/api/v1/issuers/{issuer_id}/awards", world.ids), headers=sent, content=award)
        try:
            await request_and_check(world.http, request)
        except AssertionError as exc:
            failures.add(f"POST awards with {extra!r:.80}", exc)
    failures.check()


# --- Bulk files ----------------------------------------------------------------------------------


def csv_garbage(achievement_id: str) -> list[tuple[str, bytes, str]]:
    header = b"achievement_id,recipient_email,recipient_name,completion_date,grade,external_id\n"
    row = f"{achievement_id},a@example.org,A,2023-01-05,7,".encode()
    return [
        ("empty", b"", "text/csv"),
        ("header only", header, "text/csv"),
        ("unknown columns", b"foo,bar\n1,2\n", "text/csv"),
        ("invalid UTF-8", header + b"\xff\xfe,\xc3\x28\n", "text/csv"),
        ("latin-1", header + row + "caf\xe9".encode("latin-1") + b"\n", "text/csv; charset=latin-1"),
        ("NUL in a cell", header + row + b"nul\x00\n", "text/csv"),
        ("unclosed quote", header + b'"' + row + b"\n", "text/csv"),
        ("too many cells", header + row + b"x,y,z\n", "text/csv"),
        ("huge cell", header + row + b"x" * 200_000 + b"\n", "text/csv"),
        ("huge grade", header + f"{achievement_id},a@example.org,A,2023-01-05,{'9' * 5000},g\n".encode(), "text/csv"),
        ("absurd dates", header + f"{achievement_id},a@example.org,A,99999-99-99,7,d\n{achievement_id},b@example.org,B,0000-01-01,7,e\n".encode(), "text/csv"),
        ("CR only", header.replace(b"\n", b"\r") + row + b"cr\r", "text/csv"),
        ("BOM and CRLF", b"\xef\xbb\xbf" + header.replace(b"\n", b"\r\n") + row + b"crlf\r\n", "application/csv"),
    ]


async def run_jobs(world: World) -> None:
    """Work through every queued job, as the service's worker would."""
    runtime = world.service.runtime
    runner = JobRunner(runtime.sessions, Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses), chunk_rows=50)
    for _ in range(100):
        if await runner.run_once() is None:
            return
    pytest.fail("the jobs never finished")


@pytest.mark.asyncio
async def test_nasty_batches_answer_problems_or_fail_row_by_row(world: World) -> None:
    """Garbage files answer 400/413, or become jobs whose bad rows fail alone; the worker
    finishes every job."""
    target = fill("/api/v1/issuers/{issuer_id}/awards/batch", world.ids)
    failures = Failures()
    jobs: list[str] = []
    award = award_body(world.ids["achievement_id"], external_id="batch-fuzz", evidence=[{"url": "https://lms.example/e/1"}])
    rows = [replaced(award, path, nasty) for path in leaves(award) for _, nasty in NASTY] + [None, 1, "x", [], {}]
    files = [(f"CSV {what}", body, content_type) for what, body, content_type in csv_garbage(world.ids["achievement_id"])]
    files.append(("JSON rows with nasty values", json.dumps(rows).encode(), "application/json"))
    for what, body, content_type in files:
        request = world.http.build_request("POST", target, content=body, headers=world.service.admin | {"Content-Type": content_type})
        try:
            response = await request_and_check(world.http, request)
        except AssertionError as exc:
            failures.add(what, exc)
            continue
        if response.status_code == 202:
            jobs.append(response.json()["id"])
    failures.check()
    assert len(jobs) >= 2

    await run_jobs(world)
    for job_id in jobs:
        response = await request_and_check(world.http, world.http.build_request("GET", f"/api/v1/jobs/{job_id}", params={"rows_limit": 1000}, headers=world.service.admin))
        job = response.json()
        assert job["status"] == "completed", job
        assert job["awarded"] + job["duplicates"] + job["failed"] == job["total"], job
        assert all(row["error"] for row in job["rows"] if row["status"] == "failed"), job["rows"]
