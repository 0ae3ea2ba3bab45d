"""Defects found by attacking a two-worker PostgreSQL deployment (issue 11), one class per
defect: each test failed before its fix."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from microcred.auth.api_keys import new_api_key
from microcred.awards.service import Signing
from microcred.config import Settings
from microcred.db.base import new_id
from microcred.db.models import Credential, Job
from microcred.jobs.repository import JobRepository
from microcred.jobs.worker import JobRunner
from microcred.runtime import Runtime
from microcred.tokens import new_token

from ..conftest import SUITE_LOG
from ..factories.service import ServiceClient, award_body
from ..log_scan import find_secrets
from .conftest import BASE_URL, PASSPHRASE, is_problem
from .live import LiveService, live, live_base_url, serve  # noqa: F401 (fixtures)
from .tcp_proxy import proxied

pytestmark = pytest.mark.asyncio

#: Past the last instant a four-digit year holds once moved to UTC.
OVERFLOWING = "9999-12-31T23:59:59-12:00"


async def _setup(service: ServiceClient) -> tuple[str, str]:
    issuer = await service.create_issuer()
    achievement = await service.create_achievement(issuer["id"])
    return issuer["id"], achievement["id"]


def _runner(runtime: Runtime, *, chunk_rows: int = 50) -> JobRunner:
    signing = Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses)
    return JobRunner(runtime.sessions, signing, chunk_rows=chunk_rows)


async def _credentials(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Credential)) or 0)


async def _job(service: ServiceClient, job_id: str) -> dict[str, Any]:
    response = await service.http.get(f"/api/v1/jobs/{job_id}", headers=service.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestDatesOutOfRange:
    async def test_a_date_that_overflows_in_utc_is_a_422_naming_the_field(self, service: ServiceClient) -> None:
        issuer_id, achievement_id = await _setup(service)
        for field in ("valid_until", "completion_date"):
            response = await service.award(issuer_id, achievement_id, **{field: OVERFLOWING})
            assert is_problem(response, 422)["errors"][0]["pointer"] == f"#/{field}"
        listed = await service.http.get(f"/api/v1/issuers/{issuer_id}/credentials", params={"issued_after": OVERFLOWING}, headers=service.admin)
        assert is_problem(listed, 422)["errors"][0]["parameter"] == "issued_after"

    async def test_in_a_batch_the_overflowing_row_fails_alone(self, service: ServiceClient) -> None:
        issuer_id, achievement_id = await _setup(service)
        rows = [award_body(achievement_id, external_id=f"r-{i}") for i in range(3)]
        rows[1]["valid_until"] = OVERFLOWING
        submitted = await service.http.post(
            f"/api/v1/issuers/{issuer_id}/awards/batch", content=json.dumps(rows), headers={**service.admin, "content-type": "application/json"}
        )
        assert submitted.status_code == 202, submitted.text
        assert await _runner(service.runtime).run_once() == submitted.json()["id"]
        job = await _job(service, submitted.json()["id"])
        assert (job["status"], job["processed"], job["awarded"], job["failed"]) == ("completed", 3, 2, 1)
        assert job["rows"][1]["error"]["errors"][0]["pointer"] == "#/valid_until"


class TestABatchRowNobodyForesaw:
    async def test_fails_alone_and_the_job_completes(self, service: ServiceClient) -> None:
        """A stored row the award code cannot even read (here a bare number, which no file the
        API takes can produce) used to fail its whole chunk on every lease, for ever."""
        issuer_id, achievement_id = await _setup(service)
        payloads: list[Any] = [award_body(achievement_id, external_id=f"r-{i}") for i in range(4)]
        payloads[2] = 5
        job = Job(id=new_id(), issuer_id=issuer_id, status="queued", source_format="json", total=len(payloads), created_at=_runner(service.runtime).clock())
        async with service.runtime.sessions() as session, session.begin():
            await JobRepository(session).add(job, payloads)
        assert await _runner(service.runtime, chunk_rows=3).run_once() == job.id
        status = await _job(service, job.id)
        assert (status["status"], status["processed"], status["awarded"], status["failed"]) == ("completed", 4, 3, 1)
        assert [r["status"] for r in status["rows"]] == ["awarded", "awarded", "failed", "awarded"]
        assert status["rows"][2]["error"]["status"] == 500
        assert await _credentials(service.runtime) == 3


class TestExternalIdWhateverTheIdempotencyKey:
    async def test_fifty_concurrent_awards_under_different_keys_make_one_credential(self, service: ServiceClient) -> None:
        issuer_id, achievement_id = await _setup(service)
        body = award_body(achievement_id, external_id="lms-completion-7")
        path = f"/api/v1/issuers/{issuer_id}/awards"
        responses = await asyncio.gather(
            *(service.http.post(path, json=body, headers={**service.admin, "Idempotency-Key": f"key-{i}"}) for i in range(50))
        )
        assert sorted(r.status_code for r in responses) == [200] * 49 + [201], [r.text for r in responses if r.status_code >= 300]
        assert len({r.json()["id"] for r in responses}) == 1
        assert await _credentials(service.runtime) == 1
        changed = await service.http.post(path, json={**body, "result": {"value": "9"}}, headers={**service.admin, "Idempotency-Key": "key-new"})
        problem = is_problem(changed, 409)
        assert (problem["credential_id"], problem["errors"][0]["pointer"]) == (responses[0].json()["id"], "#/external_id")

    async def test_an_award_then_a_batch_row_with_its_external_id_make_one_credential(self, service: ServiceClient) -> None:
        issuer_id, achievement_id = await _setup(service)
        body = award_body(achievement_id, external_id="lms-completion-8")
        first = await service.http.post(f"/api/v1/issuers/{issuer_id}/awards", json=body, headers={**service.admin, "Idempotency-Key": "k-1"})
        assert first.status_code == 201, first.text
        rows = [body, award_body(achievement_id, external_id="lms-completion-9")]
        submitted = await service.http.post(
            f"/api/v1/issuers/{issuer_id}/awards/batch", content=json.dumps(rows), headers={**service.admin, "content-type": "application/json"}
        )
        await _runner(service.runtime).run_once()
        job = await _job(service, submitted.json()["id"])
        assert [(r["status"], r["credential_id"] == first.json()["id"]) for r in job["rows"]] == [("duplicate", True), ("awarded", False)]
        assert await _credentials(service.runtime) == 2


class _CountingBody:
    """A request body that counts how much of it the server read."""

    def __init__(self, size: int, chunk: int = 65536) -> None:
        self.size, self.chunk, self.read = size, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.read < self.size:
            part = b"x" * min(self.chunk, self.size - self.read)
            self.read += len(part)
            yield part


class TestBatchBodiesAfterAuthentication:
    async def test_no_byte_of_a_batch_is_read_without_a_key_that_may_award(self, service: ServiceClient) -> None:
        issuer_id, _ = await _setup(service)
        other_issuer, _ = await _setup(service)
        path = f"/api/v1/issuers/{issuer_id}/awards/batch"
        cases = [
            ({}, 401),
            (ServiceClient.auth("mc_not_a_key"), 401),
            (ServiceClient.auth(await service.issuer_key(other_issuer)), 404),
            (ServiceClient.auth(await service.issuer_key(issuer_id, "revoke")), 403),
        ]
        for headers, expected in cases:
            body = _CountingBody(8 * 1_048_576)  # streamed: no Content-Length
            response = await service.http.post(path, content=body, headers={**headers, "content-type": "text/csv"})
            is_problem(response, expected)
            assert body.read <= 65536, f"{body.read} bytes read before answering {expected}"

    async def test_only_the_batch_route_takes_batch_sized_bodies(self, service: ServiceClient) -> None:
        body = b"x" * (service.runtime.settings.max_body_bytes + 1)
        for path in ("/api/v1/anything/awards/batch", "/awards/batch"):
            response = await service.http.post(path, content=body, headers={"content-length": str(len(body))})
            is_problem(response, 413)


def _http_exchange(sock: socket.socket, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request on an open connection, and its response (read by Content-Length)."""
    lines = [f"GET {path} HTTP/1.1", "Host: localhost", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    sock.sendall("\r\n".join(lines).encode())
    received = b""
    while b"\r\n\r\n" not in received:
        part = sock.recv(65536)
        assert part, "the server closed the connection"
        received += part
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    found = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in header_lines)}
    while len(body) < int(found.get("content-length", "0")):
        part = sock.recv(65536)
        assert part, "the server closed the connection"
        body += part
    return int(status_line.split()[1]), found, body


class TestCursors:
    @pytest.mark.parametrize(
        "decoded",
        [["2026-01-01T00:00:00+00:00", "\x00"], ["9999-12-31T23:59:59-12:00", "a"], ["2026-01-01T00:00:00", "a"]],
    )
    async def test_a_cursor_we_did_not_give_out_is_a_400_naming_it(self, service: ServiceClient, decoded: Any) -> None:
        issuer = await service.create_issuer()
        cursor = base64.urlsafe_b64encode(json.dumps(decoded).encode()).decode().rstrip("=")
        response = await service.http.get(f"/api/v1/issuers/{issuer['id']}/credentials", params={"cursor": cursor}, headers=service.admin)
        assert is_problem(response, 400)["errors"] == [{"parameter": "cursor", "detail": "invalid"}]


class TestALostDatabase:
    async def test_answers_503_with_retry_after_and_keeps_the_connection(self, postgresql_url: str, keys_dir: Path, tmp_path: Path) -> None:
        """Served by uvicorn, with the PostgreSQL database behind a proxy that the test cuts
        (blocking calls: the server runs in its own thread and loop)."""
        url = make_url(postgresql_url)
        with proxied((url.host or "127.0.0.1", url.port or 5432)) as proxy:
            through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
            settings = Settings(
                database_url=through, base_url=BASE_URL, keys_dir=keys_dir, data_dir=tmp_path, key_passphrase=PASSPHRASE, run_jobs=False  # type: ignore[arg-type]
            )
            with serve(settings) as base_url:
                port = int(base_url.rsplit(":", 1)[1])
                unknown = {"Authorization": f"Bearer {new_api_key()[0]}"}  # well-formed, so looked up
                with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                    assert _http_exchange(sock, "/api/v1/issuers", unknown)[0] == 401  # the database answered: no such key
                    proxy.cut()
                    status, headers, body = _http_exchange(sock, "/api/v1/issuers", unknown)
                    assert (status, headers["content-type"], headers["retry-after"]) == (503, "application/problem+json", "5"), (status, body)
                    assert "connection" not in headers or headers["connection"] != "close"
                    # The OB 3.0 API answers in its own error format, with the same status and header.
                    status, headers, body = _http_exchange(sock, "/ims/ob/v3p0/profile", {"Authorization": f"Bearer {new_token()}"})
                    assert (status, headers.get("retry-after")) == (503, "5"), (status, body)
                    assert _http_exchange(sock, "/healthz", {})[0] == 200  # the same connection, still open


class TestNoSecretInTheLogs:
    async def test_signing_in_through_uvicorn_logs_no_token(self, live: LiveService) -> None:
        """The sign-in link's token travelled in the development email log and the access log."""
        http = live.client.http
        first = len(SUITE_LOG.lines)
        assert (await http.post("/learners/sign-in", data={"email": "zoe@example.org"})).status_code == 200
        (written,) = (live.runtime.settings.data_dir / "mail").glob("*.eml")
        text = message_from_bytes(written.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()  # type: ignore[union-attr]
        link = re.search(r"(/learners/sign-in/confirm\?token=([A-Za-z0-9_-]+))", text)
        assert link is not None
        confirm = await http.get(link.group(1))
        fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', confirm.text))
        assert (await http.post("/learners/sign-in/confirm", data=fields)).status_code == 303
        assert (await http.get("/api/v1/issuers", headers=live.client.admin)).status_code == 200
        logged = SUITE_LOG.lines[first:]
        assert any(line.startswith("uvicorn.access") and "/learners/sign-in/confirm?token=[redacted]" in line for line in logged), logged
        assert find_secrets(logged, [PASSPHRASE, link.group(2)]) == []


class TestSecurityHeaders:
    async def test_every_page_and_download_carries_them(self, service: ServiceClient) -> None:
        issuer_id, achievement_id = await _setup(service)
        awarded = (await service.award(issuer_id, achievement_id)).json()
        path = f"/credentials/{awarded['id']}"
        answers = {
            "credential page": await service.http.get(path, headers={"Accept": "text/html"}),
            "verify page": await service.http.get("/verify"),
            "verify page, posted": await service.http.post("/verify", files={"file": ("c.json", json.dumps(awarded["credential"]).encode(), "application/json")}),
            **{f"{kind} download": await service.http.get(path, params={"format": kind}) for kind in ("png", "svg", "pdf")},
            "JSON-LD": await service.http.get(path),
        }
        for name, response in answers.items():
            assert response.status_code == 200, (name, response.text[:300])
            headers = response.headers
            assert headers.get("x-content-type-options") == "nosniff", name
            assert headers.get("x-frame-options") == "DENY", name
            assert headers.get("referrer-policy") == "no-referrer", name
            assert "frame-ancestors 'none'" in headers.get("content-security-policy", ""), name
            policy = headers["content-security-policy"]
            assert "script-src" not in policy and "default-src 'none'" in policy, name
            if name.endswith("download"):
                assert "sandbox" in policy, name  # an SVG opened in the browser runs nothing


class TestHead:
    async def test_head_gives_the_get_headers_and_no_body(self, service: ServiceClient) -> None:
        """curl -I, link checkers and crawlers read a page's or a download's headers with HEAD."""
        issuer_id, achievement_id = await _setup(service)
        path = f"/credentials/{(await service.award(issuer_id, achievement_id)).json()['id']}"
        for params, headers in (({}, {"Accept": "text/html"}), ({"format": "png"}, {}), ({"format": "pdf"}, {}), ({}, {})):
            got = await service.http.get(path, params=params, headers=headers)
            head = await service.http.head(path, params=params, headers=headers)
            assert (head.status_code, head.content) == (200, b""), (params, headers, head.status_code)
            for name in ("content-type", "content-length", "content-security-policy", "x-content-type-options"):
                assert head.headers.get(name) == got.headers.get(name), (params, name)
        assert (await service.http.head("/verify")).status_code == 200
        assert (await service.http.head("/api/v1/issuers", headers=service.admin)).status_code == 200
        refused = await service.http.head("/api/v1/issuers")
        assert (refused.status_code, refused.content) == (401, b"")


class TestMethodNotAllowed:
    async def test_allow_lists_every_method_of_the_path(self, service: ServiceClient) -> None:
        issuer_id, _ = await _setup(service)
        for path, allowed in (
            ("/api/v1/issuers", "GET, POST"),
            (f"/api/v1/issuers/{issuer_id}/achievements", "GET, POST"),
            ("/learners/sign-in", "GET, POST"),
            ("/verify", "GET, POST"),
        ):
            response = await service.http.request("PATCH", path, headers=service.admin)
            assert (response.status_code, response.headers.get("allow")) == (405, allowed), path
