"""/metrics as Prometheus scrapes it: request latency by route template, credentials issued and
signing time, the job and delivery backlogs; kept from the public internet; and summed over every
worker of a `microcred serve --workers 2`."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from microcred.app import create_app
from microcred.config import Settings, SettingsError, load_settings
from microcred.auth.principal import SCOPES, Principal
from microcred.awards.schemas import AwardIn
from microcred.awards.service import Signing, award
from microcred.runtime import Runtime, build_runtime

from ..factories.service import ServiceClient, award_body
from .ports import refused_port

TOKEN = "metrics-token-" + "0123456789abcdef"


def _families(text: str) -> dict[str, Metric]:
    return {family.name: family for family in text_string_to_metric_families(text)}


async def _scrape(http: httpx.AsyncClient, **kwargs: Any) -> dict[str, Metric]:
    response = await http.get("/metrics", **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return _families(response.text)


def _value(families: dict[str, Metric], family: str, sample: str, **labels: str) -> float:
    """The sample's value, 0 when it has none yet (a counter not yet incremented)."""
    found = [s.value for s in families[family].samples if s.name == sample and s.labels == labels] if family in families else []
    assert len(found) <= 1
    return found[0] if found else 0.0


@pytest.mark.asyncio
class TestRequests:
    async def test_latency_is_labelled_by_route_template_never_by_the_path_with_its_ids(self, service: ServiceClient) -> None:
        issuer = await service.create_issuer()
        before = await _scrape(service.http)
        for _ in range(3):
            assert (await service.http.get(f"/api/v1/issuers/{issuer['id']}", headers=service.admin)).status_code == 200
        assert (await service.http.get(f"/api/v1/issuers/{issuer['id']}/nothing-here/{issuer['id']}")).status_code == 404
        after = await _scrape(service.http)

        family = "microcred_http_request_duration_seconds"
        labels = {"method": "GET", "route": "/api/v1/issuers/{issuer_id}", "status": "2xx"}
        count = "microcred_http_request_duration_seconds_count"
        assert _value(after, family, count, **labels) - _value(before, family, count, **labels) == 3
        assert _value(after, family, count, method="GET", route="unmatched", status="4xx") > _value(before, family, count, method="GET", route="unmatched", status="4xx")
        routes = {s.labels["route"] for s in after[family].samples}
        assert "/api/v1/issuers" in routes and "/metrics" in routes
        assert not [route for route in routes if issuer["id"] in route]

    async def test_a_head_request_counts_under_the_route_it_was_answered_by(self, service: ServiceClient) -> None:
        family, count = "microcred_http_request_duration_seconds", "microcred_http_request_duration_seconds_count"
        before = await _scrape(service.http)
        assert (await service.http.head("/healthz")).status_code == 200
        after = await _scrape(service.http)
        assert _value(after, family, count, method="HEAD", route="/healthz", status="2xx") - _value(before, family, count, method="HEAD", route="/healthz", status="2xx") == 1


async def _award_then_roll_back(runtime: Runtime, issuer_id: str, achievement_id: str) -> None:
    """An award signed and recorded in a transaction that then fails."""
    signing = Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses)
    with pytest.raises(LookupError):
        async with runtime.sessions() as session, session.begin():
            result = await award(
                session, principal=Principal("lms", None, frozenset(SCOPES)), signing=signing, issuer_id=issuer_id,
                data=AwardIn.model_validate(award_body(achievement_id)), idempotency_key=None, now=datetime.now(UTC),
            )
            assert result.created
            raise LookupError("abandoned after the award was recorded")


@pytest.mark.asyncio
class TestCredentials:
    async def test_awards_count_once_each_when_committed_and_their_signing_is_timed(self, service: ServiceClient, runtime: Runtime) -> None:
        issuer = (await service.create_issuer())["id"]
        achievement = (await service.create_achievement(issuer))["id"]
        issued, signed = "microcred_credentials_issued", "microcred_signing_seconds"
        before = await _scrape(service.http)

        body = award_body(achievement, external_id="learner-1")
        url = f"/api/v1/issuers/{issuer}/awards"
        first = await service.http.post(url, json=body, headers=service.admin)
        again = await service.http.post(url, json=body, headers=service.admin)  # a retry: the same credential
        second = await service.award(issuer, achievement, external_id="learner-2")
        assert (first.status_code, again.status_code, second.status_code) == (201, 200, 201)
        await _award_then_roll_back(runtime, issuer, achievement)
        revoked = await service.http.post(f"/api/v1/issuers/{issuer}/credentials/{first.json()['id']}/revoke", json={}, headers=service.admin)
        assert revoked.status_code == 200, revoked.text
        after = await _scrape(service.http)

        assert _value(after, issued, "microcred_credentials_issued_total", issuer_id=issuer) - _value(before, issued, "microcred_credentials_issued_total", issuer_id=issuer) == 2
        credentials = _value(after, signed, "microcred_signing_seconds_count", document="credential") - _value(before, signed, "microcred_signing_seconds_count", document="credential")
        assert credentials >= 3  # the two awards and the rolled-back one were signed (a retry is signed, then dropped)
        lists = _value(after, signed, "microcred_signing_seconds_count", document="status_list") - _value(before, signed, "microcred_signing_seconds_count", document="status_list")
        assert lists >= 1  # the revocation re-signed its list
        assert _value(after, signed, "microcred_signing_seconds_sum", document="credential") > _value(before, signed, "microcred_signing_seconds_sum", document="credential")


@pytest.mark.asyncio
class TestBacklogs:
    async def test_a_queued_bulk_job_shows_in_the_queue_depth_rows_and_age(self, service: ServiceClient) -> None:
        issuer = (await service.create_issuer())["id"]
        achievement = (await service.create_achievement(issuer))["id"]
        empty = await _scrape(service.http)
        assert _value(empty, "microcred_jobs", "microcred_jobs", status="queued") == 0

        rows = [f"{achievement},learner-{n}@example.org,Learner {n},2024-06-28,8,row-{n}" for n in range(5)]
        body = ("achievement_id,recipient_email,recipient_name,completion_date,grade,external_id\n" + "\n".join(rows) + "\n").encode()
        submitted = await service.http.post(
            f"/api/v1/issuers/{issuer}/awards/batch", content=body, headers={**service.admin, "content-type": "text/csv"}
        )
        assert submitted.status_code == 202, submitted.text  # the settings run no job worker: it stays queued
        queued = await _scrape(service.http)

        assert _value(queued, "microcred_database_up", "microcred_database_up") == 1
        assert _value(queued, "microcred_jobs", "microcred_jobs", status="queued") == 1
        assert _value(queued, "microcred_jobs", "microcred_jobs", status="running") == 0
        assert _value(queued, "microcred_job_rows_remaining", "microcred_job_rows_remaining") == 5
        assert _value(queued, "microcred_jobs_oldest_age_seconds", "microcred_jobs_oldest_age_seconds") >= 0
        for status in ("pending", "failed"):
            assert _value(queued, "microcred_webhook_deliveries", "microcred_webhook_deliveries", status=status) == 0
        for status in ("queued", "retrying", "failed"):
            assert _value(queued, "microcred_email_deliveries", "microcred_email_deliveries", status=status) == 0


@pytest.mark.asyncio
class TestDatabaseOutOfReach:
    async def test_the_counted_metrics_still_go_out_and_say_the_database_is_down(self, tmp_path: Path) -> None:
        with refused_port() as port:
            settings = Settings(
                database_url=f"postgresql://postgres@127.0.0.1:{port}/microcred", base_url="https://badges.example.org",
                keys_dir=tmp_path / "keys", data_dir=tmp_path, key_passphrase=SecretStr("out-of-reach-passphrase"),
            )
            app = create_app(settings, migrate=False)
            async with _closing(app.state.runtime), _client(app, "127.0.0.1") as local:
                assert (await local.get("/healthz")).status_code == 200
                families = await _scrape(local)
        assert _value(families, "microcred_database_up", "microcred_database_up") == 0
        assert "microcred_jobs" not in families  # no backlog rather than a made-up one
        assert _value(families, "microcred_http_request_duration_seconds", "microcred_http_request_duration_seconds_count", method="GET", route="/healthz", status="2xx") >= 1


def _client(app: Any, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://testserver")


@contextlib.asynccontextmanager
async def _closing(runtime: Runtime) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await runtime.close()


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.asyncio
class TestAccess:
    async def test_without_a_token_only_this_machine_may_scrape_and_not_through_a_proxy(self, settings: Settings, runtime: Runtime) -> None:
        app = create_app(settings, runtime=runtime, migrate=False)
        async with _client(app, "203.0.113.7") as outside, _client(app, "127.0.0.1") as local, _client(app, "::1") as local6:
            assert "only to this machine" in _problem(await outside.get("/metrics"), 403)["detail"]
            assert (await local.get("/metrics")).status_code == 200
            assert (await local6.get("/metrics")).status_code == 200
            for header in ({"X-Forwarded-For": "203.0.113.7"}, {"Forwarded": "for=203.0.113.7"}, {"X-Real-IP": "203.0.113.7"}):
                _problem(await local.get("/metrics", headers=header), 403)

    async def test_with_a_token_it_is_asked_of_every_client_and_opens_to_any_address(self, settings: Settings, runtime: Runtime) -> None:
        with_token = build_runtime(settings.model_copy(update={"metrics_token": SecretStr(TOKEN)}))
        app = create_app(with_token.settings, runtime=with_token, migrate=False)
        async with _closing(with_token), _client(app, "203.0.113.7") as outside, _client(app, "127.0.0.1") as local:
            refused = await local.get("/metrics")
            _problem(refused, 401)
            assert refused.headers["www-authenticate"].startswith("Bearer")
            _problem(await outside.get("/metrics", headers={"Authorization": "Bearer " + TOKEN[:-1] + "x"}), 401)
            _problem(await outside.get("/metrics", headers={"Authorization": "Basic " + TOKEN}), 401)
            assert "microcred_jobs" in await _scrape(outside, headers={"Authorization": "Bearer " + TOKEN})



class TestToken:
    def test_a_short_or_odd_token_is_refused_at_start(self) -> None:
        for token in ("short", "spaces are not in a bearer token"):
            with pytest.raises(SettingsError, match="MICROCRED_METRICS_TOKEN"):
                load_settings(key_passphrase="x" * 20, metrics_token=token)
        assert load_settings(key_passphrase="x" * 20, metrics_token=TOKEN).metrics_token.get_secret_value() == TOKEN


# -- several workers -----------------------------------------------------------------------------

_START_SECONDS = 90


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    """`microcred serve --workers 2` with JSON logs, on SQLite in ``tmp_path``; its log file."""
    env = {
        **os.environ,
        "MICROCRED_KEY_PASSPHRASE": "serve-test-passphrase",
        "MICROCRED_DATA_DIR": str(tmp_path / "data"),
        "MICROCRED_KEYS_DIR": str(tmp_path / "keys"),
        "MICROCRED_LOG_FORMAT": "json",
        "MICROCRED_RUN_JOBS": "false",
        "MICROCRED_WEBHOOK_DISPATCH": "false",
        "MICROCRED_EMAIL_DISPATCH": "false",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "serve.log"
    for _ in range(3):  # the port was free when probed; another process may take it first
        port = _port()
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "microcred", "serve", "--workers", "2", "--port", str(port)],
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        base_url = f"http://127.0.0.1:{port}"
        if _wait_for_workers(base_url, process, log):
            break
        _stop(process)
    else:
        pytest.fail(f"microcred serve did not start; its log:\n{log.read_text()[-3000:]}")
    try:
        yield base_url, log, process
    finally:
        _stop(process)


def _wait_for_workers(base_url: str, process: subprocess.Popen[bytes], log: Path) -> bool:
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        if log.read_text().count("Application startup complete") >= 2:
            try:
                if httpx.get(base_url + "/healthz", timeout=5).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(10)


class TestSeveralWorkers:
    def test_every_scrape_sums_all_workers_and_every_log_line_is_json_with_the_request_id(
        self, served: tuple[str, Path, subprocess.Popen[bytes]], tmp_path: Path
    ) -> None:
        base_url, log, process = served
        ids = []
        for n in range(20):  # a new connection each: the kernel shares them out between the workers
            answer = httpx.get(base_url + "/healthz", headers={"X-Request-ID": f"probe-{n}"}, timeout=10)
            assert answer.status_code == 200 and answer.headers["x-request-id"] == f"probe-{n}"
            ids.append(f"probe-{n}")
        counts = set()
        for _ in range(6):
            families = _families(httpx.get(base_url + "/metrics", timeout=10).text)
            counts.add(_value(families, "microcred_http_request_duration_seconds", "microcred_http_request_duration_seconds_count", method="GET", route="/healthz", status="2xx"))
        # Whichever worker answered, it counted the other's requests too (the start-up check's
        # requests to /healthz come on top of the 20).
        assert len(counts) == 1 and counts.pop() >= 20
        folder = tmp_path / "data" / "metrics" / f"{socket.gethostname()}-{base_url.rsplit(':', 1)[1]}"
        assert folder.is_dir()

        _stop(process)
        lines = [json.loads(line) for line in log.read_text().splitlines()]  # every line is one JSON object
        access = {line["request_id"]: line for line in lines if line["logger"] == "microcred.access"}
        for request_id in ids:
            assert access[request_id]["path"] == "/healthz" and access[request_id]["status"] == 200
            assert access[request_id]["route"] == "/healthz" and access[request_id]["duration_ms"] >= 0
        assert all({"time", "level", "logger", "message", "request_id"} <= line.keys() for line in lines)
        assert not folder.exists()  # removed when the service stopped
